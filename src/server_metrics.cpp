// server_metrics: sums of snapshots, and the live counters' snapshot.
#include "coronet/endpoint/server_metrics.hpp"

#include <algorithm>
#include <numeric>

#include "coronet/detail/server_counters.hpp"

namespace coronet {

std::uint64_t duration_histogram::count() const noexcept {
  return std::accumulate(buckets.begin(), buckets.end(), std::uint64_t{0});
}

duration_histogram& duration_histogram::operator+=(const duration_histogram& other) noexcept {
  for (std::size_t i = 0; i < buckets.size(); ++i)
    buckets[i] += other.buckets[i];
  sum_seconds += other.sum_seconds;
  return *this;
}

std::uint64_t server_metrics::closed_total() const noexcept {
  return std::accumulate(closed.begin(), closed.end(), std::uint64_t{0});
}

std::uint64_t server_metrics::decode_errors_of(std::string_view kind) const noexcept {
  for (const decode_error_total& entry : decode_errors) {
    if (entry.kind == kind) return entry.count;
  }
  return 0;
}

server_metrics& server_metrics::operator+=(const server_metrics& other) {
  has_handshake = has_handshake || other.has_handshake;
  accepted += other.accepted;
  refused_full += other.refused_full;
  refused_handshake += other.refused_handshake;
  for (std::size_t i = 0; i < closed.size(); ++i)
    closed[i] += other.closed[i];
  bytes_received += other.bytes_received;
  bytes_sent += other.bytes_sent;
  messages_received += other.messages_received;
  messages_sent += other.messages_sent;
  for (const decode_error_total& entry : other.decode_errors) {
    auto same =
        std::find_if(decode_errors.begin(), decode_errors.end(),
                     [&](const decode_error_total& mine) { return mine.kind == entry.kind; });
    if (same == decode_errors.end()) {
      decode_errors.push_back(entry);
    } else {
      same->count += entry.count;
    }
  }
  send_queue_dropped += other.send_queue_dropped;
  handshakes_ok += other.handshakes_ok;
  handshakes_failed += other.handshakes_failed;
  handshakes_timed_out += other.handshakes_timed_out;
  handshakes_answered += other.handshakes_answered;
  connection_duration += other.connection_duration;
  return *this;
}

server_metrics operator+(server_metrics left, const server_metrics& right) {
  left += right;
  return left;
}

server_metrics server_metrics_source::operator()() const {
  if (counters_) return counters_->snapshot();
  server_metrics zeros;
  zeros.server = name_;
  return zeros;
}

}  // namespace coronet

namespace coronet::detail {

void server_counters::session_ended(close_reason reason,
                                    std::chrono::steady_clock::duration lifetime) noexcept {
  // The names in the metrics' contract: a handler that returned without a cause of the
  // connection's own is handler_done; TLS's truncated end is the peer closing.
  if (reason == close_reason::none) reason = close_reason::handler_done;
  if (reason == close_reason::truncated) reason = close_reason::peer_closed;
  closed[static_cast<std::size_t>(reason)].add(1);
  const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(lifetime).count();
  const double seconds = static_cast<double>(nanoseconds) / 1e9;
  const auto bound = std::lower_bound(connection_duration_bounds.begin(),
                                      connection_duration_bounds.end(), seconds);
  duration_buckets[static_cast<std::size_t>(bound - connection_duration_bounds.begin())].add(1);
  duration_nanoseconds.add(nanoseconds > 0 ? static_cast<std::uint64_t>(nanoseconds) : 0);
}

void server_counters::handshake_failed(bool timed_out, bool would_be_session) noexcept {
  (timed_out ? handshakes_timed_out : handshakes_failed).add(1);
  // A refusal's failed handshake was already counted as refused (full).
  if (would_be_session) refused_handshake.add(1);
}

server_metrics server_counters::snapshot() const {
  server_metrics out;
  out.server = name;
  out.has_handshake = has_handshake;
  // Ends before starts: a session that ends between the two reads is then counted as accepted
  // too (active() also saturates at zero, the reads being relaxed).
  for (std::size_t i = 0; i < closed.size(); ++i)
    out.closed[i] = closed[i].value();
  for (std::size_t i = 0; i < duration_buckets.size(); ++i) {
    out.connection_duration.buckets[i] = duration_buckets[i].value();
  }
  out.connection_duration.sum_seconds = static_cast<double>(duration_nanoseconds.value()) / 1e9;
  out.accepted = accepted.value();
  out.refused_full = refused_full.value();
  out.refused_handshake = refused_handshake.value();
  const server_observer& traffic = attached();
  out.bytes_received = traffic.bytes_received.value();
  out.bytes_sent = traffic.bytes_sent.value();
  out.messages_received = traffic.messages_received.value();
  out.messages_sent = traffic.messages_sent.value();
  traffic.decode_errors.for_each([&out](std::error_code kind, std::uint64_t count) {
    out.decode_errors.push_back({decode_error_kind(kind), count});
  });
  if (const std::uint64_t other = traffic.decode_errors.overflow(); other != 0) {
    out.decode_errors.push_back({"other", other});
  }
  out.send_queue_dropped = traffic.send_queue_dropped.value();
  out.handshakes_ok = handshakes_ok.value();
  out.handshakes_failed = handshakes_failed.value();
  out.handshakes_timed_out = handshakes_timed_out.value();
  out.handshakes_answered = handshakes_answered.value();
  return out;
}

}  // namespace coronet::detail
