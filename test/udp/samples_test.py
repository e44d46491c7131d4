#!/usr/bin/env python3
"""Drives the UDP samples as processes, the way a user runs them.

udp_echo_server and udp_client are started with subprocess, fed through stdin and through plain
Python sockets (the SOCK_DGRAM programs coronet's users already know), and stopped with signals.
Every wait is bounded. Usage: samples_test.py --server PATH --client PATH
"""
import argparse
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SERVER = CLIENT = None
WAIT = 10  # seconds: the bound on any single step


def run_client(*args, stdin_text="", timeout=WAIT, env=None):
    return subprocess.run([CLIENT, *args], input=stdin_text.encode(), capture_output=True,
                          timeout=timeout, env=env)


class EchoServer:
    """udp_echo_server in the background; `address` is what its "listening on" line says."""

    def __init__(self, *args):
        self.process = subprocess.Popen([SERVER, *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        line = self._read_line()
        match = re.fullmatch(r"listening on (.*)", line)
        if not match:
            self.process.kill()
            raise AssertionError("unexpected first line %r; stderr: %s"
                                 % (line, self.process.stderr.read().decode()))
        self.address = match.group(1)

    def _read_line(self):
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(WAIT):
                self.process.kill()
                raise AssertionError("no 'listening on' line within %d s" % WAIT)
        return self.process.stdout.readline().decode().rstrip("\n")

    @property
    def port(self):
        return int(self.address.rsplit(":", 1)[1])

    def stop(self, signal_number=signal.SIGTERM):
        self.process.send_signal(signal_number)
        try:
            _, err = self.process.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError("server did not stop within %d s" % WAIT)
        return self.process.returncode, err.decode()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(WAIT)
        self.process.stdout.close()
        self.process.stderr.close()


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


class UdpSamplesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="coronet-udp-samples-")
        self.client_env = dict(os.environ, TMPDIR=self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def leftovers(self):
        return [n for n in os.listdir(self.tmp.name) if n.startswith("udp_client.")]

    def test_help_and_bad_options(self):
        for program in (SERVER, CLIENT):
            shown = subprocess.run([program, "--help"], capture_output=True, timeout=WAIT)
            self.assertEqual(shown.returncode, 0)
            self.assertIn(b"usage:", shown.stdout)
            self.assertIn(b"--unix PATH", shown.stdout)
            for bad, message in ((["--bogus"], b"unknown option '--bogus'"),
                                 (["--port", "x"], b"--port: expected a number"),
                                 (["--port"], b"--port needs a value"),
                                 (["--unix", "/tmp/x", "--port", "1"], b"cannot be combined")):
                refused = subprocess.run([program, *bad], capture_output=True, timeout=WAIT,
                                         stdin=subprocess.DEVNULL)
                self.assertNotEqual(refused.returncode, 0, bad)
                self.assertIn(message, refused.stderr, bad)
        refused = subprocess.run([CLIENT, "--port", "9", "--timeout", "0"], capture_output=True,
                                 timeout=WAIT)
        self.assertEqual(refused.returncode, 2)
        self.assertIn(b"--timeout: expected a number", refused.stderr)

    def test_server_picks_a_free_port_by_default_and_the_client_needs_one(self):
        # Like the TCP samples: no --port means port 0, the port is on the "listening on" line,
        # and a second server started the same way does not collide with the first.
        with EchoServer() as first, EchoServer() as second:
            self.assertRegex(first.address, r"^127\.0\.0\.1:\d+$")
            self.assertNotEqual(first.port, second.port)
            done = run_client("--port", str(second.port), stdin_text="found you\nexit\n")
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(done.stdout.decode().splitlines(), ["receive data: found you"])
        refused = run_client(stdin_text="to nowhere\n")  # No --port: no server is known.
        self.assertEqual(refused.returncode, 2)
        self.assertIn(b"--port (or --unix) is required", refused.stderr)
        self.assertIn(b"usage:", refused.stderr)

    def test_udp_echo_round_trip(self):
        with EchoServer("--port", "0") as server:
            self.assertRegex(server.address, r"^127\.0\.0\.1:\d+$")
            done = run_client("--port", str(server.port),
                              stdin_text="hello\n你好，世界 😀\n\nexit\nnever sent\n")
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(done.stdout.decode().splitlines(),
                             ["receive data: hello", "receive data: 你好，世界 😀",
                              "receive data: "])
            code, err = server.stop(signal.SIGINT)
            self.assertEqual(code, 0, err)
            self.assertIn("4 datagrams echoed", err)  # hello, the greeting, "", exit

    def test_client_refuses_to_send_a_line_that_is_not_utf8(self):
        with EchoServer("--port", "0") as server:
            done = subprocess.run([CLIENT, "--port", str(server.port)],
                                  input=b"caf\xe9\nafter\nexit\n", capture_output=True,
                                  timeout=WAIT)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(done.stdout.decode().splitlines(),
                             ["not sent: invalid UTF-8", "receive data: after"])

    def test_client_reads_a_regular_file(self):
        with EchoServer("--port", "0") as server:
            path = os.path.join(self.tmp.name, "input.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write("".join("line %d\n" % i for i in range(50)))  # No "exit": ends at EOF.
            with open(path, "rb") as stdin:
                done = subprocess.run([CLIENT, "--port", str(server.port)], stdin=stdin,
                                      capture_output=True, timeout=WAIT)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(done.stdout.decode().splitlines(),
                             ["receive data: line %d" % i for i in range(50)])

    def test_server_drops_invalid_datagrams_and_keeps_serving(self):
        with EchoServer("--port", "0") as server:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.3)
                s.sendto(b"\xff\xfe not UTF-8", ("127.0.0.1", server.port))
                with self.assertRaises(socket.timeout):
                    s.recvfrom(70000)
                s.settimeout(WAIT)
                s.sendto("still served ✓".encode(), ("127.0.0.1", server.port))
                data, sender = s.recvfrom(70000)
                self.assertEqual(data.decode(), "still served ✓")
                self.assertEqual(sender[1], server.port)
            code, err = server.stop()
            self.assertEqual(code, 0, err)
            self.assertIn("1 not UTF-8", err)

    def test_client_says_when_no_reply_comes(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
            silent.bind(("127.0.0.1", 0))  # Receives, never answers.
            start = time.monotonic()
            done = run_client("--port", str(silent.getsockname()[1]), "--timeout", "300",
                              stdin_text="anyone?\nexit\n")
            elapsed = time.monotonic() - start
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(done.stdout.decode().splitlines(),
                             ["no reply within 300 ms (UDP may lose datagrams; is the server "
                              "running?)"])
            self.assertLess(elapsed, 5)
            self.assertEqual(silent.recv(100), b"anyone?")
            self.assertEqual(silent.recv(100), b"exit")

    def test_client_says_when_nobody_listens(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        done = run_client("--port", str(closed_port), "--timeout", "2000",
                          stdin_text="hello?\nexit\n")
        self.assertEqual(done.returncode, 0, done.stderr)
        out = done.stdout.decode()
        self.assertTrue(out.startswith("no reply"), out)

    def test_busy_port_is_a_clear_error(self):
        with EchoServer("--port", "0") as server:
            second = subprocess.run([SERVER, "--port", str(server.port)], capture_output=True,
                                    timeout=WAIT)
            self.assertEqual(second.returncode, 1)
            self.assertIn(b"cannot bind udp 127.0.0.1:%d" % server.port, second.stderr)

    def test_unix_datagram_echo(self):
        path = os.path.join(self.tmp.name, "echo.sock")
        with EchoServer("--unix", path) as server:
            self.assertEqual(server.address, "unix:" + path)
            done = run_client("--unix", path, stdin_text="over unix\nexit\n", env=self.client_env)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(done.stdout.decode().splitlines(), ["receive data: over unix"])
            self.assertEqual(self.leftovers(), [])  # The client removed its own socket.

            mine = os.path.join(self.tmp.name, "python.sock")
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                s.bind(mine)
                s.settimeout(0.3)
                s.sendto(b"x" * 70000, path)  # Over 65,507 bytes: dropped, counted.
                s.sendto(b"\xc0\xaf", path)  # Overlong encoding: dropped, counted.
                with self.assertRaises(socket.timeout):
                    s.recv(100000)
                s.settimeout(WAIT)
                s.sendto(b"python says hi", path)
                data, sender = s.recvfrom(100000)
                self.assertEqual((data, sender), (b"python says hi", path))
            code, err = server.stop(signal.SIGTERM)
            self.assertEqual(code, 0, err)
            self.assertIn("1 not UTF-8, 1 too long", err)
            self.assertFalse(os.path.exists(path))  # Removed at stop.

    def test_unix_client_without_server(self):
        done = run_client("--unix", os.path.join(self.tmp.name, "nobody.sock"),
                          stdin_text="hello\n", env=self.client_env)
        self.assertEqual(done.returncode, 1)
        self.assertIn(b"cannot connect to unix:", done.stderr)
        self.assertEqual(self.leftovers(), [])

    def test_unix_client_interrupted_cleans_up(self):
        path = os.path.join(self.tmp.name, "echo.sock")
        with EchoServer("--unix", path) as server:
            client = subprocess.Popen([CLIENT, "--unix", path], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=self.client_env)
            client.stdin.write(b"first\n")
            client.stdin.flush()
            self.assertEqual(client.stdout.readline(), b"receive data: first\n")
            client.send_signal(signal.SIGINT)  # Blocked in getline.
            client.wait(WAIT)
            client.stdin.close()
            client.stdout.close()
            self.assertEqual(self.leftovers(), [])
            server.stop()

    @unittest.skipUnless(ipv6_available(), "::1 is not available here")
    def test_ipv6(self):
        with EchoServer("--host", "::1", "--port", "0") as server:
            self.assertRegex(server.address, r"^\[::1\]:\d+$")
            done = run_client("--host", "::1", "--port", str(server.port),
                              stdin_text="over IPv6\nexit\n")
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(done.stdout.decode().splitlines(), ["receive data: over IPv6"])
            code, err = server.stop()
            self.assertEqual(code, 0, err)


def main():
    global SERVER, CLIENT
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--client", required=True)
    args, rest = parser.parse_known_args()
    SERVER, CLIENT = args.server, args.client
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
