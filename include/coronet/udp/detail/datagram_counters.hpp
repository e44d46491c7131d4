// The live counters behind datagram_stats and datagram_server_stats: written by the endpoint's
// (or server's) executor, one writer with relaxed load and store, read from any thread. Shared
// (shared_ptr) so that a metrics reader never touches the socket.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "coronet/event_counter.hpp"
#include "coronet/udp/datagram_stats.hpp"

namespace coronet::detail {

struct datagram_counters {
  event_counter received;
  event_counter rejected_oversize;
  event_counter rejected_invalid_utf8;
  event_counter rejected_other;
  event_counter receive_errors;
  event_counter sent;
  event_counter send_errors;
  event_counter bytes_received;
  event_counter bytes_sent;

  datagram_stats snapshot() const noexcept;
};

struct datagram_server_counters {
  datagram_server_counters(std::string server_name, std::shared_ptr<const datagram_counters> ends)
      : name{std::move(server_name)}, endpoint{std::move(ends)} {}

  void saw_handlers(std::size_t running) noexcept {
    if (running > peak_handlers.load(std::memory_order_relaxed)) {
      peak_handlers.store(running, std::memory_order_relaxed);
    }
  }
  datagram_server_stats snapshot() const noexcept;

  const std::string name;
  const std::shared_ptr<const datagram_counters> endpoint;
  event_counter handled;
  event_counter handler_failures;
  event_counter dropped_busy;
  std::atomic<std::size_t> peak_handlers{0};
};

}  // namespace coronet::detail
