#!/usr/bin/env python3
"""Process-level tests of the stream samples: chat_server, chat_client and echo_server run as
real programs on loopback, driven by Python sockets, pipes, nc and socat.

    test_samples.py --list
    test_samples.py --chat-server BIN --chat-client BIN --echo-server BIN --run SCENARIO

ctest registers one test per scenario. Standard library only. Every wait is bounded (WAIT),
servers always listen on port 0 and announce the port on their "listening on" line, Unix
sockets live in a fresh temporary directory, and every process a scenario starts is killed and
reaped in a finally block. Exit code: 0 passed, 1 failed, 77 skipped (a tool is missing).
"""

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # No __pycache__ in the source tree.
from samples_support import (BIN, WAIT, Failure, LineClient, Process, Skipped, check, chat_client,
                             free_port, join_chat, linked_pattern, run_scenario_script,
                             start_server, stop_server)

HERE = os.path.dirname(os.path.abspath(__file__))
MINIMAL_CLIENT = os.path.join(HERE, "..", "..", "samples", "chat", "minimal_client.py")

# ---- scenarios ---------------------------------------------------------------------------------


def scenario_help_exits_0(scope):
    for binary, options in (("chat_server", ["--slow-client", "--max-connections", "--unix"]),
                            ("chat_client", ["--host", "--port", "--unix"]),
                            ("echo_server", ["--codec", "--idle-timeout", "--unix"])):
        code, out, err = scope.run([BIN[binary], "--help"])
        check(code == 0, "%s --help exited with %d: %s" % (binary, code, err))
        check(out.startswith("usage: " + binary), "%s --help printed %r" % (binary, out))
        for option in options:
            check(option in out, "%s --help does not mention %s" % (binary, option))


def scenario_bad_options_exit_nonzero(scope):
    cases = [
        (["chat_server", "--bogus"], "unknown option '--bogus'"),
        (["chat_server", "--port", "x"], "--port: expected a number from 0 to 65535, got 'x'"),
        (["chat_server", "--port", "70000"], "--port: expected a number"),
        (["chat_server", "--max-connections", "0"], "--max-connections: expected a number"),
        (["chat_server", "--slow-client", "maybe"], "--slow-client: expected wait, disconnect"),
        (["chat_server", "--unix", "/tmp/x.sock", "--port", "1"], "cannot be combined"),
        (["echo_server", "--codec", "xml"], "--codec: expected line or length"),
        (["echo_server", "--idle-timeout"], "--idle-timeout needs a value"),
        (["chat_client"], "--port (or --unix) is required"),
        (["chat_client", "--port", "0"], "--port: expected a number from 1"),
    ]
    for args, message in cases:
        code, _, err = scope.run([BIN[args[0]], *args[1:]])
        check(code == 2, "%s exited with %d, expected 2" % (" ".join(args), code))
        check(message in err and "usage:" in err,
              "%s: stderr lacks %r and the usage:\n%s" % (" ".join(args), message, err))

    # A port that is taken: a clear message and exit code 1, no "listening on".
    _, (host, port) = start_server(scope, "echo_server")
    code, out, err = scope.run([BIN["chat_server"], "--port", str(port)])
    check(code == 1, "chat_server on a busy port exited with %d" % code)
    check("cannot bind 127.0.0.1:%d" % port in err, "busy port: stderr is %r" % err)
    check("listening on" not in out, "busy port: stdout is %r" % out)


def scenario_chat_refuses_client_past_limit_and_frees_slot(scope):
    server, address = start_server(scope, "chat_server")  # Default --max-connections 3.
    clients = join_chat(scope, server, address, 3)
    refused = LineClient(scope, address)
    refused.expect_line("error: server full (3 connections)")
    refused.expect_end()

    clients[0].send_line("exit")
    clients[0].expect_end()
    server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % clients[0].port)
    newcomer = LineClient(scope, address)
    server.expect(linked_pattern(newcomer))
    newcomer.send_line("I got the free slot")
    for other in clients[1:]:
        other.expect_line("[%s] I got the free slot" % newcomer.name)
    refused_port = refused.port
    stop_server(server, scope)
    check("refused 127.0.0.1:%d: server full (3 connections)" % refused_port in server.stderr_text(),
          "the refusal is not logged:\n  " + server.describe())


def scenario_chat_exit_disconnects_only_that_client(scope):
    server, address = start_server(scope, "chat_server")
    leaver, stayer, listener = join_chat(scope, server, address, 3)
    leaver.send_line("exit")
    leaver.expect_end()
    server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % leaver.port)
    listener.expect_silence(0.2)  # "exit" is not relayed.
    stayer.send_line("still chatting")
    listener.expect_line("[%s] still chatting" % stayer.name)
    listener.send_line("me too")
    stayer.expect_line("[%s] me too" % listener.name)
    stop_server(server, scope)


def scenario_chat_idle_timeout_disconnects_a_silent_client(scope):
    server, address = start_server(scope, "chat_server", "--idle-timeout", "1")
    silent, talker = join_chat(scope, server, address, 2)
    started = time.monotonic()
    while True:  # The talker talks every 0.3 s; the other one only listens.
        talker.send_line("keeping busy")
        line = silent.read_line(timeout=3)
        if line is None:
            break
        check(line == ("[%s] keeping busy" % talker.name).encode(), "got %r" % line)
        check(time.monotonic() - started < 3, "the silent client was not disconnected")
        time.sleep(0.3)
    elapsed = time.monotonic() - started
    check(0.9 <= elapsed < 2.5, "the silent client was closed after %.1f s, not ~1 s" % elapsed)
    server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % silent.port)
    talker.send_line("still here")
    talker.expect_silence(0.2)  # Still connected: no end of stream.
    stop_server(server, scope)


def scenario_chat_broadcast_order_and_format(scope):
    server, address = start_server(scope, "chat_server")
    alice, bob, carol = join_chat(scope, server, address, 3)
    count = 200
    for i in range(count):  # Interleaved senders.
        alice.send_line("a%d" % i)
        bob.send_line("b%d" % i)
    from_alice, from_bob = [], []
    for _ in range(2 * count):
        line = carol.read_line().decode()
        match = re.fullmatch(r"\[127\.0\.0\.1:(\d+)\] (.*)", line)
        check(match, "carol got a badly formatted line %r" % line)
        sender = int(match.group(1))
        check(sender in (alice.port, bob.port), "carol got a line from port %d" % sender)
        (from_alice if sender == alice.port else from_bob).append(match.group(2))
    check(from_alice == ["a%d" % i for i in range(count)], "alice's lines out of order")
    check(from_bob == ["b%d" % i for i in range(count)], "bob's lines out of order")
    for i in range(count):  # Each gets the other's lines, in order, and never its own.
        alice.expect_line("[%s] b%d" % (bob.name, i))
        bob.expect_line("[%s] a%d" % (alice.name, i))
    alice.expect_silence(0.2)
    bob.expect_silence(0.05)
    stop_server(server, scope)


def scenario_chat_unicode_round_trips_byte_exact(scope):
    server, address = start_server(scope, "chat_server")
    sender, receiver = join_chat(scope, server, address, 2)
    texts = ["你好，世界", "emoji 😀🎉👍🏽", "Grüße, мир, שלום, مرحبا, こんにちは 🌏", "ascii only"]
    for text in texts:
        sender.send_line(text)
        receiver.expect_line(("[%s] " % sender.name).encode() + text.encode("utf-8"))
    sender.sock.sendall("windows line ending 你好\r\n".encode())  # CRLF peers work too.
    receiver.expect_line("[%s] windows line ending 你好" % sender.name)
    stop_server(server, scope)


def scenario_chat_invalid_line_gets_error_and_connection_survives(scope):
    server, address = start_server(scope, "chat_server")
    sender, receiver = join_chat(scope, server, address, 2)
    for bad in (b"bad \xff\xfe bytes", b"surrogate \xed\xa0\x80", b"cut \xe4\xbd"):
        sender.sock.sendall(bad + b"\n")
        reply = sender.read_line()
        check(reply is not None and reply.startswith(b"error: invalid UTF-8"),
              "reply to %r was %r" % (bad, reply))
        sender.send_line("fine after %d bytes" % len(bad))
        receiver.expect_line("[%s] fine after %d bytes" % (sender.name, len(bad)))
    sender.sock.sendall(b"x" * 70000 + b"\n")  # Longer than the 64 KiB line limit.
    reply = sender.read_line()
    check(reply is not None and reply.startswith(b"error: frame too long"),
          "reply to an over-long line was %r" % (reply[:100] if reply else reply,))
    sender.send_line("fine after a long line")
    receiver.expect_line("[%s] fine after a long line" % sender.name)
    receiver.expect_silence(0.1)  # Errors go to the sender only.
    stop_server(server, scope)


def flood_past_slow_reader(scope, server, address):
    """A sender floods the room while one member reads nothing and another reads everything;
    returns (sender, slow, reader, number of lines sent)."""
    slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    scope.sockets.append(slow)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # Before connecting: a small window.
    slow.settimeout(WAIT)
    slow.connect(address)
    server.expect(r"^Linked @ Addr \('127\.0\.0\.1', %d\)$" % slow.getsockname()[1])
    sender, reader = join_chat(scope, server, address, 2)
    line = "y" * 60000
    count = 120  # 7 MB: more than the 1 MiB send queue plus the kernel's socket buffers.
    for i in range(count):
        sender.send_line("%d %s" % (i, line))
        reader.expect_line("[%s] %d %s" % (sender.name, i, line))  # Never held up by `slow`.
    return sender, slow, reader, count


def scenario_chat_slow_client_disconnect_and_drop_policies(scope):
    server, address = start_server(scope, "chat_server", "--slow-client", "disconnect")
    _, slow, _, _ = flood_past_slow_reader(scope, server, address)
    server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % slow.getsockname()[1])
    stop_server(server, scope)

    server, address = start_server(scope, "chat_server", "--slow-client", "drop")
    sender, slow, reader, count = flood_past_slow_reader(scope, server, address)
    slow_client = LineClient(scope, sock=slow)  # Read lines from the raw socket now.
    indexes = []
    while True:  # What was not dropped, until the backlog is drained.
        try:
            line = slow_client.read_line(timeout=0.5)
        except Failure:
            break
        check(line is not None and line.startswith(("[%s] " % sender.name).encode()),
              "the slow reader got %r" % (line[:80] if line else line,))
        indexes.append(int(line.split(b" ")[1]))
    check(len(indexes) < count, "the drop policy dropped nothing (%d of %d)" % (len(indexes), count))
    check(indexes == sorted(indexes), "the lines that were kept are out of order")
    reader.send_line("caught up?")  # Still a member, and served again now that it reads.
    slow_client.expect_line("[%s] caught up?" % reader.name)
    slow_client.send_line("still here")
    reader.expect_line("[127.0.0.1:%d] still here" % slow.getsockname()[1])
    stop_server(server, scope)


def scenario_chat_clients_talk_through_stdin_pipes(scope):
    server, address = start_server(scope, "chat_server")
    alice = chat_client(scope, address, name="alice")
    alice_port = int(server.expect(r"^Linked @ Addr \('127\.0\.0\.1', (\d+)\)$").group(1))
    bob = chat_client(scope, address, name="bob")
    bob_port = int(server.expect(r"^Linked @ Addr \('127\.0\.0\.1', (\d+)\)$").group(1))

    alice.send("hello from alice\n")
    bob.expect(r"^receive data: \[127\.0\.0\.1:%d\] hello from alice$" % alice_port)
    bob.send("你好，世界 😀\n")
    alice.expect(r"^receive data: \[127\.0\.0\.1:%d\] 你好，世界 😀$" % bob_port)

    alice.send("exit\n")
    alice.expect_exit(0)
    server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % alice_port)
    check(not any(b"closed" in line for line in alice.stdout),
          "alice left by herself but reports otherwise:\n  " + alice.describe())

    bob.close_stdin()  # End of stdin sends "exit" too.
    bob.expect_exit(0)
    server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % bob_port)
    stop_server(server, scope)


def scenario_chat_client_exits_0_when_server_goes_away(scope):
    server, address = start_server(scope, "chat_server")
    client = chat_client(scope, address)
    server.expect(r"^Linked @ ")
    stop_server(server, scope)
    client.expect(r"^chat_client: the server closed the connection$")
    client.expect_exit(0)


def piped_chat_client(scope, address, text, name="chat_client"):
    """A chat_client whose stdin is a pipe holding `text`, then its end: printf ... | client.
    Filled before the start, so a client that exits early cannot break the writer's pipe."""
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as writer:
        writer.write(text.encode())
    try:
        return chat_client(scope, address, stdin=read_end, name=name)
    finally:
        os.close(read_end)


class ScriptedServer:
    """A TCP server for one connection, on a thread: reads everything the client sends until
    the client half-closes, waits `delay` seconds, sends `answer`, then closes (or keeps the
    connection open, with close=False). `received` holds what the client sent."""

    def __init__(self, scope, answer, delay=0.3, close=True):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        scope.sockets.append(self.listener)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(WAIT)
        self.address = self.listener.getsockname()
        self.scope, self.answer, self.delay, self.close = scope, answer, delay, close
        self.received = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        self.scope.sockets.append(conn)
        conn.settimeout(WAIT)
        data = b""
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            return
        self.received = data
        time.sleep(self.delay)
        conn.sendall(self.answer)
        if self.close:
            conn.close()

    def join(self):
        self.thread.join(WAIT)
        check(not self.thread.is_alive(), "the scripted server did not finish")


def scenario_chat_client_piped_stdin_prints_replies_after_end_of_input(scope):
    # printf 'hi\nsecond\n' | chat_client: the input ends at once, the echoes come later.
    echo, address = start_server(scope, "echo_server")
    for attempt in range(5):
        client = piped_chat_client(scope, address, "hi %d\nsecond\n" % attempt)
        client.expect(r"^receive data: hi %d$" % attempt)
        client.expect(r"^receive data: second$")
        client.expect_exit(0)
        check(not any(b"closed" in line for line in client.stdout),
              "the client reports a close it asked for:\n  " + client.describe())
    stop_server(echo, scope)

    # A server that answers only once the client's stream has ended (after a half-close, not an
    # "exit" line), and closes after its answer.
    for attempt in range(3):
        server = ScriptedServer(scope, b"answer after your input ended\n")
        client = piped_chat_client(scope, server.address, "question %d\n" % attempt)
        client.expect(r"^receive data: answer after your input ended$")
        client.expect_exit(0)
        server.join()
        check(server.received == b"question %d\n" % attempt,
              "the server received %r" % (server.received,))


def scenario_chat_client_stops_waiting_for_a_server_that_never_closes(scope):
    server = ScriptedServer(scope, b"still here\n", delay=0, close=False)
    started = time.monotonic()
    client = piped_chat_client(scope, server.address, "anyone?\n")
    client.expect(r"^receive data: still here$")
    client.expect_exit(0, timeout=WAIT)
    elapsed = time.monotonic() - started
    check(4 <= elapsed < 8, "gave up after %.1f s, not ~5 s" % elapsed)
    check("has not closed the connection 5 s after the end of the input" in client.stderr_text(),
          "no note on stderr:\n  " + client.describe())


def scenario_chat_client_refused_says_why_on_stderr_and_exits_1(scope):
    server, address = start_server(scope, "chat_server", "--max-connections", "1")
    (member,) = join_chat(scope, server, address, 1)
    for attempt in range(5):
        refused = [piped_chat_client(scope, address, "hi\n", name="piped chat_client")]
        with open(os.devnull, "rb") as empty:
            refused.append(chat_client(scope, address, stdin=empty,
                                       name="chat_client</dev/null"))
        refused.append(chat_client(scope, address, name="chat_client, stdin open"))
        for client in refused:
            client.expect_exit(1)
            check(re.search(r"^chat_client: refused by the server: server full \(1 connections?\)$",
                            client.stderr_text(), re.M),
                  "the refusal is not on stderr:\n  " + client.describe())
            check(not client.stdout, "the refusal is printed as a chat line:\n  " +
                  client.describe())
    member.expect_silence(0.1)  # Nothing a refused client typed reached the room.
    stop_server(server, scope)


def scenario_chat_client_fails_when_nothing_listens(scope):
    port = free_port()
    code, _, err = scope.run([BIN["chat_client"], "--port", str(port)], stdin=subprocess.PIPE)
    check(code == 1, "chat_client with nothing listening exited with %d" % code)
    check("cannot connect to 127.0.0.1:%d: Connection refused" % port in err, "stderr: %r" % err)
    path = os.path.join(scope.temp_dir(), "nobody.sock")
    code, _, err = scope.run([BIN["chat_client"], "--unix", path], stdin=subprocess.PIPE)
    check(code == 1, "chat_client --unix to nothing exited with %d" % code)
    check("cannot connect to unix:" + path in err, "stderr: %r" % err)


def scenario_chat_client_reads_stdin_from_regular_file(scope):
    server, address = start_server(scope, "chat_server")
    (observer,) = join_chat(scope, server, address, 1)
    script = os.path.join(scope.temp_dir(), "lines.txt")
    with open(script, "wb") as f:
        f.write(b"first line\n" + b"bad \xff line\n" + "第二行 🙂\n".encode() +
                b"last line, no newline")
    with open(script, "rb") as stdin:
        client = chat_client(scope, address, stdin=stdin)
    sender_port = int(server.expect(r"^Linked @ Addr \('127\.0\.0\.1', (\d+)\)$").group(1))
    prefix = "[127.0.0.1:%d] " % sender_port
    for text in ("first line", "第二行 🙂", "last line, no newline"):  # Not the invalid one.
        observer.expect_line(prefix + text)
    client.expect_exit(0)  # The end of the file half-closed; the server closed.
    observer.expect_silence(0.1)
    check("not sent: invalid UTF-8" in client.stderr_text(),
          "the invalid line is not reported:\n  " + client.describe())

    with open(os.devnull, "rb") as empty:  # An empty stdin: connect, say exit, leave.
        quiet = chat_client(scope, address, stdin=empty, name="chat_client</dev/null")
        quiet.expect_exit(0)
    stop_server(server, scope)


def scenario_chat_interoperates_with_nc_and_socat(scope):
    tools = [("nc -N", ["nc", "-N"]), ("nc -q1", ["nc", "-q1"]), ("socat", ["socat"])]
    missing = [name for name, argv in tools if not shutil.which(argv[0])]
    if missing:
        raise Skipped("not installed: %s (scripts/setup installs them)" % ", ".join(missing))
    server, address = start_server(scope, "chat_server")
    (observer,) = join_chat(scope, server, address, 1)
    host, port = address
    for name, argv in tools:
        if argv[0] == "socat":
            args = ["socat", "-", "TCP:%s:%d" % (host, port)]
        else:
            args = argv + [host, str(port)]
        tool = Process(scope, name, args, subprocess.PIPE)
        tool_port = int(server.expect(r"^Linked @ Addr \('127\.0\.0\.1', (\d+)\)$").group(1))
        tool.send("hello from %s, 你好\n" % name)
        observer.expect_line("[127.0.0.1:%d] hello from %s, 你好" % (tool_port, name))
        observer.send_line("hello %s" % name)
        tool.expect(r"^\[127\.0\.0\.1:%d\] hello %s$" % (observer.port, re.escape(name)))
        tool.close_stdin()  # nc -N / socat half-close; the server then closes; nc -q1 quits.
        tool.expect_exit(0)
        server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % tool_port)
    stop_server(server, scope)


def scenario_chat_minimal_python_client(scope):
    server, address = start_server(scope, "chat_server")
    (observer,) = join_chat(scope, server, address, 1)
    client = Process(scope, "minimal_client.py",
                     [sys.executable, MINIMAL_CLIENT, address[0], str(address[1])], subprocess.PIPE)
    port = int(server.expect(r"^Linked @ Addr \('127\.0\.0\.1', (\d+)\)$").group(1))
    client.send("from Python, 😀\n")
    observer.expect_line("[127.0.0.1:%d] from Python, 😀" % port)
    observer.send_line("hello Python")
    client.expect(r"^receive data: \[127\.0\.0\.1:%d\] hello Python$" % observer.port)
    client.send("exit\n")
    client.expect_exit(0)
    server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % port)
    stop_server(server, scope)


def scenario_chat_over_unix_socket(scope):
    path = os.path.join(scope.temp_dir(), "chat.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stale:
        stale.bind(path)  # A dead server's leftover socket file: it must be replaced.
    server, address = start_server(scope, "chat_server", "--unix", path)
    check(address == path, "listening on unix:%s, expected %s" % (address, path))
    first = LineClient(scope, path)
    server.expect(r"^Linked @ Addr \('unix', 1\)$")
    second = LineClient(scope, path)
    server.expect(r"^Linked @ Addr \('unix', 2\)$")
    first.send_line("over a unix socket")
    second.expect_line("[unix:1] over a unix socket")

    client = chat_client(scope, path)
    server.expect(r"^Linked @ Addr \('unix', 3\)$")
    client.send("from chat_client 你好\n")
    first.expect_line("[unix:3] from chat_client 你好")
    second.send_line("back to chat_client")
    client.expect(r"^receive data: \[unix:2\] back to chat_client$")
    first.expect_line("[unix:2] back to chat_client")
    client.send("exit\n")
    client.expect_exit(0)
    server.expect(r"^Unlinked @ Addr \('unix', 3\)$")

    if shutil.which("socat"):
        tool = Process(scope, "socat", ["socat", "-", "UNIX-CONNECT:" + path], subprocess.PIPE)
        server.expect(r"^Linked @ Addr \('unix', 4\)$")
        tool.send("from socat\n")
        first.expect_line("[unix:4] from socat")
        tool.close_stdin()
        tool.expect_exit(0)
    stop_server(server, scope)
    check(not os.path.exists(path), "the socket file is still there after the server stopped")


def scenario_echo_server_line_codec(scope):
    for mode in ((), ("--unix", os.path.join(scope.temp_dir(), "echo.sock"))):
        server, address = start_server(scope, "echo_server", "--codec", "line", *mode)
        client = LineClient(scope, address)
        for text in ("hello", "", "你好，世界 😀", "x" * 10000):
            client.send_line(text)
            client.expect_line(text)
        client.sock.sendall(b"one\ntwo\nthree\n")  # Several lines in one segment.
        for text in ("one", "two", "three"):
            client.expect_line(text)
        client.sock.sendall(b"\xc0\xaf\n")  # An overlong encoding of '/'.
        reply = client.read_line()
        check(reply is not None and reply.startswith(b"error: invalid UTF-8"), "got %r" % reply)
        client.send_line("still echoing")
        client.expect_line("still echoing")
        stop_server(server, scope)


def scenario_echo_server_threads_share_one_port(scope):
    # --threads 2: two servers on one port (SO_REUSEPORT); every client is served whichever
    # thread the kernel picks, and SIGTERM stops both.
    server, address = start_server(scope, "echo_server", "--threads", "2")
    clients = [LineClient(scope, address) for _ in range(16)]
    for number, client in enumerate(clients):
        client.send_line("client %d" % number)
    for number, client in enumerate(clients):
        client.expect_line("client %d" % number)
    stop_server(server, scope)


def read_exactly(sock, size, timeout=WAIT):
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) < size:
        remaining = deadline - time.monotonic()
        check(remaining > 0, "only %d of %d bytes within %.1f s" % (len(data), size, timeout))
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(size - len(data))
        except socket.timeout:
            continue
        check(chunk, "the stream ended after %d of %d bytes" % (len(data), size))
        data += chunk
    return data


def scenario_echo_server_length_codec(scope):
    server, address = start_server(scope, "echo_server", "--codec", "length")
    client = LineClient(scope, address)
    payloads = [b"", b"a", b"binary \x00\xff\n\r ok", "你好 😀".encode(), bytes(range(256)) * 400]
    for payload in payloads:
        client.sock.sendall(struct.pack(">I", len(payload)) + payload)
        header = read_exactly(client.sock, 4)
        (length,) = struct.unpack(">I", header)
        check(length == len(payload), "echoed length %d, sent %d" % (length, len(payload)))
        check(read_exactly(client.sock, length) == payload, "echoed payload differs")
    frame = struct.pack(">I", 5) + b"split"
    for byte in frame:  # One byte per segment: the codec reassembles.
        client.sock.sendall(bytes([byte]))
        time.sleep(0.002)
    check(read_exactly(client.sock, len(frame)) == frame, "split frame not echoed")
    client.sock.sendall(struct.pack(">I", 1 << 30))  # 1 GiB: over the 16 MiB limit.
    client.expect_end()  # Framing is lost: the server closes this connection...
    other = LineClient(scope, address)  # ...and serves others.
    other.sock.sendall(struct.pack(">I", 2) + b"ok")
    check(read_exactly(other.sock, 6) == struct.pack(">I", 2) + b"ok", "second client not served")
    stop_server(server, scope)


def scenario_sigterm_and_sigint_stop_servers_gracefully(scope):
    server, address = start_server(scope, "chat_server")
    first, second = join_chat(scope, server, address, 2)
    first.send_line("before the stop")
    second.expect_line("[%s] before the stop" % first.name)
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    first.expect_end()  # A clean end of stream, not a reset...
    second.expect_end()
    first.sock.close()  # ...and the server exits as soon as its clients have closed too.
    second.sock.close()
    server.expect_exit(0)
    elapsed = time.monotonic() - started
    check(elapsed < 3, "chat_server took %.1f s to stop" % elapsed)
    check("SIGTERM: stopping" in server.stderr_text(), "no stop message:\n  " + server.describe())

    echo, _ = start_server(scope, "echo_server")
    started = time.monotonic()
    echo.signal(signal.SIGINT)
    echo.expect_exit(0)
    elapsed = time.monotonic() - started
    check(elapsed < 3, "echo_server took %.1f s to stop" % elapsed)


SCENARIOS = {name[len("scenario_"):]: function
             for name, function in sorted(globals().items()) if name.startswith("scenario_")}


def main():
    return run_scenario_script(__doc__, SCENARIOS, ("chat-server", "chat-client", "echo-server"))



if __name__ == "__main__":
    sys.exit(main())
