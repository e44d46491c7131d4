"""Helpers of robustness_test.py: sample servers as measured processes (RSS, open fds, liveness),
plain-socket clients, and a Scope that kills, closes and reports whatever a probe started.
Standard library only. Every wait is bounded."""

import json
import os
import re
import resource
import selectors
import signal
import socket
import struct
import subprocess
import threading
import time

WAIT = 10.0  # Upper bound of any single wait; passing runs take a fraction of it.
PROMPT = 1.0  # A normal client must be answered within this, whatever a probe is doing.
BIN = {}  # "chat_server" / "echo_server" / "udp_echo_server" -> path, from the command line.
FIGURES = {}  # What a probe measured, printed as one JSON line at its end.


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def record(**figures):
    FIGURES.update(figures)


def raise_fd_limit(wanted):
    """Raises this process's soft RLIMIT_NOFILE (servers started afterwards inherit it) towards
    `wanted`; returns the fds now available, at most `wanted`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return wanted if soft == resource.RLIM_INFINITY else min(soft, wanted)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def wait_until(predicate, timeout=WAIT, interval=0.005):
    """Polls `predicate` until it is true or `timeout` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# ---- the server under attack -------------------------------------------------------------------


class Server:
    """A sample server started with --port 0. Threads drain its stdout and stderr (a server
    blocked on a full pipe would look like a hang); the address comes from "listening on"."""

    def __init__(self, scope, binary, *args, wrapper=()):
        """Starts BIN[binary] with `args` (and --port 0 unless a port or a Unix path is given),
        under `wrapper` if any (e.g. valgrind's command line)."""
        self.name = binary
        port = () if "--unix" in args or "--port" in args else ("--port", "0")
        env = dict(os.environ)
        if "ASAN_OPTIONS" in env:
            # ASan keeps freed memory in a 256 MB quarantine by default, so RSS would measure
            # ASan, not the server: keep it small.
            env["ASAN_OPTIONS"] += ":quarantine_size_mb=8"
        self.popen = subprocess.Popen([*wrapper, BIN[binary], *port, *args], env=env,
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)
        scope.servers.append(self)
        self.pid = self.popen.pid
        self.lock = threading.Lock()
        self.stdout_tail, self.stderr_tail = [], []
        self.counts = {"Linked": 0, "Unlinked": 0}
        self.listening = threading.Event()
        self.address = None
        self.pumps = [threading.Thread(target=self._pump, args=(self.popen.stdout, True)),
                      threading.Thread(target=self._pump, args=(self.popen.stderr, False))]
        for pump in self.pumps:
            pump.daemon = True
            pump.start()
        check(self.listening.wait(WAIT), "%s printed no 'listening on' line\n%s"
              % (binary, self.describe()))
        self.baseline_rss = self.rss_kib()
        self.baseline_fds = self.fd_count()

    def _pump(self, stream, is_stdout):
        tail = self.stdout_tail if is_stdout else self.stderr_tail
        for raw in iter(stream.readline, b""):
            line = raw.rstrip(b"\n").decode("utf-8", "replace")
            with self.lock:
                tail.append(line)
                del tail[:-40]
                word = line.split(" ", 1)[0]
                if word in self.counts:
                    self.counts[word] += 1
            match = re.match(r"^listening on (.+)$", line) if is_stdout else None
            if match and self.address is None:
                where = match.group(1)
                if where.startswith("unix:"):
                    self.address = where[len("unix:"):]
                else:
                    host, port = where.rsplit(":", 1)
                    self.address = (host.strip("[]"), int(port))
                self.listening.set()

    def describe(self):
        with self.lock:
            return "  %s stdout (last lines):\n    %s\n  %s stderr (last lines):\n    %s" % (
                self.name, "\n    ".join(self.stdout_tail) or "(nothing)",
                self.name, "\n    ".join(self.stderr_tail) or "(nothing)")

    def count(self, word):
        with self.lock:
            return self.counts[word]

    def alive(self):
        return self.popen.poll() is None

    def check_alive(self, context):
        check(self.alive(), "%s died (exit %s) %s\n%s"
              % (self.name, self.popen.returncode, context, self.describe()))

    def rss_kib(self):
        return self._status_kib("VmRSS")

    def peak_rss_kib(self):
        return self._status_kib("VmHWM")

    def rss_growth_mib(self):
        """Peak RSS (VmHWM) so far minus the RSS once it was listening, in MiB."""
        return round((self.peak_rss_kib() - self.baseline_rss) / 1024, 2)

    def _status_kib(self, field):
        with open("/proc/%d/status" % self.pid) as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise Failure("no %s in /proc/%d/status" % (field, self.pid))

    def cpu_seconds(self):
        """User + system CPU time the server has used so far."""
        with open("/proc/%d/stat" % self.pid) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)

    def fd_count(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def fds(self):
        """What the server's fds point at ("socket:[123]", "pipe:[456]", paths)."""
        found = []
        for fd in os.listdir("/proc/%d/fd" % self.pid):
            try:
                found.append(os.readlink("/proc/%d/fd/%s" % (self.pid, fd)))
            except OSError:
                pass  # Closed meanwhile.
        return sorted(found)

    def wait_for_fds(self, target, timeout=WAIT):
        """Waits until the server holds at most `target` fds for 0.2 s in a row (connections a
        client closed while they sat in the listen backlog are still accepted, then closed);
        returns that count, or the count at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            count = self.fd_count()
            if count <= target:
                time.sleep(0.2)
                count = max(count, self.fd_count())
                if count <= target:
                    return count
            if time.monotonic() >= deadline:
                return count
            time.sleep(0.01)

    def stop(self, timeout=WAIT):
        """SIGTERM; the server must exit 0 (under ASan a leak makes that fail). Returns the last
        lines of its stderr."""
        self.popen.send_signal(signal.SIGTERM)
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure("%s still running %.0f s after SIGTERM\n%s"
                          % (self.name, timeout, self.describe()))
        for pump in self.pumps:
            pump.join(2)
        check(code == 0, "%s exited with %s after SIGTERM\n%s" % (self.name, code, self.describe()))
        with self.lock:
            return "\n".join(self.stderr_tail)

    def kill(self):
        if self.popen.poll() is None:
            self.popen.kill()
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.popen.stdout, self.popen.stderr):
            try:
                stream.close()
            except OSError:
                pass


class Scope:
    """What one probe started: closed and killed on the way out, whatever happens."""

    def __init__(self):
        self.servers = []
        self.sockets = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:
                pass
        for server in self.servers:
            server.kill()
        return False

    def connect(self, address, timeout=WAIT, family=socket.AF_INET):
        sock = socket.socket(family, socket.SOCK_STREAM)
        self.sockets.append(sock)
        sock.settimeout(timeout)
        sock.connect(address)
        return sock

    def forget(self, sock):
        """Closes `sock` now and stops tracking it (probes that open thousands)."""
        try:
            sock.close()
        except OSError:
            pass
        try:
            self.sockets.remove(sock)
        except ValueError:
            pass


# ---- clients -----------------------------------------------------------------------------------


class LineClient:
    """A line client on a plain socket, like nc or a Python script."""

    def __init__(self, scope, address, timeout=WAIT):
        self.sock = scope.connect(address, timeout)
        self.buffer = b""
        self.name = "127.0.0.1:%d" % self.sock.getsockname()[1]  # chat_server's label for it

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def read_line(self, timeout=WAIT):
        """The next line (bytes, no newline); None at the end of the stream."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Failure("no line within %.1f s (buffered %r)" % (timeout, self.buffer[:120]))
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def expect_line(self, expected, timeout=WAIT):
        expected = expected.encode() if isinstance(expected, str) else expected
        line = self.read_line(timeout)
        check(line == expected, "expected line %r, got %r" % (expected[:120], (line or b"")[:120]
                                                               if line is not None else None))

    def expect_line_from(self, sender, text, timeout=WAIT):
        """The next chat line from `sender` (a LineClient) is `text`; lines from others (the
        normal clients a probe checks meanwhile) are skipped."""
        prefix = ("[%s] " % sender.name).encode()
        expected = prefix + (text.encode() if isinstance(text, str) else text)
        deadline = time.monotonic() + timeout
        while True:
            line = self.read_line(max(deadline - time.monotonic(), 0.01))
            if line is None or line.startswith(prefix):
                check(line == expected,
                      "expected line %r, got %r" % (expected[:120], line and line[:120]))
                return

    def expect_end(self, timeout=WAIT):
        """The server closes the connection (EOF or reset) after any lines still buffered; then
        this side closes too, as a real client would (the server waits for that)."""
        try:
            line = self.read_line(timeout)
        except ConnectionResetError:
            line = None
        self.sock.close()
        check(line is None, "expected the end of the stream, got line %r" % ((line or b"")[:120],))

    def read_to_end(self, timeout=WAIT):
        """Reads and drops lines until the server closes, then closes; returns how many."""
        count = 0
        try:
            while self.read_line(timeout) is not None:
                count += 1
        except ConnectionResetError:
            pass
        self.sock.close()
        return count


def read_exactly(sock, size, timeout=WAIT):
    deadline = time.monotonic() + timeout
    chunks, got = [], 0
    while got < size:
        remaining = deadline - time.monotonic()
        check(remaining > 0, "only %d of %d bytes within %.1f s" % (got, size, timeout))
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(min(size - got, 1 << 20))
        except socket.timeout:
            continue
        check(chunk, "the stream ended after %d of %d bytes" % (got, size))
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def reset(sock):
    """Closes with SO_LINGER 0: the kernel sends RST, unread bytes are dropped."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def echo_answers_promptly(scope, server, text="are you there?"):
    """A fresh client connects, sends a line and gets it back within PROMPT seconds (connect
    included). Returns the round trip in milliseconds."""
    started = time.monotonic()
    client = LineClient(scope, server.address, timeout=PROMPT)
    try:
        client.send(text + "\n")
        client.expect_line(text, timeout=max(PROMPT - (time.monotonic() - started), 0.01))
    except (OSError, Failure) as error:
        raise Failure("a normal client was not answered within %.1f s: %s\n%s"
                      % (PROMPT, error, server.describe()))
    elapsed = time.monotonic() - started
    scope.forget(client.sock)
    check(elapsed <= PROMPT, "a normal client waited %.2f s for its answer" % elapsed)
    return round(elapsed * 1000, 1)


def chat_answers_promptly(scope, server, text="are you there?"):
    """Two fresh chat clients: a line from one reaches the other within PROMPT seconds (both
    connects included). Needs two free slots. Returns the time in milliseconds."""
    started = time.monotonic()
    try:
        listener = LineClient(scope, server.address, timeout=PROMPT)
        # The room links a member when its handler starts: wait for both before talking.
        linked = server.count("Linked")
        talker = LineClient(scope, server.address, timeout=PROMPT)
        check(wait_until(lambda: server.count("Linked") >= linked + 1, PROMPT),
              "the second client was not linked")
        talker.send(text + "\n")
        listener.expect_line("[%s] %s" % (talker.name, text),
                             timeout=max(PROMPT - (time.monotonic() - started), 0.01))
    except (OSError, Failure) as error:
        raise Failure("normal chat clients were not served within %.1f s: %s\n%s"
                      % (PROMPT, error, server.describe()))
    elapsed = time.monotonic() - started
    for client in (listener, talker):
        scope.forget(client.sock)
    check(elapsed <= PROMPT, "normal chat clients waited %.2f s" % elapsed)
    return round(elapsed * 1000, 1)


def print_figures(probe, elapsed):
    FIGURES["seconds"] = round(elapsed, 2)
    print("figures %s %s" % (probe, json.dumps(FIGURES, sort_keys=True)))


def selector_read_all(socks, until, timeout):
    """Reads every socket in `socks` until `until()` is true or `timeout` passes; returns the
    bytes read per socket (a dict keyed by the socket)."""
    received = {sock: bytearray() for sock in socks}
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while not until() and time.monotonic() < deadline:
            for key, _ in selector.select(0.05):
                try:
                    chunk = key.fileobj.recv(1 << 16)
                except (BlockingIOError, InterruptedError):
                    continue
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                received[key.fileobj] += chunk
    return received
