#!/usr/bin/python3
"""Process tests of the samples over TLS: chat_server, echo_server and chat_client with
--tls..., against third-party TLS peers (openssl s_client and s_server, Python's ssl module),
bad certificates, old protocol versions, hostile clients, certificate reloads and session
resumption.

    tls_samples_test.py --list
    tls_samples_test.py --chat-server BIN --chat-client BIN --echo-server BIN
                        [--cert-dir DIR --expired-cert-dir DIR] --run SCENARIO|all

The certificates come from scripts/make-dev-cert: the ctest fixture's directories, or (without
--cert-dir) a fresh temporary PKI. Run by /usr/bin/python3 (standard library only). Loopback
only; every wait is bounded; every process a scenario starts is killed by PID and every socket
closed on the way out. Exit code: 0 passed, 1 failed, 77 skipped (no openssl tool).
"""

import argparse
import os
import random
import resource
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import warnings

sys.dont_write_bytecode = True  # No __pycache__ in the source tree.
SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "samples"))
sys.path.insert(0, HERE)
from samples_support import (BIN, WAIT, Failure, LineClient, Scope, Skipped, check, free_port,
                             linked_pattern, start_server, stop_server)
from tls_samples_support import (CERTS, SslServer, cert, chat_is_served, client_context,
                                 client_hello, make_pki, one_error_line, openssl, stderr_holds,
                                 tls_chat_client, tls_client, tls_server, tls_socket,
                                 wait_closed)

warnings.simplefilter("ignore", DeprecationWarning)  # ssl.TLSVersion.TLSv1_1, on purpose.

# ---- third-party peers -------------------------------------------------------------------------


def scenario_openssl_s_client_line_relayed_to_python_ssl_client(scope):
    server, address = tls_server(scope)
    python = tls_client(scope, server, address)
    s_client = openssl(scope, "s_client", "s_client", "-connect", "%s:%d" % address, "-CAfile",
                       cert("ca.pem"), "-verify_ip", "127.0.0.1", "-verify_return_error",
                       "-quiet")
    port = int(server.expect(r"^Linked @ Addr \('127\.0\.0\.1', (\d+)\)$").group(1))
    s_client.send("hello from openssl s_client\n")
    python.expect_line("[127.0.0.1:%d] hello from openssl s_client" % port)
    python.send_line("hello from Python ssl 🐍")
    s_client.expect(r"^\[127\.0\.0\.1:%d\] hello from Python ssl 🐍$" % python.port)
    s_client.kill()
    server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % port)
    stop_server(server, scope)


def scenario_python_ssl_clients_chat_with_chat_client(scope):
    server, address = tls_server(scope)
    python = tls_client(scope, server, address)
    client = tls_chat_client(scope, address, "--tls-ca", cert("ca.pem"))
    port = int(server.expect(r"^Linked @ Addr \('127\.0\.0\.1', (\d+)\)$").group(1))
    client.send("from chat_client 你好\n")
    python.expect_line("[127.0.0.1:%d] from chat_client 你好" % port)
    python.send_line("from Python 😀")
    client.expect(r"^receive data: \[%s\] from Python 😀$" % python.name)
    client.send("exit\n")
    client.expect_exit(0)
    server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % port)

    # The end of stdin is a half-close over TLS too (close_notify): the server lets the client
    # go at once, and lines still on their way are printed.
    started = time.monotonic()
    leaving = tls_chat_client(scope, address, "--tls-ca", cert("ca.pem"), name="leaving")
    port = int(server.expect(r"^Linked @ Addr \('127\.0\.0\.1', (\d+)\)$").group(1))
    leaving.send("last words\n")
    python.expect_line("[127.0.0.1:%d] last words" % port)
    python.send_line("goodbye")
    leaving.expect(r"^receive data: \[%s\] goodbye$" % python.name)
    leaving.close_stdin()
    leaving.expect_exit(0)
    check(time.monotonic() - started < 3 and not leaving.stderr,
          "the half-closed client did not end at once:\n  " + leaving.describe())
    stop_server(server, scope)


def read_until_close_notify_then_answer(conn):
    received = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        received += chunk
    conn.sendall(b"answer after your close_notify\n")
    conn.unwrap()
    return received


def scenario_chat_client_half_closes_with_close_notify(scope):
    server = SslServer(scope, read_until_close_notify_then_answer)
    client = tls_chat_client(scope, server.address, "--tls-ca", cert("ca.pem"), text="question\n")
    client.expect(r"^receive data: answer after your close_notify$")
    client.expect_exit(0)
    check(server.join() == b"question\n", "the server received %r" % (server.result,))


def send_then_drop_without_close_notify(conn):
    conn.sendall(b"a whole line\na line cut sho")
    time.sleep(0.2)
    conn.shutdown(socket.SHUT_RDWR)  # SSLSocket: TCP only, no close_notify.


def scenario_chat_client_reports_a_server_ending_without_close_notify(scope):
    server = SslServer(scope, send_then_drop_without_close_notify)
    client = tls_chat_client(scope, server.address, "--tls-ca", cert("ca.pem"))
    client.expect(r"^receive data: a whole line$")
    client.expect(r"^chat_client: the server closed the connection \(TCP only, without TLS's "
                  r"close_notify\)$")
    client.expect_exit(0)
    server.join()
    check("cut sho" not in client.stdout_text() and "unterminated" in client.stderr_text(),
          "the cut line:\n  " + client.describe())


def scenario_chat_client_verifies_openssl_s_server(scope):
    port = free_port()
    s_server = openssl(scope, "s_server", "s_server", "-accept", "127.0.0.1:%d" % port, "-cert",
                       cert("server-chain.pem"), "-key", cert("server.key"))
    s_server.expect(r"^ACCEPT")
    client = tls_chat_client(scope, ("127.0.0.1", port), "--tls-ca", cert("ca.pem"),
                             "--tls-server-name", "localhost")
    client.send("hello openssl s_server\n")
    s_server.expect(r"^hello openssl s_server$")
    s_server.send("hello chat_client\n")
    client.expect(r"^receive data: hello chat_client$")
    client.kill()
    s_server.kill()

    # The same server is refused without the development CA (the system's CAs do not know it).
    s_server = openssl(scope, "s_server", "s_server", "-accept", "127.0.0.1:%d" % port, "-cert",
                       cert("server-chain.pem"), "-key", cert("server.key"))
    s_server.expect(r"^ACCEPT")
    refused = tls_chat_client(scope, ("127.0.0.1", port), name="refused", text="never sent\n")
    check(refused.wait() != 0, "chat_client accepted an unknown CA:\n  " + refused.describe())
    one_error_line(refused, "certificate", "verify")
    check("never sent" not in s_server.stdout_text(), "the line was sent: " + s_server.describe())


# ---- versions and certificates -----------------------------------------------------------------


def scenario_tls_1_3_key_updates_mid_stream_keep_the_echo_going(scope):
    """A TLS 1.3 peer updates its keys mid-stream (openssl s_client's K and k commands): the
    server reads on with the new keys, answers a requested update with its own KeyUpdate before
    its next application data (RFC 8446 4.6.3; OpenSSL sends it with the next write), and echoes
    on."""
    server, address = tls_server(scope, "echo_server")
    # -msg prints each handshake message: ">>>" sent by s_client, "<<<" received from us.
    s_client = openssl(scope, "s_client", "s_client", "-connect", "%s:%d" % address, "-CAfile",
                       cert("ca.pem"), "-verify_ip", "127.0.0.1", "-verify_return_error",
                       "-tls1_3", "-msg")
    s_client.send("before the update\n")
    s_client.expect(r"^before the update$")
    s_client.send("K\n")  # KeyUpdate, update_requested: we must update ours too.
    s_client.expect(r"^>>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate$")
    s_client.send("after a requested update\n")
    s_client.expect(r"^<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate$")
    s_client.expect(r"^after a requested update$")
    s_client.send("k\n")  # KeyUpdate, update_not_requested: nothing to answer.
    s_client.expect(r"^>>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate$")
    s_client.send("after an unrequested update\n")
    s_client.expect(r"^after an unrequested update$")
    check(sum(b"<<< TLS 1.3, Handshake [length 0005], KeyUpdate" in line
              for line in s_client.stdout) == 1, "the server answered an unrequested update")
    s_client.kill()
    stop_server(server, scope)


def scenario_tls_1_1_refused_1_2_and_1_3_accepted(scope):
    old = client_context(version=ssl.TLSVersion.TLSv1_1, verify=False)
    old.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 offers nothing before 1.2 otherwise.
    # Proof that this client really offers TLS 1.1: a server that allows it gets it.
    port = free_port()
    legacy = openssl(scope, "s_server", "s_server", "-accept", "127.0.0.1:%d" % port, "-cert",
                     cert("server-chain.pem"), "-key", cert("server.key"), "-tls1_1", "-cipher",
                     "DEFAULT:@SECLEVEL=0")
    legacy.expect(r"^ACCEPT")
    sock = tls_socket(scope, ("127.0.0.1", port), context=old)
    check(sock.version() == "TLSv1.1", "the 1.1 client negotiated %s" % sock.version())
    sock.close()
    legacy.kill()

    server, address = tls_server(scope, "echo_server")
    try:
        tls_socket(scope, address, context=old)
        raise Failure("echo_server accepted TLS 1.1")
    except (ssl.SSLError, ConnectionResetError):
        pass
    for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3,
                                                                "TLSv1.3")):
        client = LineClient(scope, sock=tls_socket(scope, address,
                                                 context=client_context(version=version)))
        check(client.sock.version() == name, "negotiated %s" % client.sock.version())
        client.send_line("over " + name)
        client.expect_line("over " + name)
    stop_server(server, scope)


def refused_by_chat_client(scope, address, words, *args):
    client = tls_chat_client(scope, address, *args, name="chat_client " + " ".join(args),
                             text="must not be sent\n")
    code = client.wait()
    check(code != 0, "chat_client exited 0:\n  " + client.describe())
    one_error_line(client, *words)
    check(not client.stdout, "chat_client printed:\n  " + client.describe())


def scenario_chat_client_refuses_bad_server_certificates(scope):
    ca = cert("ca.pem")
    wrong, wrong_address = tls_server(scope, chain=cert("wrong-name.pem"),
                                      key=cert("wrong-name.key"))
    refused_by_chat_client(scope, wrong_address, ["name"], "--tls-ca", ca)
    refused_by_chat_client(scope, wrong_address, ["name"], "--tls-ca", ca, "--tls-server-name",
                           "localhost")
    expired, expired_address = tls_server(scope, chain=cert("server-chain.pem", "expired"),
                                          key=cert("server.key", "expired"))
    refused_by_chat_client(scope, expired_address, ["expired"], "--tls-ca",
                           cert("ca.pem", "expired"))
    self_signed, self_address = tls_server(scope, chain=cert("self-signed.pem"),
                                           key=cert("self-signed.key"))
    refused_by_chat_client(scope, self_address, ["certificate", "verify"], "--tls-ca", ca)
    plain, plain_address = start_server(scope, "chat_server")  # No TLS at all.
    refused_by_chat_client(scope, plain_address, ["speak TLS"], "--tls-ca", ca)
    for server in (wrong, expired, self_signed):
        check("Linked" not in server.stdout_text(), "a refused client got a session:\n  "
              + server.describe())

    # --tls-insecure connects anyway, and says so.
    client = tls_chat_client(scope, self_address, "--tls-insecure")
    port = int(self_signed.expect(r"^Linked @ Addr \('127\.0\.0\.1', (\d+)\)$").group(1))
    stderr_holds(client, "warning")
    check("insecure" in client.stderr_text(), "no warning:\n  " + client.describe())
    reader = LineClient(scope, sock=tls_socket(scope, self_address, context=client_context(
        verify=False)))
    self_signed.expect(linked_pattern(reader))
    client.send("insecure but working\n")
    reader.expect_line("[127.0.0.1:%d] insecure but working" % port)


def scenario_mutual_tls_needs_a_client_certificate(scope):
    server, address = tls_server(scope, "chat_server", "--tls-client-ca", cert("ca.pem"))
    member = tls_client(scope, server, address, context=client_context(certificate="client"))
    client = tls_chat_client(scope, address, "--tls-ca", cert("ca.pem"), "--tls-cert",
                             cert("client.pem"), "--tls-key", cert("client.key"))
    port = int(server.expect(r"^Linked @ Addr \('127\.0\.0\.1', (\d+)\)$").group(1))
    client.send("with a client certificate\n")
    member.expect_line("[127.0.0.1:%d] with a client certificate" % port)

    # Without one: TLS 1.3 clients finish their side first and learn it from the server's alert.
    anonymous = tls_chat_client(scope, address, "--tls-ca", cert("ca.pem"), name="anonymous",
                                text="must not arrive\n")
    check(anonymous.wait() != 0, "accepted without a certificate:\n  " + anonymous.describe())
    try:
        sock = tls_socket(scope, address)
        sock.settimeout(WAIT)
        check(sock.recv(100) == b"", "a client without a certificate was served")
    except (ssl.SSLError, ConnectionResetError):
        pass
    member.expect_silence(0.3)
    stderr_holds(server, "handshake failed")
    check(server.stdout_text().count("Linked") == 2, "sessions:\n  " + server.describe())


# ---- hostile clients ---------------------------------------------------------------------------


def scenario_silent_and_trickling_clients_closed_at_handshake_deadline(scope):
    server, address = tls_server(scope, "chat_server", "--handshake-timeout", "1",
                                 "--max-connections", "300")
    fds = "/proc/%d/fd" % server.popen.pid
    baseline = len(os.listdir(fds))
    silent, opened = [], []
    for _ in range(200):
        sock = socket.create_connection(address, timeout=WAIT)
        scope.sockets.append(sock)
        silent.append(sock)
        opened.append(time.monotonic())
    trickler = socket.create_connection(address, timeout=WAIT)
    scope.sockets.append(trickler)
    trickle_start = time.monotonic()
    chat_is_served(scope, server, address)  # While 201 handshakes are pending.

    hello, closed_at, sent = client_hello(), {}, 0
    deadline = time.monotonic() + 3
    pending = set(silent) | {trickler}
    while pending and time.monotonic() < deadline:
        if trickler in pending and sent < len(hello):
            try:
                trickler.send(hello[sent:sent + 1])  # One byte every 50 ms.
                sent += 1
            except OSError:
                pass
        readable, _, _ = select.select(list(pending), [], [], 0.05)
        for sock in readable:
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            check(not data, "the server sent %r to a client that said nothing" % data[:50])
            closed_at[sock] = time.monotonic()
            pending.discard(sock)
    check(not pending, "%d connections still open after 3 s" % len(pending))
    lives = [closed_at[sock] - start for sock, start in zip(silent, opened)]
    lives.append(closed_at[trickler] - trickle_start)
    check(all(0.5 <= life <= 1.5 for life in lives),
          "closed after %.2f to %.2f s, not 1 s +- 0.5" % (min(lives), max(lives)))
    for sock in silent + [trickler]:
        sock.close()
    for _ in range(40):
        if len(os.listdir(fds)) <= baseline:
            break
        time.sleep(0.05)
    check(len(os.listdir(fds)) <= baseline,
          "the server holds %d descriptors, %d before" % (len(os.listdir(fds)), baseline))
    chat_is_served(scope, server, address)
    stop_server(server, scope)


def scenario_quiet_client_after_handshake_meets_the_idle_timeout(scope):
    server, address = tls_server(scope, "chat_server", "--handshake-timeout", "1",
                                 "--idle-timeout", "2")
    started = time.monotonic()
    quiet = tls_client(scope, server, address)
    wait_closed(quiet.sock, 4)
    life = time.monotonic() - started
    quiet.sock.close()  # Else the server's close_notify waits for ours up to its drain timeout.
    check(1.5 <= life <= 2.6, "closed after %.2f s, not at the 2 s idle timeout" % life)
    scope.clients.remove(quiet)
    stop_server(server, scope)


def scenario_garbage_and_plain_text_closed_at_once(scope):
    server, address = tls_server(scope, "chat_server")
    noise = random.Random(7).randbytes(1 << 20)
    for name, payload in (("1 MiB of random bytes", noise), ("a plain-text line", b"hello\n"),
                          ("an HTTP request", b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")):
        sock = socket.create_connection(address, timeout=WAIT)
        scope.sockets.append(sock)
        started = time.monotonic()
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        wait_closed(sock, 2)
        elapsed = time.monotonic() - started
        check(elapsed < 0.5, "%s: closed after %.2f s" % (name, elapsed))
        sock.close()
        chat_is_served(scope, server, address)
    stderr_holds(server, "handshake failed")
    stop_server(server, scope)


def scenario_clients_vanishing_mid_handshake_and_mid_message(scope):
    server, address = tls_server(scope, "chat_server")
    hello = client_hello()
    sock = socket.create_connection(address, timeout=WAIT)  # Half a ClientHello, then gone.
    sock.sendall(hello[:len(hello) // 2])
    sock.close()
    chat_is_served(scope, server, address)

    listener = tls_client(scope, server, address)
    for how in ("fin", "reset"):
        # A TCP end without close_notify in the middle of a line: the line is not relayed.
        leaver = tls_client(scope, server, address)
        port = leaver.port
        leaver.sock.sendall(b"a line cut sho")
        time.sleep(0.1)
        if how == "reset":
            leaver.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            leaver.sock.close()
        else:
            leaver.sock.shutdown(socket.SHUT_RDWR)  # SSLSocket: no close_notify.
            leaver.sock.close()
        server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % port)
        scope.clients.remove(leaver)
        chat_is_served(scope, server, address)
    relayed = []
    try:
        while True:
            relayed.append(listener.read_line(0.3))
    except Failure:  # Nothing more within 0.3 s.
        pass
    check(not any(b"cut sho" in line for line in relayed), "relayed: %r" % relayed)
    stop_server(server, scope)


# ---- reload and resumption ---------------------------------------------------------------------


def scenario_sighup_reloads_certificate_and_keeps_connections(scope):
    live = scope.temp_dir()
    chain, key = os.path.join(live, "chain.pem"), os.path.join(live, "key.pem")
    shutil.copy(cert("server-chain.pem"), chain)
    shutil.copy(cert("server.key"), key)
    server, address = tls_server(scope, "chat_server", chain=chain, key=key)
    old = tls_client(scope, server, address)

    fresh = make_pki(scope)
    shutil.copy(os.path.join(fresh, "server-chain.pem"), chain)
    shutil.copy(os.path.join(fresh, "server.key"), key)
    server.signal(signal.SIGHUP)
    server.expect(r"^tls: certificate reloaded$")
    new_ca = os.path.join(fresh, "ca.pem")
    new = tls_client(scope, server, address, context=client_context(new_ca))
    try:
        tls_socket(scope, address)  # Trusts the old CA only.
        raise Failure("a new connection still got the old certificate")
    except ssl.SSLCertVerificationError:
        pass
    old.send_line("from before the reload")
    new.expect_line("[%s] from before the reload" % old.name)
    new.send_line("from after the reload")
    old.expect_line("[%s] from after the reload" % new.name)

    with open(key, "w") as broken:
        broken.write("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    server.signal(signal.SIGHUP)
    failed = server.expect(r"^tls: reload failed: (.+)$").group(1)
    check(key in failed, "the failure does not name the file: " + failed)
    still = tls_client(scope, server, address, context=client_context(new_ca))
    still.send_line("after a failed reload")
    old.expect_line("[%s] after a failed reload" % still.name)
    stop_server(server, scope)


def scenario_returning_client_resumes_its_session(scope):
    server, address = tls_server(scope, "echo_server")
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        context = client_context(version=version)
        first = LineClient(scope, sock=tls_socket(scope, address, context=context))
        first.send_line("first")
        first.expect_line("first")  # TLS 1.3 tickets arrive after the handshake: read first.
        session = first.sock.session
        check(session is not None and not first.sock.session_reused, "no session to resume")
        second = LineClient(scope, sock=tls_socket(scope, address, context=context,
                                                   session=session))
        check(second.sock.session_reused, "%s: the session was not resumed" % version.name)
        second.send_line("second")
        second.expect_line("second")

    s_client = subprocess.run(
        ["openssl", "s_client", "-connect", "%s:%d" % address, "-CAfile", cert("ca.pem"),
         "-reconnect", "-tls1_2"], stdin=subprocess.DEVNULL, capture_output=True, timeout=WAIT)
    reused = s_client.stdout.count(b"\nReused,")
    check(reused >= 5, "openssl s_client -reconnect resumed %d of 5 times" % reused)
    stop_server(server, scope)


def scenario_tls_options_checked_on_the_command_line(scope):
    usage = [
        (["chat_server", "--tls-cert", cert("server.pem")], "--tls-cert and --tls-key"),
        (["echo_server", "--tls-key", cert("server.key")], "--tls-cert and --tls-key"),
        (["chat_server", "--tls-client-ca", cert("ca.pem")], "--tls-client-ca needs"),
        (["chat_server", "--tls-cert", cert("server.pem"), "--tls-key", cert("server.key"),
          "--unix", "/tmp/never.sock"], "cannot be combined with --unix"),
        (["chat_server", "--handshake-timeout", "0"], "--handshake-timeout: expected"),
        (["chat_client", "--port", "1", "--tls-ca", cert("ca.pem")], "--tls-ca needs --tls"),
        (["chat_client", "--unix", "/tmp/x.sock", "--tls"], "cannot be combined with --unix"),
    ]
    for args, message in usage:
        code, _, err = scope.run([BIN[args[0]], *args[1:]])
        check(code == 2 and message in err, "%s: exit %d, stderr %r" % (args, code, err))
    missing = os.path.join(scope.temp_dir(), "missing.pem")
    code, out, err = scope.run([BIN["chat_server"], "--tls-cert", missing, "--tls-key",
                                cert("server.key")])
    check(code == 1 and missing in err and "listening" not in out,
          "a missing certificate: exit %d, stderr %r" % (code, err))


# ---- main --------------------------------------------------------------------------------------

SCENARIOS = {name[len("scenario_"):]: function
             for name, function in sorted(globals().items()) if name.startswith("scenario_")}


def run(name):
    started = time.monotonic()
    try:
        with Scope() as scope:
            SCENARIOS[name](scope)
    except Skipped as skipped:
        print("SKIPPED %s: %s" % (name, skipped))
        return SKIP
    except Failure as failure:
        print("FAILED %s: %s" % (name, failure))
        return 1
    except Exception as error:  # An unexpected error in the test itself, or a hang cut short.
        print("FAILED %s: %s: %s" % (name, type(error).__name__, error))
        return 1
    print("passed %s in %.2f s" % (name, time.monotonic() - started))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the scenario names")
    parser.add_argument("--run", choices=sorted(SCENARIOS) + ["all"], help="what to run")
    for binary in ("chat-server", "chat-client", "echo-server"):
        parser.add_argument("--" + binary, help="path of the built " + binary.replace("-", "_"))
    parser.add_argument("--cert-dir", help="make-dev-cert --self-signed --wrong-name output")
    parser.add_argument("--expired-cert-dir", help="make-dev-cert --expired output")
    args = parser.parse_args()
    if args.list:
        print("\n".join(SCENARIOS))
        return 0
    if not args.run or not (args.chat_server and args.chat_client and args.echo_server):
        parser.error("--run needs --chat-server, --chat-client and --echo-server")
    if shutil.which("openssl") is None:
        print("SKIPPED: the openssl tool is not installed")
        return SKIP
    BIN.update(chat_server=args.chat_server, chat_client=args.chat_client,
               echo_server=args.echo_server)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 4096), hard), hard))
    with Scope() as scope:
        if args.cert_dir and args.expired_cert_dir:
            CERTS.update(dir=args.cert_dir, expired=args.expired_cert_dir)
        else:
            CERTS.update(dir=make_pki(scope, "--self-signed", "--wrong-name"),
                         expired=make_pki(scope, "--expired"))
        names = sorted(SCENARIOS) if args.run == "all" else [args.run]
        codes = [run(name) for name in names]
    return 1 if 1 in codes else codes[0] if len(codes) == 1 else 0


if __name__ == "__main__":
    sys.exit(main())
