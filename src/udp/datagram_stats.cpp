// Datagram counters: snapshots of the live counters, and sums of snapshots.
#include "coronet/udp/datagram_stats.hpp"

#include <algorithm>

#include "coronet/udp/detail/datagram_counters.hpp"

namespace coronet {

datagram_stats& operator+=(datagram_stats& total, const datagram_stats& other) noexcept {
  total.received += other.received;
  total.rejected_oversize += other.rejected_oversize;
  total.rejected_invalid_utf8 += other.rejected_invalid_utf8;
  total.rejected_other += other.rejected_other;
  total.receive_errors += other.receive_errors;
  total.sent += other.sent;
  total.send_errors += other.send_errors;
  total.bytes_received += other.bytes_received;
  total.bytes_sent += other.bytes_sent;
  return total;
}

datagram_server_stats& operator+=(datagram_server_stats& total,
                                  const datagram_server_stats& other) noexcept {
  total.endpoint += other.endpoint;
  total.handled += other.handled;
  total.handler_failures += other.handler_failures;
  total.dropped_busy += other.dropped_busy;
  total.peak_handlers = std::max(total.peak_handlers, other.peak_handlers);
  return total;
}

datagram_server_metrics datagram_server_metrics_source::operator()() const {
  if (!counters_) return {};
  return datagram_server_metrics{counters_->name, counters_->snapshot()};
}

}  // namespace coronet

namespace coronet::detail {

datagram_stats datagram_counters::snapshot() const noexcept {
  datagram_stats out;
  // Rejections before receptions: a datagram counted between the reads is received, and
  // delivered() (received minus rejected) does not go below zero.
  out.rejected_oversize = rejected_oversize.value();
  out.rejected_invalid_utf8 = rejected_invalid_utf8.value();
  out.rejected_other = rejected_other.value();
  out.received = received.value();
  out.receive_errors = receive_errors.value();
  out.sent = sent.value();
  out.send_errors = send_errors.value();
  out.bytes_received = bytes_received.value();
  out.bytes_sent = bytes_sent.value();
  return out;
}

datagram_server_stats datagram_server_counters::snapshot() const noexcept {
  datagram_server_stats out;
  out.handled = handled.value();
  out.handler_failures = handler_failures.value();
  out.dropped_busy = dropped_busy.value();
  out.peak_handlers = peak_handlers.load(std::memory_order_relaxed);
  out.endpoint = endpoint->snapshot();
  return out;
}

}  // namespace coronet::detail
