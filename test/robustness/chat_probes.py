"""Probes 10 and 11 and the chat soak: the chat room under refusals, departures, resets and load.
Per-sender order is checked by numbering each sender's lines; chat_server labels every relayed
line with the sender's address, "[127.0.0.1:PORT] text"."""

import os
import selectors
import time

from robustness_support import (WAIT, LineClient, Server, chat_answers_promptly, check,
                                raise_fd_limit, record, reset, wait_until)

FULL_SOAK = False  # Set by robustness_test.py (--full or CORONET_SOAK_FULL=1).
SOAK_FULL_SIZE = (200, 1000)  # clients, lines per client: issue 5's figures
SOAK_CI_SIZE = (50, 200)


def join(scope, server, count):
    """`count` plain clients, each linked by the room before the next connects."""
    clients = []
    for _ in range(count):
        linked = server.count("Linked")
        clients.append(LineClient(scope, server.address))
        check(wait_until(lambda: server.count("Linked") > linked),
              "client %d was not linked\n%s" % (len(clients), server.describe()))
    return clients


# ---- 10. N+3 clients: exactly N served ---------------------------------------------------------


def probe_10_chat_refuses_past_limit(scope):
    limit = 5
    server = Server(scope, "chat_server", "--max-connections", str(limit))
    members = join(scope, server, limit)
    refused = [LineClient(scope, server.address) for _ in range(3)]
    for client in refused:
        client.expect_line("error: server full (%d connections)" % limit)
        client.expect_end()
    check(server.count("Linked") == limit,
          "%d linked, expected %d" % (server.count("Linked"), limit))

    members[0].send("exit\n")  # A slot frees when one leaves...
    members[0].expect_end()
    check(wait_until(lambda: server.count("Unlinked") == 1), "the leaver was not unlinked")
    (newcomer,) = join(scope, server, 1)  # ...and the next client is served.
    newcomer.send("I got the free slot\n")
    for member in members[1:]:
        member.expect_line_from(newcomer, "I got the free slot")

    # A burst of 200 past the limit: each is refused with the message or closed (at most 64
    # refusals are in flight), none hangs, and no fd is left behind.
    burst = [scope.connect(server.address) for _ in range(200)]
    told = closed = 0
    for sock in burst:
        sock.settimeout(WAIT)
        data = b""
        try:
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
        if data == b"error: server full (5 connections)\n":
            told += 1
        else:
            check(data == b"", "a refused client read %r" % data[:80])
            closed += 1
        scope.forget(sock)
    fds = server.wait_for_fds(server.baseline_fds + limit)
    check(fds <= server.baseline_fds + limit,
          "fds %d, expected %d" % (fds, server.baseline_fds + limit))
    record(limit=limit, linked=limit, refused_with_message=3 + told, refused_silently=closed,
           fds_after=fds, baseline_fds=server.baseline_fds)
    for client in members[1:] + [newcomer]:
        client.send("exit\n")
        client.expect_end()
    check(wait_until(lambda: server.count("Unlinked") == limit + 1), "not every member left")
    record(prompt_ms=chat_answers_promptly(scope, server))


# ---- 11. exits and resets never break the others -----------------------------------------------


class Tally:
    """What one receiver got: per sender, the next number expected, and any violation."""

    def __init__(self, own_label, senders):
        self.own = own_label
        self.expected = dict.fromkeys(senders, 0)
        self.expected.pop(own_label, None)
        self.problems = []
        self.buffer = b""
        self.lines = 0
        self.ended = False

    def feed(self, data):
        self.buffer += data
        *complete, self.buffer = self.buffer.split(b"\n")
        for line in complete:
            label, _, number = line.partition(b"] ")
            sender = label[1:]
            if sender not in self.expected:
                self.problems.append("unexpected line %r" % line[:80])
                continue
            value = int(number)
            if value != self.expected[sender]:
                self.problems.append("from %s: got %d, expected %d"
                                     % (sender.decode(), value, self.expected[sender]))
            self.expected[sender] = value + 1
            self.lines += 1


def read_until(tallies, done, timeout):
    """Reads every live client into its Tally until `done()` or `timeout`."""
    with selectors.DefaultSelector() as selector:
        for sock, tally in tallies.items():
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, tally)
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            for key, _ in selector.select(0.05):
                try:
                    chunk = key.fileobj.recv(1 << 18)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionResetError:
                    chunk = b""
                if not chunk:
                    key.data.ended = True
                    selector.unregister(key.fileobj)
                    continue
                key.data.feed(chunk)


def probe_11_chat_departures_keep_order(scope):
    server = Server(scope, "chat_server", "--max-connections", "16")
    clients = join(scope, server, 10)
    labels = [c.name.encode() for c in clients]
    leavers, resetters, survivors = clients[:2], clients[2:4], clients[4:]
    lines = 300
    for phase in (range(0, 150), range(150, lines)):
        if phase.start == 150:
            for client in leavers:
                client.send("exit\n")
            for client in resetters:
                reset(client.sock)  # With unread lines queued for it: mid-reply.
        senders = survivors if phase.start == 150 else clients
        for n in phase:
            for client in senders:
                client.send("%d\n" % n)
    tallies = {c.sock: Tally(c.name.encode(), labels) for c in survivors}
    for client in leavers:
        client.read_to_end()  # What was relayed to it before its "exit", then the end.

    def done():
        return all(t.expected[label] == lines for t in tallies.values()
                   for label in labels[4:] if label != t.own)

    read_until(tallies, done, WAIT)
    for tally in tallies.values():
        who = tally.own.decode()
        check(not tally.problems, "%s: %s" % (who, tally.problems[:5]))
        check(not tally.ended, "%s was disconnected" % who)
        for label in labels[4:]:  # Every line of every other survivor.
            if label != tally.own:
                check(tally.expected[label] == lines, "%s got %d of %s's lines"
                      % (who, tally.expected[label], label.decode()))
        for label in labels[:2]:  # Everything said before "exit" was relayed.
            check(tally.expected[label] == 150, "%s lost lines of a leaver" % who)
        for label in labels[2:4]:  # A reset sender: a prefix (checked by Tally), maybe all.
            check(tally.expected[label] <= 150, "more lines than sent from a reset client")
    check(wait_until(lambda: server.count("Unlinked") == 4), "%d unlinked, expected 4"
          % server.count("Unlinked"))
    some = next(iter(tallies.values()))
    record(survivor_lines_each=some.lines,
           reset_sender_lines_relayed=[some.expected[label] for label in labels[2:4]],
           prompt_ms=chat_answers_promptly(scope, server))


# ---- the soak ----------------------------------------------------------------------------------


def soak(scope, clients_count, lines, policy, timeout):
    """Every client sends `lines` numbered lines while all of them read continuously; returns
    the figures. Fails on a lost, duplicated, reordered or self-addressed line."""
    raise_fd_limit(clients_count + 256)
    server = Server(scope, "chat_server", "--max-connections", str(clients_count + 8),
                    "--slow-client", policy)
    socks = []
    for _ in range(clients_count):
        socks.append(scope.connect(server.address))
    check(wait_until(lambda: server.count("Linked") == clients_count, WAIT),
          "%d of %d linked" % (server.count("Linked"), clients_count))
    labels = ["127.0.0.1:%d" % s.getsockname()[1] for s in socks]
    outbound = {s: b"".join(b"%06d\n" % n for n in range(lines)) for s in socks}
    tallies = {s: Tally(l.encode(), [x.encode() for x in labels]) for s, l in zip(socks, labels)}
    expected_each = (clients_count - 1) * lines
    started = time.monotonic()
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
        pending = clients_count
        while pending and time.monotonic() - started < timeout:
            for key, events in selector.select(0.1):
                sock, tally = key.fileobj, tallies[key.fileobj]
                if events & selectors.EVENT_READ:
                    try:
                        chunk = sock.recv(1 << 18)
                    except (BlockingIOError, InterruptedError):
                        chunk = None
                    except ConnectionResetError:
                        chunk = b""
                    if chunk == b"":
                        tally.ended = True
                        selector.unregister(sock)
                        pending -= 1
                        continue
                    if chunk:
                        tally.feed(chunk)
                        if tally.lines == expected_each:
                            pending -= 1
                if events & selectors.EVENT_WRITE and outbound[sock]:
                    try:
                        sent = sock.send(outbound[sock][:4096])  # ~580 lines at most per turn
                        outbound[sock] = outbound[sock][sent:]
                    except BlockingIOError:
                        pass
                    if not outbound[sock]:
                        selector.modify(sock, selectors.EVENT_READ)
    elapsed = time.monotonic() - started
    dropped = [t.own.decode() for t in tallies.values() if t.ended]
    problems = [p for t in tallies.values() for p in t.problems]
    short = [(t.own.decode(), t.lines) for t in tallies.values() if t.lines != expected_each]
    check(not dropped, "%d clients were disconnected (policy %s), e.g. %s\n%s"
          % (len(dropped), policy, dropped[:3], server.describe()))
    check(not problems, "%d order problems, e.g. %s" % (len(problems), problems[:5]))
    check(not short, "%d clients missed lines after %.0f s, e.g. %s"
          % (len(short), elapsed, short[:3]))
    for sock in socks:
        scope.forget(sock)
    check(wait_until(lambda: server.count("Unlinked") == clients_count, WAIT),
          "%d of %d unlinked" % (server.count("Unlinked"), clients_count))
    fds = server.wait_for_fds(server.baseline_fds)
    check(fds <= server.baseline_fds,
          "fds %d after the soak, %d before" % (fds, server.baseline_fds))
    delivered = clients_count * expected_each
    return {"clients": clients_count, "lines_per_client": lines, "policy": policy,
            "lines_delivered": delivered, "seconds": round(elapsed, 2),
            "deliveries_per_s": int(delivered / elapsed),
            "rss_baseline_mib": round(server.baseline_rss / 1024, 1),
            "rss_peak_mib": round(server.peak_rss_kib() / 1024, 1), "fds_after": fds,
            "server_cpu_s": server.cpu_seconds()}


def probe_13_chat_soak(scope):
    clients_count, lines = SOAK_FULL_SIZE if FULL_SOAK else SOAK_CI_SIZE
    policy = os.environ.get("CORONET_SOAK_POLICY", "wait")
    figures = soak(scope, clients_count, lines, policy, timeout=900 if FULL_SOAK else 120)
    record(**figures)
