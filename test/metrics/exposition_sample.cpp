// Writes a Prometheus text exposition holding every metric kind coronet writes: user counters,
// gauges and histograms with hostile label values (backslash, quote, newline, tab, non-UTF-8,
// non-ASCII), and the families of a TCP, a TLS and a datagram server with made-up counts. The
// metrics tests feed it to promtool and to prometheus_client's parser.
#include <coronet/metrics/metrics_registry.hpp>
#include <coronet/metrics/server_collector.hpp>

#include <iostream>

int main() {
  coronet::metrics::metrics_registry registry;
  auto& lines = registry.add_counter_family("chat_lines_relayed_total",
                                            "Lines relayed to the room (once per line).", {"room"});
  lines.with({"plain"}).add(12);
  lines.with({"back\\slash \"quoted\"\nnew line\ttab"}).add(3);
  lines.with({"not utf-8: \xFF\xFE end"}).add(1);
  lines.with({"caf\xC3\xA9 \xE2\x9C\x93"}).add(2);
  lines.with({""}).add(1);
  registry.add_gauge("chat_members", "Members in the room now.").set(7);
  registry.add_gauge_family("app_temperature_celsius", "A gauge that goes below zero.", {"probe"})
      .with({"outside"})
      .set(-3.25);
  auto& latency = registry.add_histogram_family("app_request_duration_seconds",
                                                "Help with a backslash \\ and a\nnewline.",
                                                {"path"}, {0.005, 0.05, 0.5, 5});
  latency.with({"/metrics"}).observe(0.001);
  latency.with({"/metrics"}).observe(0.2);
  latency.with({"/\"odd\"\\path"}).observe(9);

  coronet::server_metrics tcp;
  tcp.server = "echo";
  tcp.accepted = 10;
  tcp.refused_full = 1;
  tcp.closed[static_cast<std::size_t>(coronet::close_reason::peer_closed)] = 6;
  tcp.closed[static_cast<std::size_t>(coronet::close_reason::idle_timeout)] = 1;
  tcp.bytes_received = 1234;
  tcp.bytes_sent = 4321;
  tcp.messages_received = 99;
  tcp.messages_sent = 101;
  tcp.decode_errors.push_back({"invalid_utf8", 2});
  tcp.decode_errors.push_back({"frame_too_long", 1});
  tcp.connection_duration.buckets = {1, 2, 3, 1, 0, 0, 0, 0, 0, 0, 0};
  tcp.connection_duration.sum_seconds = 42.5;
  coronet::server_metrics tls = tcp;
  tls.server = "echo \"tls\"";
  tls.has_handshake = true;
  tls.handshakes_ok = 11;
  tls.handshakes_failed = 2;
  tls.refused_handshake = 2;
  coronet::datagram_server_metrics udp;
  udp.server = "udp";
  udp.stats.endpoint.received = 20;
  udp.stats.endpoint.rejected_oversize = 1;
  udp.stats.endpoint.sent = 19;
  udp.stats.endpoint.bytes_received = 200;
  udp.stats.endpoint.bytes_sent = 190;
  for (const auto& snapshot : {tcp, tls}) {
    registry.add_collector(
        [snapshot](auto& out) { coronet::metrics::append_families(snapshot, out); });
  }
  registry.add_collector([udp](auto& out) { coronet::metrics::append_families(udp, out); });
  std::cout << registry.write_text();
  return 0;
}
