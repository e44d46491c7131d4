"""Helpers of the black-box scenario scripts (test_samples.py and its siblings): sample programs
as processes whose output lines can be awaited, plain-socket line clients, a Scope that cleans
up whatever a scenario started, and the command line every script shares (run_scenario_script).
Standard library only; every wait is bounded by WAIT."""

import argparse
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

WAIT = 10.0  # Upper bound of any single wait; passing runs take a fraction of it.
BIN = {}  # "chat_server" / "chat_client" / "echo_server" -> path, from the command line.


class Failure(Exception):
    pass


class Skipped(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


# ---- processes ---------------------------------------------------------------------------------


class Process:
    """A started program. Two threads collect its stdout and stderr line by line."""

    def __init__(self, scope, name, args, stdin=None):
        self.name = name
        self.popen = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL if stdin is None else stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        scope.processes.append(self)
        self.lines = queue.Queue()  # stdout lines not yet consumed by expect(); None = end
        self.stdout = []  # every stdout line (bytes, without the newline)
        self.stderr = []
        self.pumps = [
            threading.Thread(target=self._pump, args=(self.popen.stdout, self.stdout, True)),
            threading.Thread(target=self._pump, args=(self.popen.stderr, self.stderr, False)),
        ]
        for pump in self.pumps:
            pump.daemon = True
            pump.start()

    def _pump(self, stream, seen, to_queue):
        for raw in iter(stream.readline, b""):
            line = raw.rstrip(b"\n")
            seen.append(line)
            if to_queue:
                self.lines.put(line)
        if to_queue:
            self.lines.put(None)

    def describe(self):
        def text(lines):
            return "\n    ".join(l.decode("utf-8", "replace") for l in lines) or "(nothing)"

        return "%s stdout:\n    %s\n  %s stderr:\n    %s" % (
            self.name, text(self.stdout), self.name, text(self.stderr))

    def expect(self, pattern, timeout=WAIT):
        """The next stdout line matching `pattern` (earlier lines are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(remaining, 0))
            except queue.Empty:
                raise Failure("%s printed no line matching %r within %.1f s\n  %s"
                              % (self.name, pattern, timeout, self.describe()))
            if line is None:
                self.lines.put(None)
                raise Failure("%s closed its stdout before a line matching %r\n  %s"
                              % (self.name, pattern, self.describe()))
            match = re.search(pattern, line.decode("utf-8", "surrogateescape"))
            if match:
                return match

    def send(self, data):
        self.popen.stdin.write(data.encode() if isinstance(data, str) else data)
        self.popen.stdin.flush()

    def close_stdin(self):
        self.popen.stdin.close()

    def wait(self, timeout=WAIT):
        """The exit code; fails if the program is still running after `timeout`."""
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure("%s still running after %.1f s\n  %s"
                          % (self.name, timeout, self.describe()))
        for pump in self.pumps:
            pump.join(timeout=2)
        return code

    def expect_exit(self, expected, timeout=WAIT):
        code = self.wait(timeout)
        check(code == expected, "%s exited with %s, expected %s\n  %s"
              % (self.name, code, expected, self.describe()))

    def signal(self, number):
        self.popen.send_signal(number)

    def stderr_text(self):
        return b"\n".join(self.stderr).decode("utf-8", "replace")

    def stdout_text(self):
        return b"\n".join(self.stdout).decode("utf-8", "replace")

    def kill(self):
        if self.popen.poll() is None:
            self.popen.kill()
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream:
                try:
                    stream.close()
                except OSError:
                    pass


class Scope:
    """What one scenario started: killed, closed and removed on the way out, whatever happens."""

    def __init__(self):
        self.processes = []
        self.sockets = []
        self.clients = []  # LineClients, for stop_server()
        self.directories = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for sock in self.sockets:
            sock.close()
        for process in self.processes:
            process.kill()
        for directory in self.directories:
            shutil.rmtree(directory, ignore_errors=True)
        return False

    def temp_dir(self):
        directory = tempfile.mkdtemp(prefix="coronet-samples-")
        self.directories.append(directory)
        return directory

    def run(self, args, timeout=WAIT, stdin=None):
        """Runs a short-lived program to its end: (exit code, stdout, stderr)."""
        process = Process(self, os.path.basename(args[0]), args, stdin)
        code = process.wait(timeout)
        return code, process.stdout_text(), process.stderr_text()


def start_server(scope, binary, *args):
    """Starts a sample server; returns it and its address: (host, port), or a Unix path."""
    if "--unix" not in args:
        args = ("--port", "0") + args
    server = Process(scope, binary, [BIN[binary], *args])
    listening = server.expect(r"^listening on (.+)$").group(1)
    if listening.startswith("unix:"):
        return server, listening[len("unix:"):]
    host, port = listening.rsplit(":", 1)
    return server, (host, int(port))


def stop_server(server, scope, timeout=WAIT):
    """SIGTERM, then a graceful exit with code 0. The scenario's plain clients behave like real
    ones: they read until the server closes, then close (the server waits for that, up to its
    drain timeout, so that its last bytes are not lost to a reset)."""
    server.signal(signal.SIGTERM)
    for client in scope.clients:
        client.finish()
    server.expect_exit(0, timeout)


def chat_client(scope, address, stdin=subprocess.PIPE, name="chat_client"):
    if isinstance(address, str):
        target = ["--unix", address]
    else:
        target = ["--host", address[0], "--port", str(address[1])]
    return Process(scope, name, [BIN["chat_client"], *target], stdin)


def free_port():
    """A port where nothing listens (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---- a line client on a plain socket -----------------------------------------------------------


class LineClient:
    """A chat or echo client made of a plain socket: what nc or a Python script would do."""

    def __init__(self, scope, address=None, sock=None):
        """Connects to `address`, or wraps the connected socket `sock`."""
        if sock is None:
            family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            scope.sockets.append(sock)
            sock.settimeout(WAIT)
            sock.connect(address)
        self.sock = sock
        self.buffer = b""
        scope.clients.append(self)

    def finish(self, timeout=WAIT):
        """Reads (and drops) whatever is left until the server closes, then closes."""
        if self.sock.fileno() < 0:
            return
        try:
            while self.read_line(timeout) is not None:
                pass
        except ConnectionResetError:
            pass
        self.sock.close()

    @property
    def port(self):
        return self.sock.getsockname()[1]

    @property
    def name(self):
        """How chat_server labels this client's lines."""
        return "127.0.0.1:%d" % self.port

    def send_line(self, line):
        self.sock.sendall((line.encode() if isinstance(line, str) else line) + b"\n")

    def read_line(self, timeout=WAIT):
        """The next line (bytes, no newline); None at the end of the stream."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Failure("no line within %.1f s (buffered %r)" % (timeout, self.buffer[:200]))
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
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
        check(line == expected, "expected line %r, got %r" % (expected, line))

    def expect_silence(self, duration=0.3):
        """Nothing arrives for `duration` seconds."""
        self.sock.settimeout(duration)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            chunk = None
        check(chunk is None and not self.buffer,
              "expected nothing, got %r" % ((self.buffer + (chunk or b""))[:200],))

    def expect_end(self, timeout=WAIT):
        """The server closes the connection (after any lines still buffered)."""
        line = self.read_line(timeout)
        check(line is None, "expected the end of the stream, got line %r" % (line,))


def linked_pattern(client):
    return r"^Linked @ Addr \('127\.0\.0\.1', %d\)$" % client.port


def join_chat(scope, server, address, count):
    """Connects `count` plain clients and waits until the server has linked each one."""
    clients = []
    for _ in range(count):
        client = LineClient(scope, address)
        server.expect(linked_pattern(client))
        clients.append(client)
    return clients


SKIP = 77  # The exit status ctest's SKIP_RETURN_CODE counts as skipped.


def run_scenario_script(doc, scenarios, binaries, optional=(), add_options=None, prepare=None,
                        scope_type=None):
    """The command line every scenario script shares, returning its exit status:

        SCRIPT --list                                   the scenario names, one per line
        SCRIPT --BINARY PATH ... --run SCENARIO         0 passed, 1 failed, 77 skipped

    `binaries` are the built programs the scenarios need ("chat-server", ...) and `optional`
    those they can do without; their paths go into BIN ("chat_server", ...). `add_options`
    adds a script's own options to the parser; `prepare(args)` runs before the scenario and
    raises Skipped when a tool or library is missing. `scope_type` defaults to Scope."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the scenario names")
    parser.add_argument("--run", choices=sorted(scenarios), help="the scenario to run")
    for binary in (*binaries, *optional):
        parser.add_argument("--" + binary, help="path of the built " + binary.replace("-", "_"))
    if add_options:
        add_options(parser)
    args = parser.parse_args()
    if args.list:
        print("\n".join(scenarios))
        return 0
    paths = {binary.replace("-", "_"): getattr(args, binary.replace("-", "_")) or ""
             for binary in (*binaries, *optional)}
    if not args.run or not all(paths[binary.replace("-", "_")] for binary in binaries):
        parser.error("--run needs " + ", ".join("--" + binary for binary in binaries))
    BIN.update(paths)
    started = time.monotonic()
    try:
        if prepare:
            prepare(args)
        with (scope_type or Scope)() as scope:
            scenarios[args.run](scope)
    except Skipped as skipped:
        print("SKIPPED %s: %s" % (args.run, skipped))
        return SKIP
    except Failure as failure:
        print("FAILED %s: %s" % (args.run, failure))
        return 1
    print("passed %s in %.2f s" % (args.run, time.monotonic() - started))
    return 0
