// The live counters behind server_metrics: written by the server's executor (one writer, relaxed
// load and store, no locked instruction), read by any thread. Shared (shared_ptr) between the
// server and whoever reads its metrics, so a reader never touches the server's sockets.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "coronet/connection_observer.hpp"
#include "coronet/endpoint/server_metrics.hpp"
#include "coronet/endpoint/server_observer.hpp"
#include "coronet/event_counter.hpp"

namespace coronet::detail {

struct server_counters {
  server_counters(std::string server_name, std::shared_ptr<server_observer> user, bool handshake)
      : name{std::move(server_name)}, user_observer{std::move(user)}, has_handshake{handshake} {}

  /// The observer connections report to: the user's (whose base counters then carry the
  /// traffic), or a plain one of ours.
  server_observer& attached() noexcept { return user_observer ? *user_observer : own_observer; }
  const server_observer& attached() const noexcept {
    return user_observer ? *user_observer : own_observer;
  }

  void session_ended(close_reason reason, std::chrono::steady_clock::duration lifetime) noexcept;
  void handshake_failed(bool timed_out, bool would_be_session) noexcept;

  /// A consistent-enough copy: each counter is read once (relaxed).
  server_metrics snapshot() const;

  const std::string name;
  server_observer own_observer;
  const std::shared_ptr<server_observer> user_observer;
  const bool has_handshake;

  event_counter accepted;
  event_counter refused_full;
  event_counter refused_handshake;
  std::array<event_counter, close_reason_count> closed;
  event_counter handshakes_ok;
  event_counter handshakes_failed;
  event_counter handshakes_timed_out;
  event_counter handshakes_answered;
  std::array<event_counter, connection_duration_bounds.size() + 1> duration_buckets;
  event_counter duration_nanoseconds;
};

}  // namespace coronet::detail
