"""Helpers of tls_samples_test.py: the development certificates, Python ssl clients and a
server, the samples started with TLS options, and the probes of the hostile-client scenarios.
Standard library only; every wait is bounded."""

import os
import socket
import ssl
import subprocess
import threading
import time

from samples_support import BIN, WAIT, LineClient, Process, check, linked_pattern, start_server

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MAKE_DEV_CERT = os.path.join(ROOT, "scripts", "make-dev-cert")
CERTS = {}  # "dir" (server, client, self-signed, wrong-name) and "expired" -> directories

# ---- helpers -----------------------------------------------------------------------------------


def cert(name, which="dir"):
    return os.path.join(CERTS[which], name)


def tls_server(scope, binary="chat_server", *args, chain=None, key=None):
    """A sample server serving TLS with the development server certificate."""
    return start_server(scope, binary, "--tls-cert", chain or cert("server-chain.pem"),
                        "--tls-key", key or cert("server.key"), *args)


def client_context(ca=None, version=None, certificate=None, verify=True):
    """A Python ssl client context trusting `ca` (default the development CA); `version` pins
    one protocol version."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        context.load_verify_locations(ca or cert("ca.pem"))
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if version is not None:
        context.minimum_version = context.maximum_version = version
    if certificate:
        context.load_cert_chain(cert(certificate + ".pem"), cert(certificate + ".key"))
    return context


def tls_socket(scope, address, context=None, session=None):
    """A TLS connection to `address` (handshake done), verified for "localhost"."""
    raw = socket.create_connection(address, timeout=WAIT)
    scope.sockets.append(raw)
    sock = (context or client_context()).wrap_socket(raw, server_hostname="localhost",
                                                     session=session)
    scope.sockets.append(sock)
    return sock


def tls_client(scope, server, address, **options):
    """A line client over TLS that the chat server has linked."""
    client = LineClient(scope, sock=tls_socket(scope, address, **options))
    server.expect(linked_pattern(client))
    return client


def tls_chat_client(scope, address, *args, name="chat_client", stdin=subprocess.PIPE, text=None):
    """chat_client --tls; with `text`, its stdin is a pipe already holding it, then its end (a
    client that exits at once cannot break the writer's pipe)."""
    command = [BIN["chat_client"], "--tls", "--host", address[0], "--port", str(address[1]), *args]
    if text is None:
        return Process(scope, name, command, stdin)
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as writer:
        writer.write(text.encode())
    try:
        return Process(scope, name, command, read_end)
    finally:
        os.close(read_end)


def stderr_holds(process, text, timeout=WAIT):
    """Waits (bounded) until `process` has written `text` to its stderr."""
    deadline = time.monotonic() + timeout
    while text not in process.stderr_text():
        check(time.monotonic() < deadline,
              "%s wrote no %r to stderr\n  %s" % (process.name, text, process.describe()))
        time.sleep(0.02)


def chat_is_served(scope, server, address, within=1.0):
    """A fresh TLS client joins and its line reaches another one within `within` seconds."""
    started = time.monotonic()
    first = tls_client(scope, server, address)
    second = tls_client(scope, server, address)
    first.send_line("still serving?")
    second.expect_line("[%s] still serving?" % first.name, timeout=within)
    elapsed = time.monotonic() - started
    check(elapsed < within, "a normal TLS client took %.2f s to be served" % elapsed)
    ports = {first.port, second.port}
    for client in (first, second):
        client.sock.close()
        scope.clients.remove(client)
    # Their sessions must have ended before the caller counts on their slots: a test that
    # connects again at once would otherwise meet max_connections (seen under load).
    pattern = r"^Unlinked @ Addr \('127\.0\.0\.1', (%s)\)$" % "|".join(str(port) for port in ports)
    while ports:
        ports.discard(int(server.expect(pattern).group(1)))


def wait_closed(sock, timeout):
    """Seconds until the peer closes `sock` (end of stream or reset); fails after `timeout`."""
    started = time.monotonic()
    while True:
        remaining = started + timeout - time.monotonic()
        check(remaining > 0, "the server did not close the connection within %.1f s" % timeout)
        sock.settimeout(remaining)
        try:
            if not sock.recv(65536):
                break
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            break
    return time.monotonic() - started


def client_hello():
    """The bytes of a real TLS ClientHello, from Python's ssl on memory buffers."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def openssl(scope, name, *args):
    return Process(scope, name, ["openssl", *args], stdin=subprocess.PIPE)


def one_error_line(process, *words):
    """The program wrote one line to stderr, "error: ...", holding one of `words`."""
    lines = [line.decode("utf-8", "replace") for line in process.stderr]
    check(len(lines) == 1 and lines[0].startswith("error: "),
          "expected one 'error: ...' line:\n  " + process.describe())
    check(any(word in lines[0] for word in words),
          "the error does not say %s:\n  %s" % (" or ".join(words), lines[0]))


def make_pki(scope, *options):
    directory = scope.temp_dir()
    code, _, err = scope.run([MAKE_DEV_CERT, "--force", *options, directory], timeout=30)
    check(code == 0, "make-dev-cert failed: " + err)
    return directory


class SslServer:
    """A one-connection Python TLS server on a thread: `behaviour(conn)` runs on the accepted
    connection; its result (or the exception it raised) is in `result` after join()."""

    def __init__(self, scope, behaviour):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert("server-chain.pem"), cert("server.key"))
        listener = socket.create_server(("127.0.0.1", 0))
        scope.sockets.append(listener)
        listener.settimeout(WAIT)
        self.address = listener.getsockname()
        self.listener, self.context, self.scope = listener, context, scope
        self.behaviour, self.result = behaviour, None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            raw, _ = self.listener.accept()
            self.scope.sockets.append(raw)
            conn = self.context.wrap_socket(raw, server_side=True)
            self.scope.sockets.append(conn)
            conn.settimeout(WAIT)
            self.result = self.behaviour(conn)
        except Exception as error:  # Reported by join().
            self.result = error

    def join(self):
        self.thread.join(WAIT)
        check(not self.thread.is_alive(), "the Python TLS server did not finish")
        check(not isinstance(self.result, Exception), "the Python TLS server failed: %r"
              % (self.result,))
        return self.result
