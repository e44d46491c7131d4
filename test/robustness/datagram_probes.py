"""Probe 12 (UDP): random datagrams, oversize datagrams and a flood against udp_echo_server. The
server must stay up, answer a normal datagram within PROMPT seconds, keep its memory and fds
bounded, and count what it rejected (its stop line: "N datagrams echoed, N not UTF-8, N too
long")."""

import os
import random
import re
import shutil
import socket
import tempfile
import time

from robustness_support import PROMPT, WAIT, Server, check, record

LIMIT = 65_507  # datagram_codec's max_datagram_size, the largest UDP payload over IPv4


def is_utf8(data):
    try:
        data.decode("utf-8")  # Python's decoder is strict, as coronet's (table 3-7)
        return True
    except UnicodeDecodeError:
        return False


class Peer:
    """A datagram socket talking to the server; ping() is the normal client."""

    def __init__(self, family, server_address, bind_to):
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind(bind_to)
        self.server = server_address

    def send(self, data):
        self.sock.sendto(data, self.server)

    def ping(self, text="ping ✓"):
        """A datagram answered within PROMPT seconds, sent again every 100 ms as a UDP client
        does (a datagram that meets a full receive buffer is dropped by the kernel); returns the
        time to the first answer in ms. Echoes of earlier datagrams are skipped."""
        started = time.monotonic()
        payload = ("%s %f" % (text, started)).encode()
        resend = started
        while True:
            now = time.monotonic()
            check(now - started < PROMPT, "no answer within %.1f s" % PROMPT)
            if now >= resend:
                self.send(payload)
                resend = now + 0.1
            self.sock.settimeout(max(min(resend, started + PROMPT) - now, 0.001))
            try:
                data = self.sock.recv(1 << 17)
            except socket.timeout:
                continue
            if data == payload:
                return round((time.monotonic() - started) * 1000, 1)

    def close(self):
        self.sock.close()


def stop_counts(server):
    """Stops the server; returns (echoed, not UTF-8, too long) from its last line."""
    text = server.stop()
    match = re.search(r"(\d+) datagrams echoed, (\d+) not UTF-8, (\d+) too long", text)
    check(match, "no statistics line at stop:\n%s" % text)
    return tuple(int(g) for g in match.groups())


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def probe_12b_udp_random_oversize_flood(scope):
    rng = random.Random(1212)
    server = Server(scope, "udp_echo_server")
    peer = Peer(socket.AF_INET, server.address, ("127.0.0.1", 0))
    try:
        # Random datagrams, paced by a ping every 10 so that none is lost to a full receive
        # buffer and the counts are exact.
        invalid = valid = 0
        for i in range(2000):
            data = rng.randbytes(rng.choice((0, 1, 7, 100, 1400, 9000)))
            if i % 5 == 0:
                data = bytes(b & 0x7F for b in data)  # ASCII: valid, echoed
            peer.send(data)
            valid += is_utf8(data)
            invalid += not is_utf8(data)
            if i % 10 == 9:
                peer.ping()
        # The largest datagram IPv4 carries, exactly at the limit: echoed byte for byte.
        biggest = b"x" * LIMIT
        peer.send(biggest)
        peer.sock.settimeout(WAIT)
        while True:
            echoed = peer.sock.recv(1 << 17)
            if len(echoed) == LIMIT:
                break
        check(echoed == biggest, "the 65,507-byte datagram came back altered")
        valid += 1
        # Over the limit: IPv6 loopback carries 65,527 bytes, 20 over; dropped and counted.
        oversize = 0
        if ipv6_loopback():
            server6 = Server(scope, "udp_echo_server", "--host", "::1")
            peer6 = Peer(socket.AF_INET6, server6.address, ("::1", 0))
            peer6.send(b"y" * (LIMIT + 20))
            peer6.ping()
            check(stop_counts(server6) == (1, 0, 1), "IPv6 oversize datagram not counted")
            peer6.close()
            oversize += 1

        # A flood: 200,000 datagrams from 4 sockets as fast as the kernel takes them (most are
        # dropped by the kernel when the server's receive buffer is full: UDP has no backpressure).
        flooders = [Peer(socket.AF_INET, server.address, ("127.0.0.1", 0)) for _ in range(4)]
        before_rss, before_fds = server.rss_kib(), server.fd_count()
        started, flood = time.monotonic(), 0
        for n in range(50_000):
            for flooder in flooders:
                try:
                    flooder.send(b"flood %d" % n)
                    flood += 1
                except (BlockingIOError, ConnectionRefusedError):
                    pass
        flood_seconds = time.monotonic() - started
        prompt = peer.ping("after the flood")
        check(server.fd_count() == before_fds, "fds changed during the flood")
        growth = (server.peak_rss_kib() - before_rss) / 1024  # VmHWM: the flood's peak
        check(growth < 16, "the flood grew the server by %.1f MiB" % growth)
        for flooder in flooders:
            flooder.close()
        server.check_alive("after the flood")
        echoed_total, not_utf8, too_long = stop_counts(server)
        check(not_utf8 == invalid, "not UTF-8: counted %d, sent %d" % (not_utf8, invalid))
        check(too_long == 0, "IPv4 datagrams cannot exceed the limit; %d counted" % too_long)
        record(random_datagrams=2000, random_invalid=invalid, random_valid_echoed=valid,
               at_limit_65507_echoed=True, ipv6_oversize_rejected=oversize,
               flood_sent=flood, flood_seconds=round(flood_seconds, 2),
               echoed_total=echoed_total, flood_rss_growth_mib=round(growth, 2),
               prompt_ms_after_flood=prompt)
    finally:
        peer.close()

    # Unix datagram sockets carry more than 65,507 bytes: 70 kB and 200 kB are dropped whole.
    directory = tempfile.mkdtemp(prefix="coronet-robustness-")
    try:
        path = os.path.join(directory, "echo.sock")
        server = Server(scope, "udp_echo_server", "--unix", path)
        peer = Peer(socket.AF_UNIX, path, os.path.join(directory, "peer.sock"))
        peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        for size in (LIMIT + 1, 70_000, 200_000):
            peer.send(b"z" * size)
        prompt = peer.ping()
        peer.close()
        check(stop_counts(server) == (1, 0, 3), "unix oversize datagrams not counted as too long")
        record(unix_oversize_rejected=3, unix_prompt_ms=prompt)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
