"""chat_server --web, black-box: the chat page and WebSocket members in the same room as TCP
members, driven by real third-party clients (Python's `websockets`, Node's `ws`), raw sockets
(bad handshakes, hostile frames, slow handshakes), over ws and wss.

    test_chat_web.py --list
    test_chat_web.py --chat-server BIN --run SCENARIO

Run it with Debian's /usr/bin/python3 (the one that sees python3-websockets). Exit code: 0
passed, 1 failed, 77 skipped (a client library is missing). Every wait is bounded."""

import asyncio
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.append(os.path.join(HERE, "..", "tls"))
from samples_support import (BIN, WAIT, Failure, LineClient, Process, Skipped, check,  # noqa: E402
                             linked_pattern, run_scenario_script, start_server, stop_server)
from test_websocket_clients import NODE_WS, RawClient, frame, hostile_frames  # noqa: E402



def need_websockets():
    try:
        import websockets  # noqa: F401
    except ImportError:
        raise Skipped("python3-websockets is not installed (scripts/setup installs it)")


def start_chat(scope, *args):
    """chat_server with a web port: (server, TCP address, web address, web URL)."""
    server, address = start_server(scope, "chat_server", "--web", "127.0.0.1:0", *args)
    url = server.expect(r"^web on (https?)://(.+):(\d+)/$")
    web = (url.group(2), int(url.group(3)))
    return server, address, web, url.group(0)[len("web on "):]


def ws_url(web, scheme="ws"):
    return "%s://%s:%d/ws" % (scheme, web[0], web[1])


def name_of(ws):
    host, port = ws.local_address[:2]
    return "%s:%d" % (host, port)


async def recv(ws, timeout=WAIT):
    return await asyncio.wait_for(ws.recv(), timeout)


async def expect_message(ws, expected, timeout=WAIT):
    got = await recv(ws, timeout)
    check(got == expected, "expected message %r, got %r" % (expected, got))


async def expect_no_message(ws, duration=0.3):
    try:
        got = await asyncio.wait_for(ws.recv(), duration)
    except asyncio.TimeoutError:
        return
    raise Failure("expected no message, got %r" % (got,))


async def join_web(server, url, **options):
    """A websockets member that has joined: it got "* you are NAME" and the server linked it."""
    import websockets
    ws = await websockets.connect(url, **options)
    await expect_message(ws, "* you are " + name_of(ws))
    server.expect(r"^Linked @ Addr \('127\.0\.0\.1', %d\)$" % ws.local_address[1])
    return ws


def http_get(web, path, method="GET", context=None):
    """(status, headers, body) of one request to the web port."""
    if context is None:
        connection = http.client.HTTPConnection(web[0], web[1], timeout=WAIT)
    else:
        connection = http.client.HTTPSConnection(web[0], web[1], timeout=WAIT, context=context)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def read_until_closed(sock, limit=1 << 20):
    """Everything the server sends until it closes (a reset counts as the close)."""
    data = b""
    deadline = time.monotonic() + WAIT
    while len(data) < limit:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Failure("the server did not close within %.1f s (got %r)" % (WAIT, data[:200]))
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


# ---- chatting --------------------------------------------------------------------------------


def scenario_python_websockets_and_tcp_members_chat_both_ways(scope):
    need_websockets()
    server, address, web, _ = start_chat(scope, "--max-connections", "10")
    tcp = LineClient(scope, address)
    server.expect(linked_pattern(tcp))

    async def talk():
        alice = await join_web(server, ws_url(web))
        tcp.send_line("hello from tcp")
        await expect_message(alice, "[%s] hello from tcp" % tcp.name)
        await alice.send("hello from the web, ünïcödé ✓")
        tcp.expect_line("[%s] hello from the web, ünïcödé ✓" % name_of(alice))
        # A second web member: the first hears it join and leave; the TCP member hears nothing
        # but chat lines.
        bob = await join_web(server, ws_url(web))
        await expect_message(alice, "* %s joined" % name_of(bob))
        await bob.send("<script>alert(1)</script> & more")
        await expect_message(alice, "[%s] <script>alert(1)</script> & more" % name_of(bob))
        tcp.expect_line("[%s] <script>alert(1)</script> & more" % name_of(bob))
        await expect_no_message(bob)  # Never its own lines.
        bob_name = name_of(bob)
        await bob.send("exit")
        await asyncio.wait_for(bob.wait_closed(), WAIT)
        check(bob.close_code == 1000, "exit closed with %r" % bob.close_code)
        await expect_message(alice, "* %s left" % bob_name)
        # A message with a newline cannot become a line: its sender is told, nobody gets it.
        await alice.send("two\nlines")
        reply = await recv(alice)
        check(reply.startswith("error: ") and reply.endswith("(not relayed)"),
              "a two-line message was answered %r" % reply)
        tcp.expect_silence()
        await alice.close()

    asyncio.run(asyncio.wait_for(talk(), 4 * WAIT))
    stop_server(server, scope)


def scenario_node_ws_and_tcp_members_chat_both_ways(scope):
    node = shutil.which("node") or shutil.which("nodejs")
    if not node or not os.path.isdir(NODE_WS):
        raise Skipped("node or node-ws is not installed (scripts/setup installs node-ws)")
    server, address, web, _ = start_chat(scope)
    tcp = LineClient(scope, address)
    server.expect(linked_pattern(tcp))
    # Node prints each message it receives, and sends each line it reads on its stdin.
    script = r"""
const WebSocket = require(process.argv[2]);
const ws = new WebSocket(process.argv[3]);
setTimeout(() => { console.log('FAIL timed out'); process.exit(1); }, 20000);
ws.on('message', (data, isBinary) => console.log((isBinary ? 'binary ' : 'text ') + data));
ws.on('close', (code) => { console.log('closed ' + code); process.exit(0); });
ws.on('error', (error) => { console.log('FAIL ' + error); process.exit(1); });
let pending = '';
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let newline;
  while ((newline = pending.indexOf('\n')) >= 0) {
    ws.send(pending.slice(0, newline));
    pending = pending.slice(newline + 1);
  }
});
"""
    client = Process(scope, "node", [node, "-e", script, "-", NODE_WS, ws_url(web)],
                     stdin=subprocess.PIPE)
    me = client.expect(r"^text \* you are (127\.0\.0\.1:\d+)$").group(1)
    server.expect(r"^Linked @ Addr \('127\.0\.0\.1', %s\)$" % me.split(":")[1])
    tcp.send_line("hi node")
    client.expect(r"^text \[%s\] hi node$" % re.escape(tcp.name))
    client.send("hi tcp, from node\n")
    tcp.expect_line("[%s] hi tcp, from node" % me)
    client.send("exit\n")
    client.expect(r"^closed 1000$")
    client.expect_exit(0)
    for line in client.stdout:
        check(not line.startswith(b"FAIL"), "node: %r" % line)
    stop_server(server, scope)


def scenario_wss_and_tls_members_chat_both_ways(scope):
    need_websockets()
    from tls_samples_support import make_pki
    code, usage, _ = scope.run([BIN["chat_server"], "--help"])
    if "--tls-cert" not in usage:
        raise Skipped("chat_server was built without TLS")
    pki = make_pki(scope)
    server, address, web, url = start_chat(
        scope, "--tls-cert", os.path.join(pki, "server-chain.pem"),
        "--tls-key", os.path.join(pki, "server.key"))
    check(url.startswith("https://"), "under TLS the web port says %r" % url)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(os.path.join(pki, "ca.pem"))
    status, headers, body = http_get(web, "/", context=context)
    check(status == 200 and b"<!DOCTYPE html>" in body, "https GET / gave %d" % status)
    raw = socket.create_connection(address, timeout=WAIT)
    scope.sockets.append(raw)
    tls = context.wrap_socket(raw, server_hostname="localhost")
    scope.sockets.append(tls)
    tcp = LineClient(scope, sock=tls)
    server.expect(linked_pattern(tcp))

    async def talk():
        ws = await join_web(server, ws_url(web, "wss"), ssl=context)
        tcp.send_line("over tls")
        await expect_message(ws, "[%s] over tls" % tcp.name)
        await ws.send("over wss")
        tcp.expect_line("[%s] over wss" % name_of(ws))
        await ws.close()

    asyncio.run(asyncio.wait_for(talk(), 3 * WAIT))
    # Plain ws:// on the https port is not served.
    plain = socket.create_connection(web, timeout=WAIT)
    scope.sockets.append(plain)
    plain.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    check(not read_until_closed(plain).startswith(b"HTTP/1.1 101"), "ws:// upgraded on wss port")
    stop_server(server, scope)


def scenario_the_page_is_served_self_contained(scope):
    server, _, web, url = start_chat(scope)
    check(url == "http://127.0.0.1:%d/" % web[1], "the web line reads %r" % url)
    status, headers, body = http_get(web, "/")
    check(status == 200, "GET / gave %d" % status)
    check(headers.get("Content-Type", "").startswith("text/html"), "type %r" % headers)
    page = body.decode("utf-8")
    check('name="viewport"' in page, "no viewport meta")
    # Nothing from anywhere else: no URL of another origin, no resource loaded by address.
    check(not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]", page), "the page names another origin")
    check(not re.search(r"\b(src|href)\s*=", page), "the page loads a resource")
    check("connect-src 'self'" in headers.get("Content-Security-Policy", ""), "no CSP")
    with open(os.path.join(HERE, "..", "..", "samples", "chat", "chat_page.html"), "rb") as f:
        check(f.read() == body, "the served page differs from samples/chat/chat_page.html")
    check(http_get(web, "/ws")[0] == 400, "GET /ws without an upgrade")
    check(http_get(web, "/nothing-here")[0] == 404, "an unknown path")
    check(http_get(web, "/", method="POST")[0] == 405, "POST /")
    stop_server(server, scope)


# ---- the cap ---------------------------------------------------------------------------------


def scenario_the_cap_counts_tcp_and_web_members(scope):
    need_websockets()
    import websockets
    server, address, web, _ = start_chat(scope, "--max-connections", "2")
    tcp = LineClient(scope, address)
    server.expect(linked_pattern(tcp))

    async def fill():
        member = await join_web(server, ws_url(web))
        # A web newcomer past the cap: the handshake completes, one text message, a close.
        async with websockets.connect(ws_url(web)) as refused:
            await expect_message(refused, "error: server full (2 connections)")
            await asyncio.wait_for(refused.wait_closed(), WAIT)
            check(refused.close_code == 1000, "refusal closed with %r" % refused.close_code)
        # A TCP newcomer past the cap: the line, then the end.
        late = LineClient(scope, address)
        late.expect_line("error: server full (2 connections)")
        late.expect_end()
        # A seat frees: a web member can join again.
        await member.close()
        server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % member.local_address[1])
        again = await join_web(server, ws_url(web))
        tcp.send_line("room for you now")
        await expect_message(again, "[%s] room for you now" % tcp.name)
        await again.close()

    asyncio.run(asyncio.wait_for(fill(), 4 * WAIT))
    stop_server(server, scope)


def scenario_page_fetches_and_idle_connections_take_no_seats(scope):
    """A browser opens the page, its favicon and idle connections ahead of need besides its
    WebSocket: those count against --web-max-connections, never against the room's seats, and a
    served page is not logged as a failed handshake."""
    need_websockets()
    server, address, web, _ = start_chat(scope, "--max-connections", "2")
    for _ in range(6):  # More than the room's seats, held open without a byte sent.
        scope.sockets.append(socket.create_connection(web, timeout=WAIT))
    for path, status in (("/", 200), ("/favicon.ico", 404), ("/", 200)):
        got = http_get(web, path)[0]
        check(got == status, "GET %s: %d, expected %d" % (path, got, status))
    tcp = LineClient(scope, address)
    server.expect(linked_pattern(tcp))

    async def join():
        member = await join_web(server, ws_url(web))
        tcp.send_line("both seats taken")
        await expect_message(member, "[%s] both seats taken" % tcp.name)
        # The room is full now, whatever the web port still allows.
        late = LineClient(scope, address)
        late.expect_line("error: server full (2 connections)")
        await member.close()

    asyncio.run(asyncio.wait_for(join(), 2 * WAIT))
    stop_server(server, scope)
    check("handshake failed" not in server.stderr_text(),
          "a served page was logged as a failed handshake:\n" + server.stderr_text())


def scenario_web_max_connections_caps_the_web_port(scope):
    """Connections on the web port, handshakes in progress included, stop at
    --web-max-connections even while the room has seats: the next gets the refusal."""
    need_websockets()
    server, _, web, _ = start_chat(scope, "--max-connections", "5", "--web-max-connections", "2")
    for _ in range(2):  # Held open, handshakes that never start.
        scope.sockets.append(socket.create_connection(web, timeout=WAIT))

    async def refused():
        import websockets
        async with websockets.connect(ws_url(web)) as third:
            await expect_message(third, "error: server full (2 connections)")
            await asyncio.wait_for(third.wait_closed(), WAIT)

    asyncio.run(asyncio.wait_for(refused(), 2 * WAIT))
    stop_server(server, scope)


def scenario_sigterm_sends_1001_to_web_members(scope):
    need_websockets()
    import websockets
    server, address, web, _ = start_chat(scope)
    tcp = LineClient(scope, address)
    server.expect(linked_pattern(tcp))

    async def wait_for_stop():
        ws = await join_web(server, ws_url(web))
        server.signal(signal.SIGTERM)
        try:
            got = await recv(ws)
            raise Failure("a message after SIGTERM: %r" % got)
        except websockets.ConnectionClosed as closed:
            check(closed.rcvd is not None and closed.rcvd.code == 1001,
                  "closed with %r" % (closed.rcvd,))

    asyncio.run(asyncio.wait_for(wait_for_stop(), 3 * WAIT))
    tcp.expect_end()
    tcp.sock.close()
    started = time.monotonic()
    server.expect_exit(0)
    # Every member closed at once: the server waited for none of them to the drain timeout (5 s).
    check(time.monotonic() - started < 4, "the stop took %.1f s" % (time.monotonic() - started))


# ---- hostile clients -------------------------------------------------------------------------


def scenario_bad_handshakes_are_refused_and_closed(scope):
    server, address, web, _ = start_chat(scope)
    upgrade = ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\n")
    key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    cases = [
        ("missing key", upgrade + "Sec-WebSocket-Version: 13\r\n\r\n", 400),
        ("invalid key", upgrade + "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
         400),
        # RFC 6455 4.4: a version the server does not speak is refused naming the ones it does.
        ("wrong version", upgrade + key + "Sec-WebSocket-Version: 8\r\n\r\n", 400),
        ("64 KiB header", upgrade + key + "Sec-WebSocket-Version: 13\r\nX-Big: " + "b" * 65536
         + "\r\n\r\n", 431),
        ("not HTTP", "\x16\x03\x01 hello\r\n\r\n", 400),
        ("POST upgrade", upgrade.replace("GET", "POST") + key + "Sec-WebSocket-Version: 13\r\n\r\n",
         400),
    ]
    for name, request, status in cases:
        sock = socket.create_connection(web, timeout=WAIT)
        scope.sockets.append(sock)
        try:
            sock.sendall(request.encode())
        except (BrokenPipeError, ConnectionResetError):
            pass  # The server may answer and close before the whole request is in.
        answer = read_until_closed(sock)
        check(answer.startswith(b"HTTP/1.1 %d " % status),
              "%s: expected %d, got %r" % (name, status, answer[:80]))
        check(b"\r\nConnection: close\r\n" in answer, "%s: no Connection: close" % name)
        if name == "wrong version":
            check(b"\r\nSec-WebSocket-Version: 13\r\n" in answer, "400 without the version")
        sock.close()
    # The chat went on meanwhile.
    a, b = LineClient(scope, address), LineClient(scope, address)
    server.expect(linked_pattern(a))
    server.expect(linked_pattern(b))
    a.send_line("still chatting")
    b.expect_line("[%s] still chatting" % a.name)
    stop_server(server, scope)


def scenario_hostile_frames_get_their_close_codes(scope):
    server, address, web, _ = start_chat(scope, "--web-max-message", "1000", "--max-connections",
                                         "20")
    tcp = LineClient(scope, address)
    server.expect(linked_pattern(tcp))
    # The chat takes text only: a binary message is refused with 1003.
    cases = hostile_frames(1000, over_limit_opcode=0x1) + [
        ("binary message", frame(0x2, b"\x00\x01"), 1003),
    ]
    for name, data, code in cases:
        client = RawClient(scope, web)
        opcode, payload = client.next_frame()
        check(opcode == 0x1 and payload.startswith(b"* you are "), "%s: no greeting" % name)
        client.send(frame(0x1, b"fine first"))
        tcp.expect_line(re.sub(r"^\* you are (.*)$", r"[\1] fine first", payload.decode()))
        client.send(data)
        try:
            client.expect_close(code)
        except Failure as failure:
            raise Failure("%s: %s" % (name, failure))
        client.sock.close()
    # Nothing hostile reached the room; the TCP member still chats.
    other = LineClient(scope, address)
    server.expect(linked_pattern(other))
    tcp.send_line("after the hostile frames")
    other.expect_line("[%s] after the hostile frames" % tcp.name)
    tcp.expect_silence()
    stop_server(server, scope)


def scenario_slow_handshakes_are_reaped_while_tcp_chat_serves(scope):
    need_websockets()
    server, address, web, _ = start_chat(scope, "--handshake-timeout", "1", "--max-connections",
                                         "300")
    slow = []
    for _ in range(200):
        sock = socket.create_connection(web, timeout=WAIT)
        scope.sockets.append(sock)
        sock.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # ... and never the rest.
        slow.append(sock)
    started = time.monotonic()
    # The TCP chat serves meanwhile.
    a, b = LineClient(scope, address), LineClient(scope, address)
    server.expect(linked_pattern(a))
    server.expect(linked_pattern(b))
    a.send_line("while 200 handshakes hang")
    b.expect_line("[%s] while 200 handshakes hang" % a.name)
    b.send_line("and back")
    a.expect_line("[%s] and back" % b.name)
    # Every slow handshake is closed by the deadline, without an upgrade.
    for sock in slow:
        answer = read_until_closed(sock)
        check(not answer.startswith(b"HTTP/1.1 101"), "a slow handshake was upgraded")
    reaped = time.monotonic() - started
    check(reaped < 1 + WAIT, "reaped after %.1f s" % reaped)
    print("200 slow handshakes reaped %.2f s after the last connected" % reaped)

    async def then_a_web_member_joins():
        ws = await join_web(server, ws_url(web))
        a.send_line("welcome")
        await expect_message(ws, "[%s] welcome" % a.name)
        await ws.close()

    asyncio.run(asyncio.wait_for(then_a_web_member_joins(), 2 * WAIT))
    stop_server(server, scope)


def scenario_the_web_port_is_counted_in_metrics(scope):
    """The web port is a server of its own in --metrics (server="chat_server_web")."""
    need_websockets()
    server, address = start_server(scope, "chat_server", "--web", "127.0.0.1:0",
                                   "--metrics", "127.0.0.1:0")
    ports = {}
    for _ in range(2):  # "web on" and "metrics on", in either order, after "listening on".
        line = server.expect(r"^(web|metrics) on http://127\.0\.0\.1:(\d+)/(metrics)?$")
        ports[line.group(1)] = int(line.group(2))
    web = ("127.0.0.1", ports["web"])
    tcp = LineClient(scope, address)
    server.expect(linked_pattern(tcp))

    async def chat():
        member = await join_web(server, ws_url(web))
        await member.send("counted")
        tcp.expect_line("[%s] counted" % name_of(member))
        await member.close()
        server.expect(r"^Unlinked @ Addr \('127\.0\.0\.1', %d\)$" % member.local_address[1])

    asyncio.run(asyncio.wait_for(chat(), 2 * WAIT))
    status, _, body = http_get(("127.0.0.1", ports["metrics"]), "/metrics")
    check(status == 200, "GET /metrics: status %d" % status)
    text = body.decode("utf-8")
    for expected in ('coronet_connections_accepted_total{server="chat_server_web"} 1',
                     'coronet_connections_closed_total{server="chat_server_web",reason="peer_closed"} 1',
                     'coronet_connections_accepted_total{server="chat_server"} 1'):
        check(re.search("^" + re.escape(expected) + "$", text, re.M),
              "no line %r in the scrape:\n%s" % (expected, text))
    stop_server(server, scope)


SCENARIOS = {name[len("scenario_"):]: function
             for name, function in sorted(globals().items()) if name.startswith("scenario_")}


def main():
    return run_scenario_script(__doc__, SCENARIOS, ("chat-server",))



if __name__ == "__main__":
    sys.exit(main())
