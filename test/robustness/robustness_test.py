#!/usr/bin/env python3
"""The robustness suite: hostile peers and faults against the real sample servers over loopback
(issue 5). Each probe is bounded in count and time and asserts on the server process: alive,
RSS from /proc/PID/status, open fds from /proc/PID/fd, and a normal client answered within 1 s.

    robustness_test.py --list
    robustness_test.py --chat-server BIN --echo-server BIN --udp-echo-server BIN --run PROBE
    robustness_test.py ... --run 13_chat_soak --full   # 200 clients x 1,000 lines

ctest registers one test per probe (label "robustness"). Standard library only. Servers listen
on port 0 and announce it on their "listening on" line; every process and socket a probe starts
is killed or closed in a finally block. Each probe prints one "figures PROBE {json}" line with
what it measured. Exit code: 0 passed, 1 failed.
"""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True  # No __pycache__ in the source tree.
import chat_probes
import datagram_probes
import stream_probes
from robustness_support import BIN, Failure, Scope, print_figures

PROBES = {}
for module in (stream_probes, chat_probes, datagram_probes):
    for name in dir(module):
        if name.startswith("probe_"):
            PROBES[name[len("probe_"):]] = getattr(module, name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the probe names")
    parser.add_argument("--run", choices=sorted(PROBES), help="the probe to run")
    parser.add_argument("--full", action="store_true",
                        help="chat_soak at full size (also CORONET_SOAK_FULL=1)")
    for binary in ("chat-server", "echo-server", "udp-echo-server"):
        parser.add_argument("--" + binary, help="path of the built " + binary.replace("-", "_"))
    args = parser.parse_args()
    if args.list:
        print("\n".join(sorted(PROBES)))
        return 0
    if not args.run or not (args.chat_server and args.echo_server and args.udp_echo_server):
        parser.error("--run needs --chat-server, --echo-server and --udp-echo-server")
    BIN.update(chat_server=args.chat_server, echo_server=args.echo_server,
               udp_echo_server=args.udp_echo_server)
    chat_probes.FULL_SOAK = args.full or os.environ.get("CORONET_SOAK_FULL") == "1"
    started = time.monotonic()
    try:
        with Scope() as scope:
            PROBES[args.run](scope)
    except Failure as failure:
        print("FAILED %s: %s" % (args.run, failure))
        return 1
    elapsed = time.monotonic() - started
    print_figures(args.run, elapsed)
    print("passed %s in %.2f s" % (args.run, elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
