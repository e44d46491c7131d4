// server_metrics: a plain snapshot of what a stream server counted (connections accepted,
// refused, closed by reason; bytes, messages, decode errors, drops; handshakes; connection
// lifetimes). Returned by basic_server::metrics(); snapshots of several servers add up.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/connection_observer.hpp"

namespace coronet {

namespace detail {
struct server_counters;
}  // namespace detail

/// Upper bounds (seconds) of the connection lifetime histogram's buckets; the last bucket
/// (+Inf) is implied.
inline constexpr std::array<double, 10> connection_duration_bounds{0.01, 0.1,  1,    10,    60,
                                                                   300,  1800, 3600, 21600, 86400};

/// Connection lifetimes: counts per bucket (not cumulative; the last is the +Inf bucket) and
/// their sum.
struct duration_histogram {
  /// buckets[i] counts lifetimes <= connection_duration_bounds[i] (and > the bound before);
  /// the last one counts the rest.
  std::array<std::uint64_t, connection_duration_bounds.size() + 1> buckets{};
  /// The sum of the lifetimes, in seconds.
  double sum_seconds = 0;

  /// Lifetimes counted.
  std::uint64_t count() const noexcept;
  duration_histogram& operator+=(const duration_histogram& other) noexcept;
};

/// Decode errors of one kind (see decode_error_kind()).
struct decode_error_total {
  std::string kind;
  std::uint64_t count = 0;
};

/// Number of close_reason values (the size of server_metrics::closed).
inline constexpr std::size_t close_reason_count =
    static_cast<std::size_t>(close_reason::server_stop) + 1;

/// What a stream server counted since it was constructed. Plain values: copy it, keep it, add
/// snapshots of several servers (one per thread) with +=.
struct server_metrics {
  /// server_options::name.
  std::string server;
  /// Whether the server's transport has a handshake (TLS): only then are handshakes reported.
  bool has_handshake = false;

  /// Connections that got a session (a handler).
  std::uint64_t accepted = 0;
  /// Connections refused because max_connections were open (counted here only, never in
  /// accepted).
  std::uint64_t refused_full = 0;
  /// Connections whose handshake failed or timed out before a session started.
  std::uint64_t refused_handshake = 0;
  /// Sessions that ended, by reason, indexed by close_reason. `none` is counted as
  /// handler_done and `truncated` (TLS without close_notify) as peer_closed, so those two
  /// slots stay zero.
  std::array<std::uint64_t, close_reason_count> closed{};

  /// Bytes read from the sockets (for TLS: the plaintext after decryption).
  std::uint64_t bytes_received = 0;
  /// Bytes the sockets accepted (for TLS: the plaintext before encryption).
  std::uint64_t bytes_sent = 0;
  /// Messages decoded and handed to handlers.
  std::uint64_t messages_received = 0;
  /// Messages queued for sending (error replies and refusals included).
  std::uint64_t messages_sent = 0;
  /// Messages that failed to decode, by kind, in the order the kinds first occurred.
  std::vector<decode_error_total> decode_errors;
  /// Messages dropped because a send queue was full (send_queue_policy::drop, try_write).
  std::uint64_t send_queue_dropped = 0;

  /// Handshakes that succeeded, failed, ran out of time (transports with a handshake).
  std::uint64_t handshakes_ok = 0;
  std::uint64_t handshakes_failed = 0;
  std::uint64_t handshakes_timed_out = 0;
  /// Handshakes that answered the peer themselves (a web page on a WebSocket port).
  std::uint64_t handshakes_answered = 0;

  /// How long sessions lasted, from their start to their end.
  duration_histogram connection_duration;

  /// Sessions ended, all reasons.
  std::uint64_t closed_total() const noexcept;
  /// Sessions running: accepted - closed_total() (never below zero).
  std::uint64_t active() const noexcept {
    const std::uint64_t ended = closed_total();
    return accepted > ended ? accepted - ended : 0;
  }
  /// Sessions that ended for `reason` (as counted: see `closed`).
  std::uint64_t closed_for(close_reason reason) const noexcept {
    return closed[static_cast<std::size_t>(reason)];
  }
  /// Decode errors of `kind` ("invalid_utf8", ...); 0 if none.
  std::uint64_t decode_errors_of(std::string_view kind) const noexcept;

  /// Adds another server's counts (its decode error kinds merged by name). Keeps this name.
  server_metrics& operator+=(const server_metrics& other);
};

/// The sum of two snapshots (the left one's name).
server_metrics operator+(server_metrics left, const server_metrics& right);

/// Reads a server's metrics from any thread, for as long as it is kept — also after the server
/// is gone (it then keeps reporting the final counts). What a metrics registry holds.
class server_metrics_source {
 public:
  server_metrics_source() = default;
  /// Used by the servers: `counters` may be null (metrics off).
  server_metrics_source(std::shared_ptr<const detail::server_counters> counters, std::string name)
      : counters_{std::move(counters)}, name_{std::move(name)} {}

  /// A snapshot now (zeros with the server's name when its metrics are off).
  server_metrics operator()() const;

 private:
  std::shared_ptr<const detail::server_counters> counters_;
  std::string name_;
};

}  // namespace coronet
