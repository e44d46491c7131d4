#!/usr/bin/env python3
"""Checks coronet's Prometheus text exposition with two third-party parsers.

Runs the exposition sample program, then
  1. `promtool check metrics` (Prometheus's own parser and linter) must accept it silently;
  2. prometheus_client's text_string_to_metric_families must parse it, and the values read back
     must be the ones written: hostile label values unescaped exactly, bytes that are not UTF-8
     as U+FFFD, histogram buckets cumulative up to +Inf, every family of the metrics contract.
Debian's python3-prometheus-client is importable only by /usr/bin/python3.
"""
import argparse
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", required=True)
    parser.add_argument("--promtool", default="promtool")
    args = parser.parse_args()

    text = subprocess.run([args.sample], check=True, capture_output=True, timeout=30).stdout
    print(text.decode("utf-8"))

    checked = subprocess.run([args.promtool, "check", "metrics"], input=text, capture_output=True,
                             timeout=30)
    report = (checked.stdout + checked.stderr).decode("utf-8", "replace").strip()
    if checked.returncode != 0 or report:
        fail("promtool check metrics (exit %d): %s" % (checked.returncode, report))
    print("promtool check metrics: no problems")

    samples = {}
    types = {}
    for family in text_string_to_metric_families(text.decode("utf-8")):
        types[family.name] = family.type
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            if key in samples:
                fail("sample given twice: %r" % (key,))
            samples[key] = sample.value

    def value(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        if key not in samples:
            fail("missing sample %s %r" % (name, labels))
        return samples[key]

    def expect(name, expected, **labels):
        got = value(name, **labels)
        if got != expected:
            fail("%s %r: expected %r, got %r" % (name, labels, expected, got))

    # Hostile label values come back exactly (or with U+FFFD for what was not UTF-8).
    expect("chat_lines_relayed_total", 12, room="plain")
    expect("chat_lines_relayed_total", 3, room='back\\slash "quoted"\nnew line\ttab')
    expect("chat_lines_relayed_total", 1, room="not utf-8: \ufffd\ufffd end")
    expect("chat_lines_relayed_total", 2, room="caf\u00e9 \u2713")
    expect("chat_lines_relayed_total", 1, room="")
    expect("chat_members", 7)
    expect("app_temperature_celsius", -3.25, probe="outside")
    # Histograms: cumulative buckets, +Inf, _sum and _count.
    expect("app_request_duration_seconds_bucket", 1, path="/metrics", le="0.005")
    expect("app_request_duration_seconds_bucket", 1, path="/metrics", le="0.05")
    expect("app_request_duration_seconds_bucket", 2, path="/metrics", le="0.5")
    expect("app_request_duration_seconds_bucket", 2, path="/metrics", le="+Inf")
    expect("app_request_duration_seconds_count", 2, path="/metrics")
    expect("app_request_duration_seconds_sum", 0.201, path="/metrics")
    expect("app_request_duration_seconds_bucket", 1, path='/"odd"\\path', le="+Inf")
    if types.get("app_request_duration_seconds") != "histogram":
        fail("app_request_duration_seconds is not a histogram: %r" % types)

    # The servers' families: every name of the metrics contract, with server="NAME".
    expect("coronet_connections_accepted_total", 10, server="echo")
    expect("coronet_connections_refused_total", 1, server="echo", reason="full")
    expect("coronet_connections_refused_total", 2, server='echo "tls"', reason="handshake")
    expect("coronet_connections_active", 3, server="echo")
    expect("coronet_connections_closed_total", 6, server="echo", reason="peer_closed")
    expect("coronet_connections_closed_total", 1, server="echo", reason="idle_timeout")
    for reason in ("handler_done", "reset", "read_timeout", "write_timeout", "slow_consumer",
                   "protocol_error", "handler_error", "server_stop"):
        expect("coronet_connections_closed_total", 0, server="echo", reason=reason)
    expect("coronet_bytes_received_total", 1234, server="echo")
    expect("coronet_bytes_sent_total", 4321, server="echo")
    expect("coronet_messages_received_total", 99, server="echo")
    expect("coronet_messages_sent_total", 101, server="echo")
    expect("coronet_decode_errors_total", 2, server="echo", kind="invalid_utf8")
    expect("coronet_decode_errors_total", 1, server="echo", kind="frame_too_long")
    expect("coronet_send_queue_dropped_total", 0, server="echo")
    expect("coronet_connection_duration_seconds_bucket", 1, server="echo", le="0.01")
    expect("coronet_connection_duration_seconds_bucket", 7, server="echo", le="+Inf")
    expect("coronet_connection_duration_seconds_count", 7, server="echo")
    expect("coronet_connection_duration_seconds_sum", 42.5, server="echo")
    expect("coronet_tls_handshakes_total", 11, server='echo "tls"', result="ok")
    expect("coronet_tls_handshakes_total", 2, server='echo "tls"', result="failed")
    expect("coronet_tls_handshakes_total", 0, server='echo "tls"', result="timed_out")
    expect("coronet_datagrams_received_total", 20, server="udp")
    expect("coronet_datagrams_sent_total", 19, server="udp")
    expect("coronet_datagrams_rejected_total", 1, server="udp", kind="frame_too_long")
    expect("coronet_datagrams_rejected_total", 0, server="udp", kind="invalid_utf8")
    expect("coronet_bytes_received_total", 200, server="udp")
    print("prometheus_client: %d samples in %d families read back as written"
          % (len(samples), len(types)))


if __name__ == "__main__":
    main()
