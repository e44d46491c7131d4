#!/usr/bin/python3
"""bench/charts.py: the PNG charts of bench/compare, from the results.json it writes.

  /usr/bin/python3 bench/charts.py DIR/results.json DIR

writes into DIR:
  throughput.png   messages/s, MB/s, deliveries/s, handshakes/s per workload, for every peer
  latency_p99.png  p99 latency per workload (delivery p99 for the chat ones), for every peer
  idle_memory.png  server memory per idle connection (W4, and TLS-W4 when measured)

Each bar is the median of the runs, its whisker the lowest and highest run; the label gives the
median and, for every peer but the floor, its ratio to the floor of the same workload (the
median of each run's own pair, as in the table); the new transports' workloads (WS-W2, FAN-C2,
FAN-C3) compare coronet with itself, so their reference is TCP lines and one chat_server. A peer with a failed run gets no bar but the
word "failed": a run whose deliveries or echoes did not check out is never drawn as a figure.

Needs matplotlib: Debian's python3-matplotlib, which only Debian's /usr/bin/python3 imports.
"""
import json
import re
import statistics
import sys

import matplotlib

matplotlib.use("Agg")  # Files only: no display.
import matplotlib.pyplot as plt  # noqa: E402 (after choosing the backend)
import math  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

# Peers in the order and colours of every chart; labels per workload family.
ECHO_PEERS = [("coronet", "coronet echo_server", "#1f77b4"),
              ("baseline", "coronet before (--baseline)", "#9467bd"),
              ("floor", "Asio floor", "#ff7f0e"),
              ("asyncio", "Python asyncio", "#2ca02c"),
              ("epoll", "C epoll batch echo", "#7f7f7f"),
              ("iperf3", "iperf3 (one way)", "#8c564b")]
CHAT_PEERS = [("coronet", "coronet chat_server", "#1f77b4"),
              ("floor", "Asio chat floor", "#d62728")]
TLS_PEERS = [("coronet", "coronet echo_server (TLS)", "#1f77b4"),
             ("baseline", "coronet before (--baseline)", "#9467bd"),
             ("floor", "Asio TLS floor", "#ff7f0e")]
# The new transports' workloads compare coronet with itself: the reference is its own setup.
WEBSOCKET_PEERS = [("websocket", "echo_server --websocket", "#17becf"),
                   ("lines", "echo_server, TCP lines", "#1f77b4")]
FANOUT_PEERS = [("two", "2 chat_servers × 25, Redis", "#17becf"),
                ("one-redis", "1 chat_server × 50, Redis", "#9467bd"),
                ("one", "1 chat_server × 50", "#1f77b4")]

# (workload, field, panel title, unit, peers[, reference peer, its name in the labels]); the
# reference is "floor" unless given.
THROUGHPUT = [("W2", "messages_per_s", "W2: 50 conns × 16 in flight × 64 B", "messages/s",
               ECHO_PEERS),
              ("W3", "mb_per_s", "W3: 4 conns × 4 in flight × 16 KiB", "MB/s echoed", ECHO_PEERS),
              ("C1", "deliveries_per_s", "C1: 10 members × 8 lines in flight", "deliveries/s",
               CHAT_PEERS),
              ("C2", "deliveries_per_s", "C2: 50 members × 4 lines in flight", "deliveries/s",
               CHAT_PEERS),
              ("TLS-W2", "messages_per_s", "TLS-W2: W2 over TLS", "messages/s", TLS_PEERS),
              ("TLS-W3", "mb_per_s", "TLS-W3: W3 over TLS", "MB/s echoed", TLS_PEERS),
              ("TLS-HS", "handshakes_per_s", "TLS-HS: connect, handshake, 1 line, close",
               "handshakes/s", TLS_PEERS),
              ("WS-W2", "messages_per_s", "WS-W2: 50 conns × 16 in flight × 64 B", "messages/s",
               WEBSOCKET_PEERS, "lines", "lines"),
              ("FAN-C2", "deliveries_per_s", "FAN-C2: 50 members × 4 in flight",
               "deliveries/s", FANOUT_PEERS, "one", "1 server")]
LATENCY = [("W1", "p99_us", "W1: 1 conn, ping-pong, 32 B", "p99 µs", ECHO_PEERS),
           ("W2", "p99_us", "W2: 50 conns × 16 in flight", "p99 µs", ECHO_PEERS),
           ("W3", "p99_us", "W3: 4 conns × 4 in flight × 16 KiB", "p99 µs", ECHO_PEERS),
           ("C1", "p99_us", "C1: 10 members × 8 in flight", "delivery p99 µs", CHAT_PEERS),
           ("C2", "p99_us", "C2: 50 members × 4 in flight", "delivery p99 µs", CHAT_PEERS),
           ("C3", "p99_us", "C3: 200 members, 100 lines/s in all", "delivery p99 µs", CHAT_PEERS),
           ("TLS-W2", "p99_us", "TLS-W2: W2 over TLS", "p99 µs", TLS_PEERS),
           ("WS-W2", "p99_us", "WS-W2: 50 conns × 16 in flight", "p99 µs", WEBSOCKET_PEERS,
            "lines", "lines"),
           ("FAN-C2", "p99_us", "FAN-C2: 50 members × 4 in flight", "delivery p99 µs",
            FANOUT_PEERS, "one", "1 server"),
           ("FAN-C3", "p99_us", "FAN-C3: 50 members, 200 lines/s in all", "delivery p99 µs",
            FANOUT_PEERS, "one", "1 server")]


def memory_panels(data):
    return [("W4", "kib_per_connection",
             f"W4: {data['idle_connections']:,} idle connections", "bytes per connection",
             ECHO_PEERS),
            ("TLS-W4", "kib_per_connection",
             f"TLS-W4: {data['tls_idle_connections']:,} idle TLS connections",
             "bytes per connection", TLS_PEERS)]


def series_of(data):
    """{(workload, peer): [entry or None per run]}."""
    return {(s["workload"], s["peer"]): s["runs"] for s in data["series"]}


def run_values(runs, field):
    """The per-run values of `field` (None for a failed run); iperf3's runs are plain numbers."""
    return [None if run is None else run if isinstance(run, (int, float)) else run.get(field)
            for run in runs]


def paired_ratio(top, bottom):
    ratios = [a / b for a, b in zip(top, bottom) if a is not None and b]
    return statistics.median(ratios) if ratios else None


def short(value):
    if value >= 1e6:
        return f"{value / 1e6:.2f} M".replace(".00 M", " M")
    if value >= 1e4:
        return f"{value / 1e3:.0f} k"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}"


def draw_panel(axis, series, workload, field, title, unit, peers, reference="floor",
               reference_name="floor", scale=1.0, log=False):
    """One workload's bars, each labelled with its ratio to `reference`'s; returns False when
    nothing of it was measured."""
    # iperf3 is W3's reference, with MB/s only.
    present = [(key, label, colour) for key, label, colour in peers
               if (workload, key) in series and (key != "iperf3" or field == "mb_per_s")]
    if not present:
        return False
    floor = run_values(series.get((workload, reference), []), field)
    medians = [statistics.median(v) * scale for v in
               (run_values(series[(workload, key)], field) for key, _, _ in present)
               if v and None not in v and min(v) > 0]
    # A log scale only where the peers differ by more than 20x (W1: C epoll to asyncio), with
    # every bar starting at the same power of ten so that their heights still compare.
    log = log and bool(medians) and max(medians) > 20 * min(medians)
    bottom = 10 ** math.floor(math.log10(min(medians))) if log else 0
    for position, (key, label, colour) in enumerate(present):
        numbers = run_values(series[(workload, key)], field)
        if not numbers or None in numbers:
            axis.text(position, 0.5, "failed", ha="center", va="center", color="#d62728",
                      fontsize=8, rotation=90, transform=axis.get_xaxis_transform())
            continue
        scaled = [n * scale for n in numbers]
        middle = statistics.median(scaled)
        axis.bar(position, middle - bottom, bottom=bottom, color=colour, label=label,
                 yerr=[[middle - min(scaled)], [max(scaled) - middle]], capsize=3,
                 error_kw={"elinewidth": 0.8})
        text = short(middle)
        if key != reference and floor and None not in floor:
            ratio = paired_ratio(numbers, floor)
            if ratio is not None:
                text += f"\n{ratio:.2f}x {reference_name}"
        # coronet against the one-core limit too (W2's point), when the C epoll echo ran.
        epoll = run_values(series.get((workload, "epoll"), []), field)
        if key == "coronet" and epoll and None not in epoll:
            ratio = paired_ratio(numbers, epoll)
            if ratio is not None:
                text += f"\n{ratio:.2f}x C epoll"
        axis.text(position, max(scaled), text, ha="center", va="bottom", fontsize=7)
    axis.set_title(title, fontsize=9)
    axis.set_ylabel(unit + (" (log scale)" if log else ""), fontsize=8)
    axis.set_xticks(range(len(present)))
    axis.set_xticklabels([label for _, label, _ in present], rotation=25, ha="right", fontsize=7)
    axis.set_xlim(-0.6, len(present) - 0.4)
    axis.tick_params(axis="y", labelsize=7)
    if log:
        axis.set_yscale("log")
        axis.set_ylim(bottom=bottom, top=max(medians) * 8)
        axis.yaxis.set_minor_formatter(NullFormatter())
    else:
        axis.margins(y=0.25)
        axis.set_ylim(bottom=0)
    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: short(value) if value else "0"))
    return True


def is_loaded(machine):
    """Whether bench/compare's machine line shows a load average above the core count: other
    work shared the cores, so the figures are indicative only."""
    cpus = re.search(r"(\d+) CPUs", machine)
    load = re.search(r"load average ([\d.]+)", machine)
    return bool(cpus and load and float(load.group(1)) > int(cpus.group(1)))


def draw_figure(path, heading, data, series, panels, scale=1.0, log=False):
    drawn = [p for p in panels if any((p[0], k) in series for k, _, _ in p[4])]
    if not drawn:
        return None
    columns = min(4, len(drawn))
    rows = (len(drawn) + columns - 1) // columns
    # At least 7.2 inches wide, so that the title and the machine line fit.
    figure, axes = plt.subplots(rows, columns, figsize=(max(3.6 * columns, 7.2), 3.4 * rows + 0.8),
                                squeeze=False)
    for axis, panel in zip(axes.flat, drawn):
        draw_panel(axis, series, *panel, scale=scale, log=log)
    for axis in list(axes.flat)[len(drawn):]:
        axis.set_visible(False)
    runs = f"median of {data['runs']} run(s){' (--quick)' if data.get('quick') else ''}"
    figure.suptitle(f"{heading}\n{runs}; whiskers: lowest and highest run", fontsize=10)
    figure.text(0.5, 0.005, data["machine"], ha="center", va="bottom", fontsize=7, wrap=True)
    if is_loaded(data["machine"]):
        figure.text(0.01, 0.99, "indicative: loaded machine", ha="left", va="top", fontsize=8,
                    color="#d62728")
    figure.tight_layout(rect=(0, 0.04, 1, 0.93))
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bench/charts.py RESULTS_JSON OUTPUT_DIR")
    with open(sys.argv[1]) as source:
        data = json.load(source)
    series = series_of(data)
    directory = sys.argv[2]
    written = [
        draw_figure(f"{directory}/throughput.png", "Throughput, higher is better", data, series,
                    THROUGHPUT),
        draw_figure(f"{directory}/latency_p99.png", "p99 latency, lower is better", data, series,
                    LATENCY, log=True),
        draw_figure(f"{directory}/idle_memory.png",
                    "Server memory per idle connection (RSS growth), lower is better", data,
                    series, memory_panels(data), scale=1024.0),
    ]
    for path in written:
        if path:
            print(f"charts: wrote {path}")
    if not any(written):
        sys.exit("charts: nothing to draw in " + sys.argv[1])


if __name__ == "__main__":
    main()
