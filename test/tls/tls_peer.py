#!/usr/bin/python3
"""A third-party TLS peer for tls_test.cpp, on Python's ssl module (standard library only).

    tls_peer.py echo CERT_DIR
        Serves one TLS connection on 127.0.0.1 (prints "port N" first): echoes every byte until
        the peer's close_notify, answers it with its own and exits.
    tls_peer.py read-then-send CERT_DIR PORT
        Connects to 127.0.0.1:PORT verifying the server against CERT_DIR/ca.pem, prints every
        line it reads ("got LINE") until the end of the stream ("end clean" after close_notify,
        "end truncated" without), then sends "still here" and its close_notify and exits.

Every wait is bounded (10 s); exit status 0 when the exchange went as described, 1 otherwise.
"""

import socket
import ssl
import sys

WAIT = 10.0


def echo(cert_dir):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_dir + "/server-chain.pem", cert_dir + "/server.key")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(WAIT)
        print("port %d" % listener.getsockname()[1], flush=True)
        raw, _ = listener.accept()
        raw.settimeout(WAIT)
        with context.wrap_socket(raw, server_side=True) as conn:
            while True:
                data = conn.recv(65536)
                if not data:  # close_notify (an abrupt end raises instead).
                    break
                conn.sendall(data)
            conn.unwrap()
    return 0


def read_then_send(cert_dir, port):
    context = ssl.create_default_context(cafile=cert_dir + "/ca.pem")
    context.check_hostname = False  # The certificate names 127.0.0.1; verification stays on.
    raw = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    conn = context.wrap_socket(raw)
    received = b""
    end = "clean"
    while True:
        try:
            data = conn.recv(65536)
        except ssl.SSLEOFError:
            end = "truncated"
            break
        if not data:
            break
        received += data
    for line in received.decode().splitlines():
        print("got " + line, flush=True)
    print("end " + end, flush=True)
    conn.sendall(b"still here\n")  # The other direction is still open.
    conn.unwrap()
    conn.close()
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "echo":
        return echo(sys.argv[2])
    if len(sys.argv) == 4 and sys.argv[1] == "read-then-send":
        return read_then_send(sys.argv[2], int(sys.argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
