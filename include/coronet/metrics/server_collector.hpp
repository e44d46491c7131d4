// The library's metrics of a server (stream or datagram) as metric families, and the one call
// that puts a server into a metrics_registry: every metric carries the label server="NAME".
#pragma once

#include <vector>

#include "coronet/endpoint/server_metrics.hpp"
#include "coronet/metrics/metric_family.hpp"
#include "coronet/metrics/metrics_registry.hpp"
#include "coronet/udp/datagram_stats.hpp"

namespace coronet::metrics {

/// Appends a stream server's families (coronet_connections_*, coronet_bytes_*,
/// coronet_messages_*, coronet_decode_errors_total, coronet_send_queue_dropped_total,
/// coronet_connection_duration_seconds, and coronet_tls_handshakes_total when the transport
/// has a handshake). See docs/metrics.md for each.
void append_families(const server_metrics& snapshot, std::vector<metric_family>& out);
/// Appends a datagram server's families (coronet_datagrams_*, coronet_bytes_*).
void append_families(const datagram_server_metrics& snapshot, std::vector<metric_family>& out);

/// Registers a server (anything with metrics_source(): tcp_server, unix_server, tls_server,
/// udp_server, ...) in `registry`: its metrics are read at every scrape, from the scraping
/// thread, without touching the server's thread. Servers of the same name add up.
template <typename Server>
collector_id register_server(metrics_registry& registry, const Server& server) {
  return registry.add_collector(
      [source = server.metrics_source()](std::vector<metric_family>& out) {
        append_families(source(), out);
      });
}

}  // namespace coronet::metrics
