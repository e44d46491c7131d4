#!/usr/bin/env python3
"""asyncio_echo: the Python baseline of the network benchmarks.

The line-echo server a Python programmer writes with asyncio streams (readline, write, drain),
nothing else (asyncio sets TCP_NODELAY on its TCP connections itself, as coronet does by
default). Same command line as samples/echo's echo_server: prints "listening on HOST:PORT"
when ready and exits 0 on SIGINT or SIGTERM.
"""
import argparse
import asyncio
import os
import resource
import signal
import sys

LINE_LIMIT = 1024 * 1024  # readline() fails beyond this; the benchmarks send up to 16 KiB.


async def echo_lines(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            writer.write(line)
            await writer.drain()
    except (ConnectionError, asyncio.LimitOverrunError, ValueError):
        pass
    finally:
        writer.close()


async def serve(options: argparse.Namespace) -> None:
    if options.unix:
        if os.path.exists(options.unix):
            os.unlink(options.unix)
        server = await asyncio.start_unix_server(
            echo_lines, path=options.unix, limit=LINE_LIMIT, backlog=4096)
        shown = "unix:" + options.unix
    else:
        server = await asyncio.start_server(
            echo_lines, host=options.host, port=options.port, limit=LINE_LIMIT, backlog=4096)
        bound = server.sockets[0].getsockname()
        shown = (f"[{bound[0]}]" if ":" in bound[0] else bound[0]) + f":{bound[1]}"
    print(f"listening on {shown}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    await stop.wait()
    server.close()
    if options.unix and os.path.exists(options.unix):
        os.unlink(options.unix)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--unix", help="listen on a Unix socket at PATH instead")
    parser.add_argument("--max-connections", help="accepted for echo_server compatibility; ignored")
    parser.add_argument("--idle-timeout", help="accepted for echo_server compatibility; ignored")
    parser.add_argument("--codec", default="line", choices=["line"], help="the only framing")
    options = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        asyncio.run(serve(options))
    except OSError as error:
        print(f"asyncio_echo: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
