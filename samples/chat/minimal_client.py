#!/usr/bin/env python3
"""A minimal chat client written with nothing but Python's socket module, to show that
chat_server speaks plain newline-delimited UTF-8: each line typed on stdin is sent, every line
received is printed as "receive data: <line>". "exit" or the end of stdin leaves.

usage: minimal_client.py HOST PORT
"""
import socket
import sys
import threading


def receive(sock):
    with sock.makefile("rb") as lines:
        for line in lines:
            text = line.rstrip(b"\r\n").decode("utf-8", "replace")
            print("receive data: " + text, flush=True)
    print("minimal_client: the server closed the connection", flush=True)


def main():
    if len(sys.argv) != 3 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) == 2 else 2
    sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    sock.settimeout(None)
    receiver = threading.Thread(target=receive, args=(sock,), daemon=True)
    receiver.start()
    for line in sys.stdin.buffer:
        sock.sendall(line if line.endswith(b"\n") else line + b"\n")
        if line.rstrip(b"\r\n") == b"exit":
            break
    else:
        sock.sendall(b"exit\n")  # The end of stdin says goodbye too.
    sock.shutdown(socket.SHUT_WR)
    receiver.join(timeout=5)  # The server closes after "exit".
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
