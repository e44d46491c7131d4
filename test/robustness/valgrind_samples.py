#!/usr/bin/env python3
"""Valgrind memcheck on the sample servers for a short run: chat_server, echo_server (both
codecs) and udp_echo_server each run under

    valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible

while plain-socket clients exchange a few lines (valid, invalid UTF-8, over-long, a reset),
then get SIGTERM. A server passes when it exits 0: memcheck found no invalid access, no use of
uninitialised memory and no definite or possible leak. Needs a build without sanitizers.

    valgrind_samples.py --chat-server BIN --echo-server BIN --udp-echo-server BIN
"""

import argparse
import shutil
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True
from robustness_support import (BIN, Failure, LineClient, Scope, Server, check, read_exactly,
                                reset, wait_until)

VALGRIND = ["valgrind", "--error-exitcode=1", "--leak-check=full",
            "--errors-for-leak-kinds=definite,possible", "--track-fds=no", "-q"]
SLOW = 30.0  # Valgrind runs code ~20-50x slower: waits get this bound.


def chat_session(scope):
    server = Server(scope, "chat_server", wrapper=VALGRIND)
    first, second = LineClient(scope, server.address), LineClient(scope, server.address)
    check(wait_until(lambda: server.count("Linked") >= 2, SLOW), "clients not linked")
    for text in ("hello", "你好，世界 😀", "third line"):
        first.send(text + "\n")
        second.expect_line_from(first, text, SLOW)
    first.send(b"bad \xff\n")
    check((first.read_line(SLOW) or b"").startswith(b"error: invalid UTF-8"), "no UTF-8 error")
    first.send(b"x" * 70000 + b"\n")
    check((first.read_line(SLOW) or b"").startswith(b"error: frame too long"), "no length error")
    reset(second.sock)  # An abrupt departure too.
    first.send("exit\n")
    first.expect_end(SLOW)
    check(wait_until(lambda: server.count("Unlinked") >= 2, SLOW), "clients not unlinked")
    return server


def echo_session(scope, codec):
    server = Server(scope, "echo_server", "--codec", codec, wrapper=VALGRIND)
    client = LineClient(scope, server.address, timeout=SLOW)
    if codec == "line":
        for text in ("hello", "", "second\r", "你好"):
            client.send(text + "\n")
            client.expect_line(text.rstrip("\r"), SLOW)
        client.send(b"\xc0\xaf\n")
        check((client.read_line(SLOW) or b"").startswith(b"error: invalid UTF-8 ("),
              "no UTF-8 error")
    else:
        for payload in (b"", b"frame", bytes(range(256)) * 100):
            client.send(struct.pack(">I", len(payload)) + payload)
            check(read_exactly(client.sock, 4 + len(payload), SLOW)[4:] == payload, "not echoed")
        client.send(struct.pack(">I", 1 << 30))  # Over 16 MiB: that connection ends.
        client.expect_end(SLOW)
        return server
    half = LineClient(scope, server.address, timeout=SLOW)
    half.send("reply after half-close\n")
    half.sock.shutdown(socket.SHUT_WR)
    half.expect_line("reply after half-close", SLOW)
    half.expect_end(SLOW)
    client.sock.close()
    return server


def udp_session(scope):
    server = Server(scope, "udp_echo_server", wrapper=VALGRIND)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(SLOW)
        for data in (b"hello", "你好".encode(), b""):
            sock.sendto(data, server.address)
            check(sock.recvfrom(70000)[0] == data, "datagram not echoed")
        sock.sendto(b"\xff not UTF-8", server.address)  # Dropped, counted.
        sock.sendto(b"after", server.address)
        check(sock.recvfrom(70000)[0] == b"after", "datagram not echoed")
    return server


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for binary in ("chat-server", "echo-server", "udp-echo-server"):
        parser.add_argument("--" + binary, required=True)
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        print("SKIPPED: valgrind is not installed")
        return 77
    BIN.update(chat_server=args.chat_server, echo_server=args.echo_server,
               udp_echo_server=args.udp_echo_server)
    sessions = [("chat_server", chat_session),
                ("echo_server --codec line", lambda scope: echo_session(scope, "line")),
                ("echo_server --codec length", lambda scope: echo_session(scope, "length")),
                ("udp_echo_server", udp_session)]
    failed = 0
    for name, session in sessions:
        started = time.monotonic()
        try:
            with Scope() as scope:
                server = session(scope)
                for sock in scope.sockets:
                    sock.close()
                server.stop(timeout=SLOW)  # Exit code 0: memcheck is clean.
            print("valgrind clean: %s (%.1f s)" % (name, time.monotonic() - started))
        except Failure as failure:
            failed += 1
            print("FAILED %s under valgrind: %s" % (name, failure))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
