// What the server samples share for metrics: the --metrics HOST:PORT option (a Prometheus
// endpoint at http://HOST:PORT/metrics), the registry a sample adds its own metrics to, and the
// periodic one-line summary (--stats-interval) an operator watching a terminal reads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <coronet/endpoint/server_metrics.hpp>
#include <coronet/metrics/metrics_registry.hpp>

#include "command_line.hpp"

namespace samples {

/// What --metrics and --stats-interval ask for, and the registry of the sample's metrics.
struct sample_metrics {
  /// Where to serve GET /metrics; none without --metrics.
  std::optional<std::string> host;
  std::uint16_t port = 0;
  /// Print a summary this often; zero: never.
  std::chrono::seconds stats_interval{0};
  /// The sample's part of the summary ("3 members, 12.0 lines/s"), given the seconds since the
  /// last one; called on the server's thread. Optional.
  std::function<std::string(double seconds)> stats_prefix;
  /// The library's metrics (every server the sample runs) and the sample's own.
  coronet::metrics::metrics_registry registry;
};

/// Declares --metrics (every server sample).
inline void add_metrics_option(command_line& cli) {
  cli.option("--metrics", "HOST:PORT", "",
             "serve Prometheus metrics at http://HOST:PORT/metrics (port 0 picks a free one)");
}

/// Declares --stats-interval.
inline void add_stats_option(command_line& cli) {
  cli.option("--stats-interval", "SECONDS", "0",
             "print a one-line summary this often (members, lines/s, bytes/s, refused, "
             "dropped); 0 = never");
}

/// Reads --metrics (HOST:PORT, [IPv6]:PORT) and, when declared, --stats-interval into
/// `metrics`. Throws usage_error for unusable values.
inline void metrics_settings_from(const command_line& cli, sample_metrics& metrics) {
  if (cli.has("--metrics")) {
    const std::string text = cli.text("--metrics");
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
      throw usage_error("--metrics: expected HOST:PORT, got '" + text + "'");
    }
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    const std::string port = text.substr(colon + 1);
    if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
        std::stoul(port) > 65535) {
      throw usage_error("--metrics: '" + port + "' is not a port number");
    }
    metrics.host = std::move(host);
    metrics.port = static_cast<std::uint16_t>(std::stoul(port));
  }
  if (cli.has("--stats-interval")) {
    metrics.stats_interval = std::chrono::seconds{cli.number("--stats-interval", 0, 86400)};
  }
}

/// The generic part of the summary: bytes per second in and out, refusals, drops (totals).
inline std::string stats_line(const coronet::server_metrics& now,
                              const coronet::server_metrics& before, double seconds) {
  const auto rate = [seconds](std::uint64_t later, std::uint64_t earlier) {
    return std::to_string(static_cast<std::uint64_t>(static_cast<double>(later - earlier) /
                                                     (seconds > 0 ? seconds : 1)));
  };
  return rate(now.bytes_received, before.bytes_received) + " B/s in, " +
         rate(now.bytes_sent, before.bytes_sent) + " B/s out, " +
         std::to_string(now.refused_full + now.refused_handshake) + " refused, " +
         std::to_string(now.send_queue_dropped) + " dropped";
}

}  // namespace samples
