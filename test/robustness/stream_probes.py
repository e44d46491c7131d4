"""Probes 1-9 and the TCP half of 12: hostile peers against echo_server (and chat_server where
the room matters) over loopback. Each probe asserts on the server process: it is alive, its RSS
and open fds stay bounded, and a normal client is answered within PROMPT seconds."""

import random
import socket
import struct
import time

from robustness_support import (PROMPT, WAIT, LineClient, Server, check, chat_answers_promptly,
                                echo_answers_promptly, raise_fd_limit, read_exactly, record,
                                reset, wait_until)

MIB = 1024 * 1024


def send_for(sock, data, seconds):
    """Sends `data` without blocking for at most `seconds`; returns the bytes the kernel took.
    A peer that applies backpressure makes this return early with a partial count."""
    sock.setblocking(False)
    sent, deadline, view = 0, time.monotonic() + seconds, memoryview(data)
    stalled_since = None
    while sent < len(data) and time.monotonic() < deadline:
        try:
            count = sock.send(view[sent:sent + MIB])
            sent += count
            stalled_since = None
        except BlockingIOError:
            stalled_since = stalled_since or time.monotonic()
            if time.monotonic() - stalled_since > 1.0:
                break  # Nothing taken for a second: the server pushes back.
            time.sleep(0.005)
    sock.setblocking(True)
    return sent


# ---- 1. a 16 MiB line --------------------------------------------------------------------------


def probe_01_long_line_16mib(scope):
    for binary in ("echo_server", "chat_server"):
        server = Server(scope, binary, "--max-connections", "8")
        if binary == "chat_server":
            attacker, witness = LineClient(scope, server.address), LineClient(scope, server.address)
            wait_until(lambda: server.count("Linked") >= 2)
        else:
            attacker = LineClient(scope, server.address)
        chunk, prompt = b"x" * MIB, []
        for i in range(16):  # 16 MiB without a newline, a normal client served meanwhile.
            attacker.send(chunk)
            if i % 4 == 3:
                prompt.append(echo_answers_promptly(scope, server) if binary == "echo_server"
                              else chat_answers_promptly(scope, server))
        attacker.send(b"\n")
        reply = attacker.read_line()
        check(reply is not None and reply.startswith(b"error: frame too long"),
              "%s answered a 16 MiB line with %r" % (binary, (reply or b"")[:80]))
        attacker.send("after the long line\n")  # The connection survives (recoverable).
        if binary == "echo_server":
            attacker.expect_line("after the long line")
        else:
            witness.expect_line_from(attacker, "after the long line")
        growth = server.rss_growth_mib()
        check(growth < 8, "%s grew by %.1f MiB while buffering a 16 MiB line" % (binary, growth))
        record(**{binary: {"rss_growth_mib": growth, "prompt_ms_max": max(prompt)}})
        server.check_alive("after a 16 MiB line")

    # The length-prefixed codec: a header announcing 1 GiB closes that connection at once,
    # before anything is buffered, and the server goes on.
    server = Server(scope, "echo_server", "--codec", "length")
    attacker = scope.connect(server.address)
    attacker.sendall(struct.pack(">I", 1 << 30) + b"x" * 65536)
    attacker.settimeout(WAIT)
    try:
        check(attacker.recv(100) == b"", "a 1 GiB header was answered")
    except ConnectionResetError:
        pass
    growth = server.rss_growth_mib()
    check(growth < 8, "a 1 GiB length header grew the server by %.1f MiB" % growth)
    normal = scope.connect(server.address)
    normal.sendall(struct.pack(">I", 2) + b"ok")
    check(read_exactly(normal, 6, PROMPT) == struct.pack(">I", 2) + b"ok", "not echoed")
    record(length_codec_1gib_header_rss_growth_mib=growth)


# ---- 2. invalid UTF-8 of every class -----------------------------------------------------------

INVALID = {  # fault class (the chat server's reason) -> samples
    "C0, C1, F5..FF": [b"\xff", b"\xc0\x80", b"\xc1\xbf", b"\xf5\x80\x80\x80", b"a\xfeb"],
    "continuation byte without a lead byte": [b"\x80", b"ok\xbf"],
    "truncated multi-byte sequence": [b"\xe4\xbd", b"\xf0\x9f\x98", b"\xe4x"],
    "overlong encoding": [b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf", b"\xe0\x9f\xbf"],
    "surrogate code point": [b"\xed\xa0\x80", b"\xed\xbf\xbf"],
    "code point above U+10FFFF": [b"\xf4\x90\x80\x80"],
}
VALID = ["\u0080 \u07ff \u0800 \ud7ff \ue000 \uffff \U00010000 \U0010ffff",
         "你好，世界", "emoji 😀🎉👍🏽", "Grüße, мир, שלום, مرحبا", "\u0000 nul is valid"]


def probe_02_invalid_utf8_every_class(scope):
    server = Server(scope, "echo_server")
    client = LineClient(scope, server.address)
    chat = Server(scope, "chat_server")
    sender, receiver = LineClient(scope, chat.address), LineClient(scope, chat.address)
    wait_until(lambda: chat.count("Linked") >= 2)
    rejected = 0
    for reason, samples in INVALID.items():
        for bad in samples:
            client.send(bad + b"\n")
            reply = client.read_line()
            check(reply is not None and reply.startswith(b"error: invalid UTF-8 (")
                  and reason.encode() in reply,
                  "echo_server answered %r with %r, expected reason %r" % (bad, reply, reason))
            sender.send(b"bad " + bad + b"\n")
            reply = sender.read_line()
            check(reply is not None and reply.startswith(b"error: invalid UTF-8 (")
                  and reason.encode() in reply,
                  "chat_server answered %r with %r, expected reason %r" % (bad, reply, reason))
            rejected += 1
    for text in VALID:  # Byte-exact round trips, through both servers.
        client.send(text.encode() + b"\n")
        client.expect_line(text.encode())
        sender.send(text.encode() + b"\n")
        receiver.expect_line(("[%s] " % sender.name).encode() + text.encode())
    record(invalid_lines_rejected=rejected, valid_lines_round_tripped=len(VALID),
           prompt_ms=echo_answers_promptly(scope, server))
    for s in (server, chat):
        s.check_alive("after invalid UTF-8")


# ---- 3. CRLF endings and NUL bytes -------------------------------------------------------------


def probe_03_crlf_and_nul(scope):
    server = Server(scope, "echo_server")
    client = LineClient(scope, server.address)
    cases = [(b"crlf\r\n", b"crlf"), (b"\r\n", b""), (b"\n", b""),
             (b"nul\x00inside\n", b"nul\x00inside"), (b"\x00\x00\x00\n", b"\x00\x00\x00"), (b"lone\rcr\n", b"lone\rcr"),
             (b"\r\rx\r\n", b"\r\rx"), ("你好\r\n".encode(), "你好".encode())]
    for sent, expected in cases:
        client.send(sent)
        client.expect_line(expected)
    # "x\r\r\n" decodes to "x\r", which no line can carry back (encode refuses a trailing '\r':
    # it would come back as "x"). The peer gets an error line and keeps its connection.
    client.send(b"two cr\r\r\n")
    reply = client.read_line()
    check(reply is not None and reply.startswith(b"error: "),
          "a line ending in CR CR LF was answered with %r" % (reply,))
    client.send(b"still here\r\n")
    client.expect_line(b"still here")

    chat = Server(scope, "chat_server")
    sender, receiver = LineClient(scope, chat.address), LineClient(scope, chat.address)
    wait_until(lambda: chat.count("Linked") >= 2)
    sender.send(b"crlf\r\nnul\x00byte\r\n")
    receiver.expect_line("[%s] crlf" % sender.name)
    receiver.expect_line(("[%s] nul\x00byte" % sender.name).encode())
    # The chat cannot relay "x\r" either: its sender is told, the others hear nothing of it.
    sender.send(b"two cr\r\r\nafter\n")
    reply = sender.read_line()
    check(reply is not None and reply.startswith(b"error: ") and reply.endswith(b"(not relayed)"),
          "chat answered a line ending in CR CR LF with %r" % (reply,))
    receiver.expect_line("[%s] after" % sender.name)
    record(cases=len(cases) + 2, prompt_ms=echo_answers_promptly(scope, server))


# ---- 4. a byte at a time; 1,000 lines in one write ---------------------------------------------


def probe_04_byte_at_a_time_and_pipelined(scope):
    server = Server(scope, "echo_server")
    client = LineClient(scope, server.address)
    client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    line = "one byte at a time, 你好 😀".encode()
    for byte in line + b"\n":  # One segment per byte.
        client.send(bytes([byte]))
        time.sleep(0.002)
    client.expect_line(line)

    burst = b"".join(b"line %d\n" % i for i in range(1000))
    started = time.monotonic()
    client.send(burst)
    for i in range(1000):
        client.expect_line(b"line %d" % i)
    record(echo_1000_lines_ms=round((time.monotonic() - started) * 1000, 1))

    chat = Server(scope, "chat_server")
    sender, receiver = LineClient(scope, chat.address), LineClient(scope, chat.address)
    wait_until(lambda: chat.count("Linked") >= 2)
    sender.send(burst)
    for i in range(1000):
        receiver.expect_line("[%s] line %d" % (sender.name, i))
    record(prompt_ms=echo_answers_promptly(scope, server))


# ---- 5. 200 abrupt resets ----------------------------------------------------------------------


def probe_05_abrupt_resets(scope):
    server = Server(scope, "echo_server")
    replies = b"".join(b"reply %06d padding padding padding\n" % i for i in range(20000))  # 0.8 MB
    for i in range(200):
        sock = scope.connect(server.address)
        if i % 2 == 0:
            sock.sendall(b"half a line, then RST")  # Mid-line.
        else:
            sock.sendall(replies)  # Mid-reply: the server is writing 0.8 MB back, unread.
            time.sleep(0.002)
        reset(sock)
        scope.forget(sock)
    fds = server.wait_for_fds(server.baseline_fds)
    check(fds <= server.baseline_fds,
          "fds: %d after 200 resets, %d before" % (fds, server.baseline_fds))
    server.check_alive("after 200 resets")
    record(baseline_fds=server.baseline_fds, fds_after=fds,
           rss_growth_mib=server.rss_growth_mib(), prompt_ms=echo_answers_promptly(scope, server))


# ---- 6. half-close -----------------------------------------------------------------------------


def probe_06_half_close(scope):
    server = Server(scope, "echo_server")
    client = LineClient(scope, server.address)
    lines = [b"first", b"second " * 1000, "第三".encode()]
    lines += [b"bulk %d " % i * 200 for i in range(200)]
    client.send(b"".join(l + b"\n" for l in lines) + b"last line without a newline")
    client.sock.shutdown(socket.SHUT_WR)
    for line in lines + [b"last line without a newline"]:
        client.expect_line(line)
    client.expect_end()

    chat = Server(scope, "chat_server")
    sender, receiver = LineClient(scope, chat.address), LineClient(scope, chat.address)
    wait_until(lambda: chat.count("Linked") >= 2)
    sender.send("said before half-closing\n")
    sender.sock.shutdown(socket.SHUT_WR)
    receiver.expect_line("[%s] said before half-closing" % sender.name)
    sender.expect_end()  # The server ends the session and closes its side too.
    record(reply_bytes=sum(len(l) + 1 for l in lines),
           prompt_ms=echo_answers_promptly(scope, server))


# ---- 7. 50 MB of lines, never read -------------------------------------------------------------


def probe_07_never_reading_client(scope):
    server = Server(scope, "echo_server")
    flooder = scope.connect(server.address)
    data = (b"%s\n" % (b"z" * 999)) * (50 * 1000)  # 50 MB of 1,000-byte lines.
    sent = send_for(flooder, data, seconds=8)
    prompt = echo_answers_promptly(scope, server)  # While the flooder is stuck.
    growth = server.rss_growth_mib()
    check(growth < 128, "echo_server grew by %.1f MiB" % growth)
    check(sent < len(data), "the server took all 50 MB without the client reading: no backpressure")
    record(echo={"bytes_taken_before_backpressure": sent, "rss_growth_mib": growth,
                 "prompt_ms": prompt})
    reset(flooder)
    scope.forget(flooder)

    # The chat room: 50 MB broadcast to a reader that keeps up and to a member that never reads
    # (disconnected when its 1 MiB queue fills: --slow-client disconnect, the default).
    chat = Server(scope, "chat_server", "--max-connections", "8")
    silent = scope.connect(chat.address)
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    flooder, reader = LineClient(scope, chat.address), LineClient(scope, chat.address)
    wait_until(lambda: chat.count("Linked") >= 3)
    flooder.sock.setblocking(False)
    reader.sock.setblocking(False)
    view, sent, received = memoryview(data), 0, 0
    prefix = len("[%s] " % flooder.name)
    expected = len(data) + prefix * 50 * 1000
    deadline = time.monotonic() + 60
    while received < expected and time.monotonic() < deadline:
        # The reader keeps up: the flooder stays at most 512 KB ahead of what it has read (a
        # flood at wire speed would make any reader "slow" and get it disconnected too).
        if sent < len(data) and sent - received * 1000 // (1000 + prefix) < 512 * 1024:
            try:
                sent += flooder.sock.send(view[sent:sent + 256 * 1024])
            except BlockingIOError:
                pass
        try:
            chunk = reader.sock.recv(1 << 20)
            check(chunk, "the reader was disconnected after %d bytes (%d sent)\n%s"
                  % (received, sent, chat.describe()))
            received += len(chunk)
        except BlockingIOError:
            time.sleep(0.001)
    check(received == expected, "the reader got %d of %d bytes" % (received, expected))
    check(wait_until(lambda: chat.count("Unlinked") >= 1), "the silent member was not dropped")
    growth = chat.rss_growth_mib()
    check(growth < 128, "chat_server grew by %.1f MiB" % growth)
    flooder.sock.setblocking(True)
    reader.sock.setblocking(True)
    record(chat={"bytes_broadcast": received, "rss_growth_mib": growth,
                 "silent_member_dropped": True, "prompt_ms": chat_answers_promptly(scope, chat)})


# ---- 8. 2,000 connections opened and closed ----------------------------------------------------


def churn(scope, server, count):
    """Opens `count` connections as fast as possible, then closes them: a third cleanly, a third
    after a line, a third with RST. Returns the largest fd count seen."""
    socks, peak = [], server.fd_count()
    for i in range(count):
        sock = socket.create_connection(server.address, timeout=WAIT)
        scope.sockets.append(sock)
        socks.append(sock)
        if i % 200 == 199:
            peak = max(peak, server.fd_count())
    peak = max(peak, server.fd_count())
    for i, sock in enumerate(socks):
        if i % 3 == 1:
            sock.sendall(b"hello\n")
        if i % 3 == 2:
            reset(sock)
        scope.forget(sock)
    return peak


def probe_08_connection_churn(scope):
    # 2,000 at once needs that many fds here and in the server (which inherits the limit).
    count = min(2000, raise_fd_limit(8192) - 100)
    server = Server(scope, "echo_server", "--max-connections", "4096")
    started = time.monotonic()
    peak = churn(scope, server, count)
    opened = time.monotonic() - started
    fds = server.wait_for_fds(server.baseline_fds)
    check(fds <= server.baseline_fds,
          "fds: %d after %d connections, %d before" % (fds, count, server.baseline_fds))
    record(connections=count,
           served={"baseline_fds": server.baseline_fds, "peak_fds": peak, "fds_after": fds,
                   "seconds": round(opened, 2), "prompt_ms": echo_answers_promptly(scope, server)})

    # Past --max-connections: all but 50 are refused (at most 64 refusals in flight).
    server = Server(scope, "echo_server", "--max-connections", "50")
    peak = churn(scope, server, count)
    fds = server.wait_for_fds(server.baseline_fds)
    check(fds <= server.baseline_fds, "fds: %d after %d refusals, %d before: %s"
          % (fds, count - 50, server.baseline_fds, server.fds()))
    record(refused={"baseline_fds": server.baseline_fds, "peak_fds": peak, "fds_after": fds,
                    "prompt_ms": echo_answers_promptly(scope, server)})


# ---- 9. slowloris ------------------------------------------------------------------------------


def probe_09_slowloris(scope):
    raise_fd_limit(4096)
    # The idle timeout cannot see a peer that sends a byte a second; --read-timeout can: it
    # counts from the first byte of a line that is still incomplete. A reaped trickler gets a
    # FIN at once; its fd is released when it closes too, or after the 5 s drain timeout.
    server = Server(scope, "echo_server", "--idle-timeout", "2", "--read-timeout", "2")
    socks = [scope.connect(server.address) for _ in range(500)]
    for sock in socks:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    held = wait_until(lambda: server.fd_count() >= server.baseline_fds + 500) and server.fd_count()
    check(held, "the server did not accept 500 connections (fds %d)" % server.fd_count())
    started, prompts, ended, released = time.monotonic(), [], {}, None
    next_byte = started
    while time.monotonic() - started < 10 and released is None:
        trickle = time.monotonic() >= next_byte
        if trickle:  # One byte per connection per second, never a newline.
            next_byte += 1.0
        for sock in socks:
            if sock in ended:
                continue
            try:
                if sock.recv(1, socket.MSG_DONTWAIT) == b"":
                    ended[sock] = time.monotonic() - started  # The server's FIN.
                    continue
            except BlockingIOError:
                pass
            except OSError:
                ended[sock] = time.monotonic() - started
                continue
            try:
                if trickle:
                    sock.send(b"s")
            except OSError:
                ended[sock] = time.monotonic() - started
        if trickle:
            prompts.append(echo_answers_promptly(scope, server))
        if server.fd_count() <= server.baseline_fds:
            released = time.monotonic() - started
            break
        time.sleep(0.1)
    check(len(ended) == len(socks), "%d of 500 tricklers still served after 10 s"
          % (len(socks) - len(ended)))
    check(released is not None, "the reaped tricklers still hold %d fds after 10 s"
          % (server.fd_count() - server.baseline_fds))
    for sock in socks:
        scope.forget(sock)
    record(baseline_fds=server.baseline_fds, fds_while_held=held, fds_after=server.fd_count(),
           first_reaped_s=round(min(ended.values()), 1),
           last_reaped_s=round(max(ended.values()), 1),
           fds_released_s=round(released, 1), prompt_ms_max=max(prompts),
           rss_growth_mib=server.rss_growth_mib())

    # The same option leaves alone a chat member who listens in silence longer than it.
    chat = Server(scope, "chat_server", "--read-timeout", "1")
    listener, talker = LineClient(scope, chat.address), LineClient(scope, chat.address)
    wait_until(lambda: chat.count("Linked") >= 2)
    time.sleep(2.2)
    talker.send("still there?\n")
    listener.expect_line_from(talker, "still there?")


# ---- 12 (TCP). 1 MB of random bytes ------------------------------------------------------------


def probe_12a_random_bytes_tcp(scope):
    rng = random.Random(12)
    noise = rng.randbytes(MIB)
    for binary, args in (("echo_server", ()), ("echo_server", ("--codec", "length")),
                         ("chat_server", ())):
        server = Server(scope, binary, *args)
        sock = scope.connect(server.address)
        try:
            sent = send_for(sock, noise, seconds=5)
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(WAIT)
            while sock.recv(1 << 20):  # Whatever comes back, until the server closes.
                pass
        except OSError:
            pass  # A reset is a fine answer to noise.
        scope.forget(sock)
        server.check_alive("after 1 MB of random bytes")
        prompt = (chat_answers_promptly(scope, server) if binary == "chat_server"
                  else echo_answers_promptly(scope, server)) if not args else None
        if args:
            normal = scope.connect(server.address)
            normal.sendall(struct.pack(">I", 2) + b"ok")
            check(read_exactly(normal, 6, PROMPT) == struct.pack(">I", 2) + b"ok", "not echoed")
            scope.forget(normal)
        record(**{"%s%s" % (binary, "".join(args)): {"bytes_sent": sent, "prompt_ms": prompt}})
        server.stop()
