"""WebSocket against real third-party clients: echo_server --websocket with Python's
`websockets` (Debian python3-websockets) and Node's `ws` (Debian node-ws), hostile frames on raw
sockets answered with the right close code, and 1001 on SIGTERM.

    test_websocket_clients.py --list
    test_websocket_clients.py --echo-server BIN --run SCENARIO

Run it with Debian's /usr/bin/python3 (the one that sees python3-websockets). Exit code: 0
passed, 1 failed, 77 skipped (a client library is missing). Every wait is bounded."""

import asyncio
import base64
import os
import shutil
import signal
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from samples_support import (WAIT, Failure, Skipped, check, run_scenario_script,  # noqa: E402
                             start_server)

NODE_WS = "/usr/share/nodejs/ws"


def ws_url(address, path="/"):
    return "ws://%s:%d%s" % (address[0], address[1], path)


def need_websockets():
    try:
        import websockets  # noqa: F401
    except ImportError:
        raise Skipped("python3-websockets is not installed (scripts/setup installs it)")


# ---- raw frames --------------------------------------------------------------------------------


def frame(opcode, payload, fin=True, mask=True):
    header = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    bit = 0x80 if mask else 0
    if size < 126:
        header += bytes([bit | size])
    elif size < 65536:
        header += bytes([bit | 126]) + struct.pack(">H", size)
    else:
        header += bytes([bit | 127]) + struct.pack(">Q", size)
    if not mask:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def hostile_frames(max_message, over_limit_opcode):
    """(name, bytes, close code) of frames every endpoint must refuse with that code, for a
    --web-max-message of `max_message` (a message just over it is sent with `over_limit_opcode`:
    text, or binary where the endpoint takes binary)."""
    half = max_message // 2 + 100
    return [
        ("unmasked frame", frame(0x1, b"hi", mask=False), 1002),
        ("one frame over the limit", frame(over_limit_opcode, b"x" * (max_message + 1)), 1009),
        ("fragments over the limit",
         frame(0x1, b"a" * half, fin=False) + frame(0x0, b"b" * half), 1009),
        ("fragmented forever", frame(0x1, b"", fin=False) + frame(0x0, b"", fin=False) * 5000, 1009),
        ("invalid UTF-8", frame(0x1, b"\xc0\xaf"), 1007),
        ("invalid UTF-8 across fragments",
         frame(0x1, b"ok \xf0\x9f", fin=False) + frame(0x0, b"!"), 1007),
        ("reserved close code", frame(0x8, struct.pack(">H", 1005)), 1002),
        ("close code out of range", frame(0x8, struct.pack(">H", 5000)), 1002),
    ]


class RawClient:
    """A WebSocket client on a plain socket: it can send what no library would."""

    def __init__(self, scope, address):
        self.sock = socket.create_connection(address, timeout=WAIT)
        scope.sockets.append(self.sock)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            "GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (address[0], address[1], key)
        ).encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            check(chunk, "the server closed during the handshake")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        check(head.startswith(b"HTTP/1.1 101"), "no 101: %r" % head[:80])

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # The server may close before it has read everything: what it said counts.

    def _need(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            check(chunk, "the server closed without a close frame")
            self.buffer += chunk

    def next_frame(self):
        self._need(2)
        opcode = self.buffer[0] & 0x0F
        size = self.buffer[1] & 0x7F
        offset = 2
        if size == 126:
            self._need(4)
            size = struct.unpack(">H", self.buffer[2:4])[0]
            offset = 4
        elif size == 127:
            self._need(10)
            size = struct.unpack(">Q", self.buffer[2:10])[0]
            offset = 10
        self._need(offset + size)
        payload = self.buffer[offset:offset + size]
        self.buffer = self.buffer[offset + size:]
        return opcode, payload

    def expect_close(self, code):
        while True:
            opcode, payload = self.next_frame()
            if opcode == 0x8:
                got = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                check(got == code, "close code %r, expected %d" % (got, code))
                return


# ---- scenarios ---------------------------------------------------------------------------------


def scenario_python_websockets_echo(scope):
    need_websockets()
    import websockets
    server, address = start_server(scope, "echo_server", "--websocket")

    async def talk():
        async with websockets.connect(ws_url(address), max_size=2 ** 21) as ws:
            texts = ["hello", "ünïcödé ✓", "", "line with\nnewline", "x" * 200_000]
            for text in texts:
                await ws.send(text)
            for text in texts:
                echoed = await asyncio.wait_for(ws.recv(), WAIT)
                check(echoed == text, "echo of %d chars came back as %d" % (len(text), len(echoed)))
            pong = await ws.ping(b"are you there")
            await asyncio.wait_for(pong, WAIT)
            await ws.close()
            check(ws.close_code == 1000, "close code %r" % ws.close_code)

    asyncio.run(asyncio.wait_for(talk(), 3 * WAIT))
    server.signal(signal.SIGTERM)
    server.expect_exit(0)


def scenario_node_ws_echo(scope):
    node = shutil.which("node") or shutil.which("nodejs")
    if not node or not os.path.isdir(NODE_WS):
        raise Skipped("node or node-ws is not installed (scripts/setup installs node-ws)")
    server, address = start_server(scope, "echo_server", "--websocket")
    script = r"""
const WebSocket = require(process.argv[2]);
const ws = new WebSocket(process.argv[3]);
const sent = ['from node', 'ünïcödé ✓', 'y'.repeat(70000)];
const got = [];
const fail = (why) => { console.log('FAIL ' + why); process.exit(1); };
setTimeout(() => fail('timed out'), 10000);
ws.on('open', () => { for (const text of sent) ws.send(text); });
ws.on('message', (data, isBinary) => {
  if (isBinary) fail('binary echo');
  got.push(data.toString());
  if (got.length === sent.length) {
    if (got.join('|') !== sent.join('|')) fail('echo differs');
    ws.ping('p');
  }
});
ws.on('pong', () => ws.close(1000, 'bye'));
ws.on('close', (code) => { console.log('closed ' + code); process.exit(code === 1000 ? 0 : 1); });
ws.on('error', (error) => fail(String(error)));
"""
    code, out, err = scope.run([node, "-e", script, "-", NODE_WS, ws_url(address, "/node")],
                               timeout=2 * WAIT)
    check(code == 0 and "closed 1000" in out, "node ws: exit %d, %s %s" % (code, out, err))
    server.signal(signal.SIGTERM)
    server.expect_exit(0)


def scenario_hostile_frames_get_their_close_codes(scope):
    server, address = start_server(scope, "echo_server", "--websocket", "--web-max-message", "1000")
    cases = hostile_frames(1000, over_limit_opcode=0x2) + [
        ("RSV bit", bytes([0x80 | 0x40 | 0x1]) + frame(0x1, b"x")[1:], 1002),
        ("control frame over 125 bytes", frame(0x9, b"p" * 126), 1002),
    ]
    for name, data, code in cases:
        client = RawClient(scope, address)
        client.send(frame(0x1, b"fine first"))
        opcode, payload = client.next_frame()
        check((opcode, payload) == (0x1, b"fine first"), "%s: no echo first" % name)
        client.send(data)
        try:
            client.expect_close(code)
        except Failure as failure:
            raise Failure("%s: %s" % (name, failure))
        client.sock.close()  # As a real client does after the close frame.
    server.signal(signal.SIGTERM)
    server.expect_exit(0)


def scenario_sigterm_sends_1001(scope):
    need_websockets()
    import websockets
    server, address = start_server(scope, "echo_server", "--websocket")

    async def wait_for_stop():
        async with websockets.connect(ws_url(address)) as ws:
            await ws.send("before the stop")
            await asyncio.wait_for(ws.recv(), WAIT)
            server.signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(ws.recv(), WAIT)
                raise Failure("a message after SIGTERM")
            except websockets.ConnectionClosed as closed:
                check(closed.rcvd is not None and closed.rcvd.code == 1001,
                      "closed with %r" % (closed.rcvd,))

    asyncio.run(asyncio.wait_for(wait_for_stop(), 3 * WAIT))
    server.expect_exit(0)


SCENARIOS = {name[len("scenario_"):]: function
             for name, function in sorted(globals().items()) if name.startswith("scenario_")}


def main():
    return run_scenario_script(__doc__, SCENARIOS, ("echo-server",))



if __name__ == "__main__":
    sys.exit(main())
