// Counters of a datagram endpoint and of a datagram server: what arrived, what was rejected and
// why, what was sent. Rejections are counted, not logged one by one: a flood of bad datagrams
// must not become a flood of log lines. Plain values: snapshots, readable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace coronet {

namespace detail {
struct datagram_server_counters;
}  // namespace detail

/// Counters of one datagram endpoint, since it was opened.
struct datagram_stats {
  /// Datagrams taken from the socket, rejected ones included.
  std::uint64_t received = 0;
  /// Rejected with errc::frame_too_long: larger than the endpoint's max_datagram_size.
  std::uint64_t rejected_oversize = 0;
  /// Rejected with errc::invalid_utf8 by the codec.
  std::uint64_t rejected_invalid_utf8 = 0;
  /// Rejected with another codec error.
  std::uint64_t rejected_other = 0;
  /// Receives that failed with a socket error (not counting timeouts and cancellations).
  std::uint64_t receive_errors = 0;
  /// Datagrams handed to the operating system.
  std::uint64_t sent = 0;
  /// Sends that failed: a codec error, a socket error or errc::timed_out.
  std::uint64_t send_errors = 0;
  /// Bytes of the datagrams taken from the socket (rejected ones included; an oversize
  /// datagram counts with its full size when the kernel reports it).
  std::uint64_t bytes_received = 0;
  /// Bytes of the datagrams handed to the operating system.
  std::uint64_t bytes_sent = 0;

  /// Datagrams delivered as messages.
  std::uint64_t delivered() const noexcept {
    return received - rejected_oversize - rejected_invalid_utf8 - rejected_other;
  }
};

/// Counters of a datagram server: its endpoint's, plus what happened to delivered messages.
struct datagram_server_stats {
  /// The server endpoint's counters.
  datagram_stats endpoint;
  /// Handlers that returned normally.
  std::uint64_t handled = 0;
  /// Handlers that threw (each one is logged).
  std::uint64_t handler_failures = 0;
  /// Messages dropped because max_concurrent_handlers were running (busy_policy::drop only).
  std::uint64_t dropped_busy = 0;
  /// The most handlers that ran at once.
  std::size_t peak_handlers = 0;
};

/// Adds another endpoint's counts.
datagram_stats& operator+=(datagram_stats& total, const datagram_stats& other) noexcept;
/// Adds another server's counts (peak_handlers: the larger peak).
datagram_server_stats& operator+=(datagram_server_stats& total,
                                  const datagram_server_stats& other) noexcept;

/// What a datagram server counted, with its name (datagram_server_options::name): the snapshot
/// basic_datagram_server::metrics() returns. Snapshots of several servers add up.
struct datagram_server_metrics {
  /// datagram_server_options::name.
  std::string server;
  datagram_server_stats stats;

  /// Adds another server's counts. Keeps this name.
  datagram_server_metrics& operator+=(const datagram_server_metrics& other) noexcept {
    stats += other.stats;
    return *this;
  }
};

/// Reads a datagram server's metrics from any thread, for as long as it is kept — also after the
/// server is gone (it then reports the final counts). What a metrics registry holds.
class datagram_server_metrics_source {
 public:
  datagram_server_metrics_source() = default;
  /// Used by the servers.
  explicit datagram_server_metrics_source(
      std::shared_ptr<const detail::datagram_server_counters> counters)
      : counters_{std::move(counters)} {}

  /// A snapshot now (empty if default-constructed).
  datagram_server_metrics operator()() const;

 private:
  std::shared_ptr<const detail::datagram_server_counters> counters_;
};

}  // namespace coronet
