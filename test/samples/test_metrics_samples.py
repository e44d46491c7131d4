#!/usr/bin/env python3
"""Black-box tests of the samples' metrics: chat_server, echo_server and udp_echo_server run with
--metrics 127.0.0.1:0, driven by plain sockets, and scraped with curl. Exact counter values
after scripted sessions, every exposition checked by `promtool check metrics` and
prometheus_client's parser, and the endpoint's answers to hostile clients.

    test_metrics_samples.py --list
    test_metrics_samples.py --chat-server BIN --echo-server BIN --udp-echo-server BIN --run SCENARIO

Debian's python3-prometheus-client is importable only by /usr/bin/python3, which ctest runs.
Loopback and port 0 only; every wait is a bounded poll; every process a scenario starts is
killed in a finally block. Exit code: 0 passed, 1 failed, 77 skipped (a tool is missing).
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # No __pycache__ in the source tree.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(HERE, "..", "tls"))
from samples_support import (BIN, WAIT, Failure, LineClient, Skipped, check, join_chat,
                             run_scenario_script, start_server, stop_server)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_LINE = 64 * 1024  # line_codec_options::max_line_length's default (docs/codecs.md).
HTTP_READ_TIMEOUT = 10  # http_default_server_options(): a request must arrive within 10 s.
PROMTOOL = shutil.which("promtool")

# ---- the metrics endpoint ----------------------------------------------------------------------


def start_with_metrics(scope, binary, *args):
    """Starts a sample with --metrics 127.0.0.1:0; returns (server, address, metrics address).
    The metrics line must come right after the listening line."""
    server, address = start_server(scope, binary, "--metrics", "127.0.0.1:0", *args)
    line = server.lines.get(timeout=WAIT)
    text = (line or b"").decode("utf-8", "replace")
    match = re.fullmatch(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", text)
    check(match, "%s: the line after 'listening on' is %r" % (binary, text))
    return server, address, ("127.0.0.1", int(match.group(1)))


def curl(metrics, path="/metrics"):
    """GET with curl: (status, headers {lower-case name: value}, body bytes)."""
    done = subprocess.run(["curl", "-sS", "-i", "--max-time", "5",
                           "http://%s:%d%s" % (metrics[0], metrics[1], path)],
                          capture_output=True, timeout=WAIT)
    check(done.returncode == 0, "curl %s failed (%d): %s"
          % (path, done.returncode, done.stderr.decode("utf-8", "replace")))
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


class Scrapes:
    """Scrapes one sample's metrics endpoint, counting its own connections (one per curl)."""

    def __init__(self, metrics):
        self.metrics = metrics
        self.connections = 0

    def raw(self):
        self.connections += 1
        status, headers, body = curl(self.metrics)
        check(status == 200, "GET /metrics: status %d" % status)
        check(headers.get("content-type") == CONTENT_TYPE,
              "GET /metrics: Content-Type %r" % headers.get("content-type"))
        return body

    def values(self, validate=True):
        """{(sample name, ((label, value), ...)): value}, the exposition checked by promtool
        (when `validate`) and parsed by prometheus_client."""
        from prometheus_client.parser import text_string_to_metric_families
        body = self.raw()
        if validate:
            checked = subprocess.run([PROMTOOL, "check", "metrics"], input=body,
                                     capture_output=True, timeout=WAIT)
            report = (checked.stdout + checked.stderr).decode("utf-8", "replace").strip()
            check(checked.returncode == 0 and not report,
                  "promtool check metrics (exit %d): %s\n%s"
                  % (checked.returncode, report, body.decode("utf-8", "replace")))
        samples = {}
        for family in text_string_to_metric_families(body.decode("utf-8")):
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                check(key not in samples, "sample given twice: %r" % (key,))
                samples[key] = sample.value
        return samples

    def wait_for(self, expected, timeout=WAIT):
        """Polls until every {(name, {labels}): value or predicate} holds; returns the last
        values. Fails with the mismatches when they still differ after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            values = self.values()
            wrong = []
            for (name, labels), want in expected.items():
                got = values.get((name, labels))
                good = want(got) if callable(want) else got == want
                if not good:
                    wrong.append("%s%r: got %r, expected %s"
                                 % (name, dict(labels), got, "a value that passes a check"
                                    if callable(want) else repr(want)))
            if not wrong:
                return values
            if time.monotonic() > deadline:
                raise Failure("metrics still differ after %.1f s:\n    %s"
                              % (timeout, "\n    ".join(wrong)))
            time.sleep(0.1)


def m(name, **labels):
    """A sample's key: (name, ((label, value), ...) sorted)."""
    return (name, tuple(sorted(labels.items())))


def served(name, server, **labels):
    return m(name, server=server, **labels)


def connection_metrics(server, accepted, active, closed, refused=None):
    """The expected connection counters of `server`; every closing reason not named is 0."""
    reasons = ("handler_done", "peer_closed", "reset", "idle_timeout", "read_timeout",
               "write_timeout", "slow_consumer", "protocol_error", "handler_error", "server_stop")
    expected = {served("coronet_connections_accepted_total", server): accepted,
                served("coronet_connections_active", server): active}
    for reason in reasons:
        expected[served("coronet_connections_closed_total", server, reason=reason)] = \
            closed.get(reason, 0)
    expected[served("coronet_connection_duration_seconds_count", server)] = sum(closed.values())
    for reason, count in (refused or {}).items():
        expected[served("coronet_connections_refused_total", server, reason=reason)] = count
    return expected


def wait_closed(sock, timeout):
    """Reads (and drops) until the peer closes; fails after `timeout`. Returns what was read."""
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        remaining = deadline - time.monotonic()
        check(remaining > 0, "the connection is still open after %.1f s" % timeout)
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def echo_answers_within(scope, address, limit=1.0, text="ping"):
    """A new echo client gets its line back within `limit` seconds."""
    started = time.monotonic()
    client = LineClient(scope, address)
    client.send_line(text)
    client.expect_line(text, timeout=WAIT)
    elapsed = time.monotonic() - started
    client.sock.close()
    check(elapsed < limit, "the echo server answered after %.2f s" % elapsed)
    return elapsed


# ---- scenarios ---------------------------------------------------------------------------------


def scenario_chat_session_counts_exactly(scope):
    server, address, metrics = start_with_metrics(
        scope, "chat_server", "--max-connections", "3", "--idle-timeout", "2")
    scrapes = Scrapes(metrics)
    # A fresh server: every counter at zero, the families present before any event.
    scrapes.wait_for({**connection_metrics("chat_server", 0, 0, {}, {"full": 0}),
                      m("chat_members"): 0, m("chat_lines_relayed_total"): 0})

    # Three members (the last one will say nothing and be closed by the idle timeout), and a
    # fourth connection refused at once.
    talker, leaver, silent = join_chat(scope, server, address, 3)
    refused = LineClient(scope, address)
    refused.expect_line("error: server full (3 connections)")
    refused.expect_end()
    refused.sock.close()

    lines = 0
    for i in range(3):
        talker.send_line("line %d from the talker" % i)
        leaver.expect_line("[%s] line %d from the talker" % (talker.name, i))
        lines += 1
    for i in range(2):
        leaver.send_line("line %d from the leaver" % i)
        talker.expect_line("[%s] line %d from the leaver" % (leaver.name, i))
        lines += 1
    talker.send_line(b"bad \xff\xfe line")
    reply = talker.read_line()
    check(reply.startswith(b"error: invalid UTF-8"), "invalid UTF-8 answered %r" % reply)
    talker.send_line(b"x" * (MAX_LINE + 1))
    talker.expect_line("error: frame too long (line longer than max_line_length)")
    leaver.send_line("exit")
    leaver.expect_end()
    server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % leaver.port)
    received = lines + 1  # "exit" is a message handed to the handler too.

    # The silent member is closed 2 s after it connected; the talker keeps talking meanwhile.
    deadline = time.monotonic() + WAIT
    unlinked = r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % silent.port
    while True:
        try:
            server.expect(unlinked, timeout=0.4)
            break
        except Failure:
            check(time.monotonic() < deadline, "the silent member was not closed")
        talker.send_line("still here %d" % lines)
        lines += 1
        received += 1
    check(silent.read_line() is not None, "the silent member got nothing relayed")
    silent.finish()

    values = scrapes.wait_for({
        **connection_metrics("chat_server", 3, 1, {"handler_done": 1, "idle_timeout": 1},
                             {"full": 1}),
        served("coronet_messages_received_total", "chat_server"): received,
        served("coronet_decode_errors_total", "chat_server", kind="invalid_utf8"): 1,
        served("coronet_decode_errors_total", "chat_server", kind="frame_too_long"): 1,
        served("coronet_send_queue_dropped_total", "chat_server"): 0,
        m("chat_lines_relayed_total"): lines,
        m("chat_members"): 1,
    })
    # The refusal and the two error replies are messages sent, besides the relayed lines.
    sent = values[("coronet_messages_sent_total", (("server", "chat_server"),))]
    check(sent >= lines + 3, "messages_sent %r < %d" % (sent, lines + 3))
    got = values[("coronet_bytes_received_total", (("server", "chat_server"),))]
    check(got > MAX_LINE, "bytes_received %r does not include the over-long line" % got)

    talker_port = talker.port
    talker.sock.close()
    server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % talker_port)
    scrapes.wait_for({
        **connection_metrics("chat_server", 3, 0,
                             {"handler_done": 1, "idle_timeout": 1, "peer_closed": 1},
                             {"full": 1}),
        m("chat_members"): 0,
        m("chat_lines_relayed_total"): lines,
    })

    # The endpoint's own connections, under server="metrics": one per scrape so far, and the
    # current one active.
    values = scrapes.values()
    count = scrapes.connections
    check(values.get(("coronet_connections_accepted_total", (("server", "metrics"),))) == count,
          "metrics accepted %r, expected %d" % (
              values.get(("coronet_connections_accepted_total", (("server", "metrics"),))), count))
    active = values.get(("coronet_connections_active", (("server", "metrics"),)))
    check(active is not None and active >= 1, "metrics active %r" % active)
    servers = {dict(labels).get("server") for (name, labels) in values
               if name == "coronet_connections_accepted_total"}
    check(servers == {"chat_server", "metrics"}, "server labels: %r" % servers)

    for path in ("/", "/metrics/", "/metric", "/favicon.ico", "/metricsx"):
        status, _, _ = curl(metrics, path)
        check(status == 404, "GET %s: status %d, expected 404" % (path, status))
    stop_server(server, scope)


def flood_past_slow_reader(scope, server, address):
    """A sender floods the room while one member reads nothing and another reads everything."""
    slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    scope.sockets.append(slow)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # Before connecting.
    slow.settimeout(WAIT)
    slow.connect(address)
    server.expect(r"^Linked @ Addr \('127\.0\.0\.1', %d\)$" % slow.getsockname()[1])
    sender, reader = join_chat(scope, server, address, 2)
    line = "y" * 60000
    for i in range(120):  # 7 MB: more than the 1 MiB send queue plus the socket buffers.
        sender.send_line("%d %s" % (i, line))
        reader.expect_line("[%s] %d %s" % (sender.name, i, line))
    return sender, slow, reader


def scenario_chat_slow_consumer_counted(scope):
    server, address, metrics = start_with_metrics(scope, "chat_server", "--slow-client",
                                                  "disconnect")
    sender, slow, reader = flood_past_slow_reader(scope, server, address)
    server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % slow.getsockname()[1])
    scrapes = Scrapes(metrics)
    scrapes.wait_for({
        served("coronet_connections_closed_total", "chat_server", reason="slow_consumer"): 1,
        served("coronet_connections_active", "chat_server"): 2,
        m("chat_members"): 2,
    })
    sender.send_line("after the drop")  # The others are still served.
    reader.expect_line("[%s] after the drop" % sender.name)
    stop_server(server, scope)

    server, address, metrics = start_with_metrics(scope, "chat_server", "--slow-client", "drop")
    sender, slow, reader = flood_past_slow_reader(scope, server, address)
    scrapes = Scrapes(metrics)
    scrapes.wait_for({
        served("coronet_send_queue_dropped_total", "chat_server"): lambda v: v and v > 0,
        served("coronet_connections_closed_total", "chat_server", reason="slow_consumer"): 0,
        served("coronet_connections_active", "chat_server"): 3,
        m("chat_members"): 3,
    })
    sender.send_line("after the drops")
    reader.expect_line("[%s] after the drops" % sender.name)
    slow.close()
    stop_server(server, scope)


STATS = re.compile(r"^stats: (\d+) members, ([0-9.]+) lines/s, (\d+) B/s in, (\d+) B/s out, "
                   r"(\d+) refused, (\d+) dropped$")


def next_stats(server, timeout=5.0):
    match = server.expect(r"^stats: ", timeout=timeout)
    line = match.string
    parsed = STATS.match(line)
    check(parsed, "a stats line in an unexpected form: %r" % line)
    return parsed


def scenario_chat_stats_interval_prints_summaries(scope):
    server, address = start_server(scope, "chat_server", "--stats-interval", "1",
                                   "--max-connections", "2")
    first = next_stats(server)
    check(first.group(1) == "0", "stats before any member: %r" % first.string)
    one, two = join_chat(scope, server, address, 2)
    refused = LineClient(scope, address)
    refused.expect_line("error: server full (2 connections)")
    refused.expect_end()
    refused.sock.close()
    for i in range(5):
        one.send_line("line %d" % i)
        two.expect_line("[%s] line %d" % (one.name, i))
    # Every summary printed after the joins counts two members. One printed after the refusal
    # and the lines counts the refusal and saw lines and bytes go by (stdout and the refusal
    # are not ordered, so earlier summaries may still say 0 refused); the next one too.
    for _ in range(6):
        summary = next_stats(server)
        check(summary.group(1) == "2", "expected 2 members: %r" % summary.string)
        if summary.group(5) == "1" and float(summary.group(2)) > 0 and int(summary.group(3)) > 0:
            break
    else:
        raise Failure("no summary counted the refusal and the lines:\n  " + server.describe())
    summary = next_stats(server)
    check(summary.group(1) == "2" and summary.group(5) == "1",
          "expected 2 members and 1 refused: %r" % summary.string)
    two.send_line("exit")
    two.expect_end()
    server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % two.port)
    summary = next_stats(server)
    check(summary.group(1) == "1", "expected 1 member after an exit: %r" % summary.string)
    stop_server(server, scope)


def scenario_echo_threads_sum_into_one_series(scope):
    server, address, metrics = start_with_metrics(scope, "echo_server", "--threads", "2",
                                                  "--max-connections", "100")
    # 24 connections (all on one of the two servers with odds 2^-23), driven by 4 threads at
    # once while the main thread scrapes: the totals are read while both servers write them.
    connections, lines, groups = 24, 200, 4
    clients = [LineClient(scope, address) for _ in range(connections)]
    payload = [0] * groups
    errors = []

    def drive(group):
        try:
            mine = clients[group::groups]
            for i in range(lines):
                for client in mine:
                    text = "connection %d line %d" % (client.port, i)
                    client.send_line(text)
                    payload[group] += len(text) + 1
                for client in mine:
                    client.expect_line("connection %d line %d" % (client.port, i))
        except Exception as error:  # Reported by the main thread.
            errors.append(error)

    drivers = [threading.Thread(target=drive, args=(g,), daemon=True) for g in range(groups)]
    for driver in drivers:
        driver.start()
    scrapes = Scrapes(metrics)
    key = m("coronet_messages_received_total", server="echo_server")
    seen = []
    while any(driver.is_alive() for driver in drivers) and len(seen) < 200:
        seen.append(scrapes.values(validate=False).get(key))
    for driver in drivers:
        driver.join(timeout=WAIT)
        check(not driver.is_alive(), "a client thread is still running")
    check(not errors, "a client failed: %r" % errors[:1])
    check(seen == sorted(seen) and all(v <= connections * lines for v in seen),
          "messages_received went back or over the total while scraped: %r" % seen)
    print("%d scrapes while the clients ran" % len(seen))
    scrapes.wait_for({
        **connection_metrics("echo_server", connections, connections, {}),
        served("coronet_messages_received_total", "echo_server"): connections * lines,
        served("coronet_messages_sent_total", "echo_server"): connections * lines,
        served("coronet_bytes_received_total", "echo_server"): sum(payload),
        served("coronet_bytes_sent_total", "echo_server"): sum(payload),
    })
    for client in clients:
        client.sock.close()
    values = scrapes.wait_for(connection_metrics("echo_server", connections, 0,
                                                 {"peer_closed": connections}))
    servers = {dict(labels).get("server") for (name, labels) in values
               if name == "coronet_connections_accepted_total"}
    check(servers == {"echo_server", "metrics"}, "server labels: %r" % servers)
    stop_server(server, scope)


def scenario_echo_unix_socket_counts_exactly(scope):
    path = os.path.join(scope.temp_dir(), "echo.sock")
    server, address, metrics = start_with_metrics(scope, "echo_server", "--unix", path)
    connections, lines = 3, 4
    clients = [LineClient(scope, address) for _ in range(connections)]
    payload = 0
    for number, client in enumerate(clients):
        for i in range(lines):
            text = "unix %d line %d" % (number, i)
            client.send_line(text)
            client.expect_line(text)
            payload += len(text) + 1
    clients[0].send_line(b"not \xc3 UTF-8")
    reply = clients[0].read_line()
    check(reply.startswith(b"error: invalid UTF-8"), "invalid UTF-8 answered %r" % reply)
    scrapes = Scrapes(metrics)
    scrapes.wait_for({
        **connection_metrics("echo_server", connections, connections, {}),
        served("coronet_messages_received_total", "echo_server"): connections * lines,
        # The error reply is a message sent too.
        served("coronet_messages_sent_total", "echo_server"): connections * lines + 1,
        served("coronet_decode_errors_total", "echo_server", kind="invalid_utf8"): 1,
        served("coronet_decode_errors_total", "echo_server", kind="frame_too_long"): 0,
        served("coronet_bytes_received_total", "echo_server"): payload + len(b"not \xc3 UTF-8\n"),
        served("coronet_bytes_sent_total", "echo_server"): payload + len(reply) + 1,
    })
    for client in clients:
        client.sock.close()
    scrapes.wait_for(connection_metrics("echo_server", connections, 0,
                                        {"peer_closed": connections}))
    stop_server(server, scope)


def scenario_echo_tls_handshakes_counted(scope):
    import ssl
    from tls_samples_support import make_pki
    code, usage, _ = scope.run([BIN["echo_server"], "--help"])
    if "--tls-cert" not in usage:
        raise Skipped("echo_server was built without TLS")
    pki = make_pki(scope)
    server, address, metrics = start_with_metrics(
        scope, "echo_server", "--tls-cert", os.path.join(pki, "server-chain.pem"),
        "--tls-key", os.path.join(pki, "server.key"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(os.path.join(pki, "ca.pem"))
    raw = socket.create_connection(address, timeout=WAIT)
    scope.sockets.append(raw)
    tls = context.wrap_socket(raw, server_hostname="localhost")
    scope.sockets.append(tls)
    client = LineClient(scope, sock=tls)
    client.send_line("over TLS")
    client.expect_line("over TLS")

    garbage = socket.create_connection(address, timeout=WAIT)
    scope.sockets.append(garbage)
    garbage.sendall(b"this is not a TLS ClientHello\r\n" * 10)
    wait_closed(garbage, WAIT)
    garbage.close()

    scrapes = Scrapes(metrics)
    scrapes.wait_for({
        served("coronet_tls_handshakes_total", "echo_server", result="ok"): 1,
        served("coronet_tls_handshakes_total", "echo_server", result="failed"): 1,
        served("coronet_connections_refused_total", "echo_server", reason="handshake"): 1,
        served("coronet_connections_accepted_total", "echo_server"): 1,
        served("coronet_connections_active", "echo_server"): 1,
        served("coronet_messages_received_total", "echo_server"): 1,
    })
    tls.close()
    scrapes.wait_for({served("coronet_connections_active", "echo_server"): 0,
                      served("coronet_connections_accepted_total", "echo_server"): 1})
    stop_server(server, scope)


def scenario_udp_datagrams_counted(scope):
    server, address, metrics = start_with_metrics(scope, "udp_echo_server")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    scope.sockets.append(sock)
    sock.settimeout(WAIT)
    valid = [b"one", "caf\u00e9 \u2713".encode(), b"x" * 1000]
    for datagram in valid:
        sock.sendto(datagram, address)
        reply, _ = sock.recvfrom(65536)
        check(reply == datagram, "echoed %r for %r" % (reply[:40], datagram[:40]))
    invalid = [b"bad \xff", b"\xc3\x28"]
    for datagram in invalid:
        sock.sendto(datagram, address)
    sock.sendto(b"last", address)  # Answered after the invalid ones, which got nothing.
    reply, _ = sock.recvfrom(65536)
    check(reply == b"last", "after the invalid datagrams, got %r" % reply)
    everything = valid + invalid + [b"last"]
    scrapes = Scrapes(metrics)
    scrapes.wait_for({
        served("coronet_datagrams_received_total", "udp_echo_server"): len(everything),
        served("coronet_datagrams_sent_total", "udp_echo_server"): len(valid) + 1,
        served("coronet_datagrams_rejected_total", "udp_echo_server", kind="invalid_utf8"): 2,
        served("coronet_datagrams_rejected_total", "udp_echo_server", kind="frame_too_long"): 0,
        served("coronet_bytes_received_total", "udp_echo_server"):
            sum(len(d) for d in everything),
        served("coronet_bytes_sent_total", "udp_echo_server"): sum(len(d) for d in valid) + 4,
    })
    stop_server(server, scope)


def http_exchange(scope, metrics, request, timeout=WAIT):
    """Sends `request` (the send may be cut short by the server) and reads until it closes:
    (status or None, bytes read, seconds until closed)."""
    sock = socket.create_connection(metrics, timeout=WAIT)
    scope.sockets.append(sock)
    started = time.monotonic()
    try:
        sock.sendall(request)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = wait_closed(sock, timeout)
    sock.close()
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", data)
    return (int(match.group(1)) if match else None), data, time.monotonic() - started


def ensure_fd_limit(needed):
    """Raises this process's fd limit (inherited by the servers it starts) to `needed`, within
    the hard limit; skips when the hard limit is lower."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise Skipped("the fd limit (%d) is below the %d this scenario needs" % (hard, needed))
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def scenario_metrics_endpoint_survives_hostile_clients(scope):
    ensure_fd_limit(4096)  # 1,000 idle connections on both sides, well within it.
    server, address, metrics = start_with_metrics(scope, "echo_server",
                                                  "--max-connections", "100")
    scrapes = Scrapes(metrics)
    echo_answers_within(scope, address)

    # A 1 MiB header line: 431, then the connection is closed.
    request = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n"
    status, data, _ = http_exchange(scope, metrics, request)
    check(status == 431, "a 1 MiB header line: got %r" % data[:200])
    echo_answers_within(scope, address)

    # Garbage: 400, then closed.
    status, data, _ = http_exchange(scope, metrics, b"\x16\x03\x01 garbage \xff\r\n\r\n")
    check(status == 400, "garbage: got %r" % data[:200])
    echo_answers_within(scope, address)

    # One byte a second: cut by the read timeout (10 s from the first byte), while the echo
    # server and the endpoint go on serving.
    trickler = socket.create_connection(metrics, timeout=WAIT)
    scope.sockets.append(trickler)
    closed = threading.Event()
    trickle = {"sent": 0, "started": time.monotonic(), "elapsed": None}

    def drip():
        request = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 100
        for byte in request:
            if closed.is_set():
                return
            try:
                trickler.send(bytes([byte]))
            except OSError:
                return
            trickle["sent"] += 1
            closed.wait(1.0)

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    deadline = time.monotonic() + HTTP_READ_TIMEOUT + WAIT
    trickler.settimeout(0.2)
    probes = 0
    while True:
        check(time.monotonic() < deadline, "the trickling client is still open after %.1f s"
              % (HTTP_READ_TIMEOUT + WAIT))
        try:
            chunk = trickler.recv(65536)
            if not chunk:
                break
        except socket.timeout:
            if probes < 20 and time.monotonic() - trickle["started"] > probes * 0.5:
                echo_answers_within(scope, address, text="during the trickle %d" % probes)
                probes += 1
            continue
        except ConnectionResetError:
            break
    trickle["elapsed"] = time.monotonic() - trickle["started"]
    closed.set()
    dripper.join(timeout=WAIT)
    trickler.close()
    print("the trickling client was closed after %.1f s (%d bytes); %d echo probes meanwhile"
          % (trickle["elapsed"], trickle["sent"], probes))
    check(trickle["elapsed"] > HTTP_READ_TIMEOUT - 1.5,
          "the trickling client was closed after only %.1f s (%d bytes)"
          % (trickle["elapsed"], trickle["sent"]))
    scrapes.wait_for({served("coronet_connections_closed_total", "metrics",
                             reason="read_timeout"): 1})

    # 1,000 idle connections: a scrape and the echo server still answer within 1 s.
    idle = []
    for _ in range(1000):
        sock = socket.create_connection(metrics, timeout=WAIT)
        scope.sockets.append(sock)
        idle.append(sock)
    scrapes.wait_for({served("coronet_connections_active", "metrics"): 1001}, timeout=WAIT)
    started = time.monotonic()
    scrapes.raw()
    elapsed = time.monotonic() - started
    check(elapsed < 1.0, "a scrape with 1,000 idle connections took %.2f s" % elapsed)
    echo = echo_answers_within(scope, address, text="with 1000 idle scrapers")
    print("with 1,000 idle connections: a scrape in %.3f s, an echo in %.3f s" % (elapsed, echo))
    for sock in idle:
        sock.close()
    scrapes.wait_for({served("coronet_connections_active", "metrics"): 1}, timeout=WAIT)
    stop_server(server, scope)


SCENARIOS = {name[len("scenario_"):]: function
             for name, function in sorted(globals().items()) if name.startswith("scenario_")}


def needs_metrics_tools(args):
    for tool in ("curl", "promtool"):
        if not shutil.which(tool):
            raise Skipped("%s is not installed (scripts/setup installs it)" % tool)
    try:
        import prometheus_client.parser  # noqa: F401
    except ImportError:
        raise Skipped("prometheus_client is not importable (python3-prometheus-client, "
                      "for /usr/bin/python3)")


def main():
    return run_scenario_script(__doc__, SCENARIOS,
                               ("chat-server", "echo-server", "udp-echo-server"),
                               prepare=needs_metrics_tools)



if __name__ == "__main__":
    sys.exit(main())
