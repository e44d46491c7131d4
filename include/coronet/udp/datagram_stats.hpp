// Counters of a datagram endpoint and of a datagram server: what arrived, what was rejected and
// why, what was sent. Rejections are counted, not logged one by one: a flood of bad datagrams
// must not become a flood of log lines.
#pragma once

#include <cstddef>
#include <cstdint>

namespace coronet {

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

}  // namespace coronet
