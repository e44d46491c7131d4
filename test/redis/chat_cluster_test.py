#!/usr/bin/env python3
"""Black-box tests of chat_server --redis: several chat_server processes on one redis-server
the test starts, driven by plain sockets.

    chat_cluster_test.py --list
    chat_cluster_test.py --chat-server BIN --chat-client BIN --redis-server BIN --run SCENARIO

Standard library only; every wait is bounded; Redis listens on a free loopback port and is
stopped by its PID. Exit code: 0 passed, 1 failed, 77 skipped (redis-server missing).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples"))
from samples_support import (BIN, WAIT, Failure, Process, Skipped, check, free_port, join_chat,
                             run_scenario_script, start_server)

REDIS = {}


def start_redis(scope, port, *extra):
    """redis-server on 127.0.0.1:port, answering PING (within WAIT)."""
    redis = Process(scope, "redis-server",
                    [REDIS["binary"], "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", *extra])
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"*1\r\n$4\r\nPING\r\n")
                reply = probe.recv(64)
                if reply.startswith(b"+PONG") or reply.startswith(b"-NOAUTH"):
                    return redis
        except OSError:
            pass
        time.sleep(0.02)
    raise Failure("redis-server on port %d did not answer PING" % port)


def start_redis_unix(scope, path):
    """redis-server on the Unix socket `path` only (no TCP port), answering PING."""
    redis = Process(scope, "redis-server",
                    [REDIS["binary"], "--port", "0", "--unixsocket", path, "--save", "",
                     "--appendonly", "no"])
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.settimeout(1)
                probe.connect(path)
                probe.sendall(b"*1\r\n$4\r\nPING\r\n")
                if probe.recv(64).startswith(b"+PONG"):
                    return redis
        except OSError:
            pass
        time.sleep(0.02)
    raise Failure("redis-server on %s did not answer PING" % path)


def redis_command(port, *arguments):
    """One command to the test's Redis; the raw reply (bytes, read until it stops coming)."""
    request = b"*%d\r\n" % len(arguments)
    for argument in arguments:
        data = argument.encode()
        request += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as connection:
        connection.sendall(request)
        connection.settimeout(0.3)
        reply = b""
        try:
            while True:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                reply += chunk
        except socket.timeout:
            pass
    return reply


def start_instance(scope, redis_port, *args):
    """A chat_server on the backplane; returns it and its address once it is connected."""
    server, address = start_server(scope, "chat_server", "--redis", "127.0.0.1:%d" % redis_port,
                                   *args)
    server.expect(r"^backplane: connected to 127\.0\.0\.1:%d$" % redis_port)
    return server, address


# "[LABEL] SENDER.NUMBER": the sender's index is in the text because labels need not be unique
# across instances: the kernel may give two clients of one host the same source port when they
# connect to different ports (different instances), and both are then "127.0.0.1:PORT".
LINE = re.compile(rb"^\[(127\.0\.0\.1:\d+)\] (\d+)\.(\d+)$")


def collect(client, count, timeout):
    """Reads `count` lines; returns {sender index: (label, [numbers in arrival order])}."""
    by_sender = {}
    deadline = time.monotonic() + timeout
    for _ in range(count):
        line = client.read_line(max(0.1, deadline - time.monotonic()))
        check(line is not None, "%s: connection closed early" % client.name)
        match = LINE.match(line)
        check(match is not None, "%s: unexpected line %r" % (client.name, line))
        label, numbers = by_sender.setdefault(int(match.group(2)), (match.group(1).decode(), []))
        check(label == match.group(1).decode(), "%s: sender %s changed label: %r"
              % (client.name, match.group(2).decode(), line))
        numbers.append(int(match.group(3)))
    return by_sender


def scenario_three_instances_twenty_clients_fifty_lines(scope):
    """3 instances x 20 clients, 50 lines each: every line reaches each of the other 59 members
    exactly once, each sender's order kept, nothing from another room."""
    redis_port = free_port()
    start_redis(scope, redis_port)
    instances = [start_instance(scope, redis_port, "--max-connections", "25") for _ in range(3)]
    other_server, other_address = start_instance(scope, redis_port, "--room", "elsewhere")
    clients = []
    for server, address in instances:
        clients += join_chat(scope, server, address, 20)
    outsiders = join_chat(scope, other_server, other_address, 2)
    time.sleep(0.3)
    for outsider in outsiders:
        outsider.send_line("%d" % 0)

    shared = len(clients) - len({client.name for client in clients})
    if shared:
        print("note: %d clients share an IP:PORT label with a client of another instance" % shared)
    lines = 50
    for number in range(lines):
        for index, client in enumerate(clients):
            client.send_line("%d.%d" % (index, number))
    results = {}

    def read_all(index):
        try:
            results[index] = collect(clients[index], (len(clients) - 1) * lines, 30)
        except Exception as error:  # Reported below, in the main thread.
            results[index] = error

    readers = [threading.Thread(target=read_all, args=(index,)) for index in range(len(clients))]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(40)
    for index, client in enumerate(clients):
        got = results.get(index)
        check(not isinstance(got, Exception) and got is not None,
              "%s: %s" % (client.name, got))
        others = set(range(len(clients))) - {index}
        check(set(got) == others,
              "%s: senders differ: %s" % (client.name, sorted(set(got) ^ others)))
        for sender, (label, numbers) in got.items():
            check(label == clients[sender].name,
                  "%s: sender %d labelled %s, not %s" % (client.name, sender, label,
                                                        clients[sender].name))
            check(numbers == list(range(lines)),
                  "%s: lines of %s out of order or missing: %s" % (client.name, label, numbers))
        client.expect_silence(0.05)
    # The other room heard only its own member.
    outsiders[0].expect_line("[%s] 0" % outsiders[1].name)
    outsiders[1].expect_line("[%s] 0" % outsiders[0].name)
    outsiders[0].expect_silence(0.2)


def scenario_redis_killed_and_restarted(scope):
    """Redis SIGKILLed mid-run: local delivery goes on, both instances say they lost it, are
    connected again within 3 s of Redis being back, and the lines queued meanwhile arrive in
    order."""
    redis_port = free_port()
    redis = start_redis(scope, redis_port)
    (server_a, address_a), (server_b, address_b) = [start_instance(scope, redis_port)
                                                    for _ in range(2)]
    a1, a2 = join_chat(scope, server_a, address_a, 2)
    (b1,) = join_chat(scope, server_b, address_b, 1)
    time.sleep(0.2)
    a1.send_line("0")
    b1.expect_line("[%s] 0" % a1.name)
    a2.expect_line("[%s] 0" % a1.name)

    redis.kill()
    for server in (server_a, server_b):
        server.expect(r"^backplane: lost 127\.0\.0\.1:%d \(.+\)$" % redis_port)
    for number in range(1, 21):
        a1.send_line("%d" % number)
    for number in range(1, 21):  # Local delivery does not wait for Redis.
        a2.expect_line("[%s] %d" % (a1.name, number), timeout=2)
    time.sleep(0.5)

    start_redis(scope, redis_port)
    back = time.monotonic()
    for server in (server_a, server_b):
        server.expect(r"^backplane: connected to 127\.0\.0\.1:%d$" % redis_port, timeout=5)
    check(time.monotonic() - back <= 3.5, "reconnected %.2f s after Redis was back"
          % (time.monotonic() - back))
    for number in range(1, 21):
        b1.expect_line("[%s] %d" % (a1.name, number), timeout=5)
    b1.send_line("after")
    a1.expect_line("[%s] after" % b1.name)


def scenario_redis_absent_at_start_keeps_trying(scope):
    """No Redis at start: the instance says so, serves its local members, and connects once
    Redis appears."""
    redis_port = free_port()
    server, address = start_server(scope, "chat_server", "--redis", "127.0.0.1:%d" % redis_port)
    server.expect(r"^backplane: cannot reach 127\.0\.0\.1:%d \(.+\), retrying$" % redis_port)
    c1, c2 = join_chat(scope, server, address, 2)
    c1.send_line("local")
    c2.expect_line("[%s] local" % c1.name)
    start_redis(scope, redis_port)
    server.expect(r"^backplane: connected to 127\.0\.0\.1:%d$" % redis_port, timeout=5)


def scenario_password_file_and_wrong_password(scope):
    """AUTH with a password file (trailing newline ignored) and an ACL user; a wrong password
    is a fatal error naming authentication, exit status non-zero."""
    redis_port = free_port()
    start_redis(scope, redis_port, "--requirepass", "s3cret",
                "--user", "chat", "on", ">s3cret", "~*", "&*", "+@all")
    directory = scope.temp_dir()
    good = os.path.join(directory, "good")
    with open(good, "w") as out:
        out.write("s3cret\n")
    start_instance(scope, redis_port, "--redis-password-file", good, "--redis-user", "chat")
    start_instance(scope, redis_port, "--redis-password-file", good)
    bad = os.path.join(directory, "bad")
    with open(bad, "w") as out:
        out.write("wrong\n")
    code, out, err = scope.run([BIN["chat_server"], "--port", "0", "--redis",
                                "127.0.0.1:%d" % redis_port, "--redis-password-file", bad])
    check(code != 0, "a wrong password exited %d" % code)
    check(re.search(r"^backplane: error: .*authentication", err, re.M) is not None,
          "stderr does not name authentication: %r" % err)
    code, out, err = scope.run([BIN["chat_server"], "--port", "0", "--redis", "nowhere"])
    check(code == 2, "a bad --redis exited %d" % code)


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$")


def scrape(metrics_port):
    """GET /metrics; checked by promtool; returns {"name{labels}": value}."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port,
                                timeout=WAIT) as reply:
        check(reply.status == 200, "GET /metrics: status %d" % reply.status)
        body = reply.read()
    checked = subprocess.run([shutil.which("promtool"), "check", "metrics"], input=body,
                             capture_output=True, timeout=WAIT)
    report = (checked.stdout + checked.stderr).decode("utf-8", "replace").strip()
    check(checked.returncode == 0 and not report, "promtool check metrics (exit %d): %s\n%s"
          % (checked.returncode, report, body.decode("utf-8", "replace")))
    values = {}
    for line in body.decode("utf-8").splitlines():
        if line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        check(match is not None, "not a sample line: %r" % line)
        values[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return values


def start_with_metrics(scope, redis_port):
    """A chat_server on the backplane with --metrics; returns it, its address and the metrics
    port, once the backplane is connected."""
    server, address = start_server(scope, "chat_server", "--metrics", "127.0.0.1:0", "--redis",
                                   "127.0.0.1:%d" % redis_port)
    metrics = server.expect(r"^metrics on http://127\.0\.0\.1:(\d+)/metrics$")
    server.expect(r"^backplane: connected to 127\.0\.0\.1:%d$" % redis_port)
    return server, address, int(metrics.group(1))


def scenario_hub_metrics_count_lines_across_instances(scope):
    """Two instances with --metrics: after lines cross, each /metrics (accepted by promtool)
    shows exactly the lines published, received from the other instance and delivered."""
    if shutil.which("promtool") is None:
        raise Skipped("promtool not installed (scripts/setup installs it)")
    redis_port = free_port()
    start_redis(scope, redis_port)
    server_a, address_a, metrics_a = start_with_metrics(scope, redis_port)
    server_b, address_b, metrics_b = start_with_metrics(scope, redis_port)
    a1, a2 = join_chat(scope, server_a, address_a, 2)
    (b1,) = join_chat(scope, server_b, address_b, 1)
    time.sleep(0.2)
    for number in range(3):
        a1.send_line("%d" % number)
    for number in range(3):
        a2.expect_line("[%s] %d" % (a1.name, number))
        b1.expect_line("[%s] %d" % (a1.name, number))
    for number in range(2):
        b1.send_line("b%d" % number)
    for number in range(2):
        a1.expect_line("[%s] b%d" % (b1.name, number))
        a2.expect_line("[%s] b%d" % (b1.name, number))
    room = '{hub="chat_server",room="lobby"}'
    hub = '{hub="chat_server"}'
    # A: 3 published; 2 received; delivered 3 (to a2) + 2 x 2 (b1's to a1 and a2).
    # B: 2 published; 3 received; delivered 0 (b1 is alone there) + 3 (a1's to b1).
    expected = {
        metrics_a: {"published": 3, "received": 2, "delivered": 7},
        metrics_b: {"published": 2, "received": 3, "delivered": 3},
    }
    for port, counts in expected.items():
        deadline = time.monotonic() + WAIT
        while True:  # The publish queue empties once Redis confirmed the PUBLISHes.
            values = scrape(port)
            if values.get("coronet_hub_publish_queue_messages" + hub) == 0:
                break
            check(time.monotonic() < deadline, "publish queue never emptied: %r" % values)
            time.sleep(0.05)
        for name, count in counts.items():
            got = values.get("coronet_hub_messages_%s_total%s" % (name, room))
            check(got == count, "port %d: %s %r, expected %d" % (port, name, got, count))
        for name in ("dropped", "missed", "duplicate"):
            got = values.get("coronet_hub_messages_%s_total%s" % (name, room))
            check(got == 0, "port %d: %s %r, expected 0" % (port, name, got))
        check(values.get("coronet_hub_backplane_connected" + hub) == 1, "not connected")
        check(values.get("coronet_hub_backplane_reconnects_total" + hub) == 0, "reconnects")
        check(values.get("coronet_hub_publish_queue_bytes" + hub) == 0, "queue bytes")
        check(values.get("chat_lines_relayed_total") == counts["published"], "chat lines")


def scenario_unix_socket_redis(scope):
    """Two instances with --redis unix:PATH say 'backplane: connected to unix:PATH' and their
    lines cross; SIGTERM stops them (exit 0)."""
    path = os.path.join(scope.temp_dir(), "redis.sock")
    start_redis_unix(scope, path)
    instances = []
    for _ in range(2):
        server, address = start_server(scope, "chat_server", "--redis", "unix:" + path)
        server.expect(r"^backplane: connected to unix:%s$" % re.escape(path))
        instances.append((server, address))
    (a1,) = join_chat(scope, *instances[0], 1)
    (b1,) = join_chat(scope, *instances[1], 1)
    time.sleep(0.2)
    a1.send_line("from a")
    b1.expect_line("[%s] from a" % a1.name)
    b1.send_line("from b")
    a1.expect_line("[%s] from b" % b1.name)
    # SIGTERM stops an instance on the backplane too (its Redis links must not keep it alive).
    for client in (a1, b1):
        client.sock.close()  # Nothing for the server to drain.
    for server, _ in instances:
        server.signal(signal.SIGTERM)
    for server, _ in instances:
        server.expect_exit(0)


def scenario_sharded_pubsub(scope):
    """--redis-sharded: the instances subscribe with SSUBSCRIBE (Redis counts them as shard
    subscribers, none on the plain channel) and their lines cross."""
    redis_port = free_port()
    start_redis(scope, redis_port)
    instances = [start_instance(scope, redis_port, "--redis-sharded") for _ in range(2)]
    (a1,) = join_chat(scope, *instances[0], 1)
    (b1,) = join_chat(scope, *instances[1], 1)
    # Each instance subscribes to the room when its first member joins.
    deadline = time.monotonic() + WAIT
    while True:
        shard = redis_command(redis_port, "PUBSUB", "SHARDNUMSUB", "coronet:room:lobby")
        if shard.endswith(b":2\r\n"):
            break
        check(time.monotonic() < deadline, "PUBSUB SHARDNUMSUB: %r" % shard)
        time.sleep(0.05)
    plain = redis_command(redis_port, "PUBSUB", "NUMSUB", "coronet:room:lobby")
    check(plain.endswith(b":0\r\n"), "PUBSUB NUMSUB: %r" % plain)
    a1.send_line("sharded a")
    b1.expect_line("[%s] sharded a" % a1.name)
    b1.send_line("sharded b")
    a1.expect_line("[%s] sharded b" % b1.name)
    chat_help = subprocess.run([BIN["chat_server"], "--help"], capture_output=True, timeout=WAIT)
    check(b"--redis-sharded" in chat_help.stdout, "--help does not name --redis-sharded")


SCENARIOS = {
    name[len("scenario_"):]: function
    for name, function in sorted(globals().items()) if name.startswith("scenario_")
}


def add_redis_option(parser):
    parser.add_argument("--redis-server", help="path of redis-server")


def needs_redis(args):
    if not args.redis_server or not os.path.exists(args.redis_server):
        raise Skipped("no redis-server (scripts/setup installs it)")
    REDIS["binary"] = args.redis_server


def main():
    return run_scenario_script(__doc__, SCENARIOS, ("chat-server",), optional=("chat-client",),
                               add_options=add_redis_option, prepare=needs_redis)



if __name__ == "__main__":
    sys.exit(main())
