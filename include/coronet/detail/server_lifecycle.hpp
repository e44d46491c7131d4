// The life of a server, stream or datagram alike: running, then stopping (no new work, running
// work drains until a deadline), then done. Also what both kinds share while running: a wake-up
// when a slot frees (a server at its limit waits for it), the back-off after a failed accept or
// receive (retrying at once would spin), and the log.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <system_error>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>

#include "coronet/detail/wake_signal.hpp"
#include "coronet/log.hpp"

namespace coronet::detail {

class server_lifecycle {
 public:
  server_lifecycle(const asio::any_io_executor& executor, log_hook log,
                   std::chrono::milliseconds drain_timeout)
      : log_{std::move(log)},
        drain_timeout_{drain_timeout},
        slot_freed_{executor},
        drain_deadline_{executor},
        backoff_timer_{executor} {}

  bool stopping() const noexcept { return stopping_; }

  void log(log_level level, const std::string& message) const {
    if (log_) log_(level, message);
  }

  /// Logs `message` unless more than rate_limited_per_second such records were logged in the
  /// last second (a flood of bad handshakes must not flood the log); the next record logged
  /// says how many were left out.
  void log_rate_limited(log_level level, const std::string& message) {
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= std::chrono::seconds{1}) {
      window_start_ = now;
      logged_in_window_ = 0;
    }
    if (logged_in_window_ >= rate_limited_per_second) {
      ++suppressed_;
      return;
    }
    ++logged_in_window_;
    if (suppressed_ == 0) {
      log(level, message);
      return;
    }
    log(level, message + " (" + std::to_string(suppressed_) + " similar records left out)");
    suppressed_ = 0;
  }

  /// Waits until a running unit (session, handler) ends, or the server stops.
  template <typename Token>
  auto wait_for_free_slot(Token&& token) {
    return slot_freed_.async_wait(std::forward<Token>(token));
  }

  /// A unit ended: wakes a loop waiting for a slot; the last one to end during a stop ends the
  /// drain (returns true then).
  bool unit_ended(bool none_left) {
    slot_freed_.notify_all();
    if (stopping_ && none_left) {
      drain_deadline_.cancel();
      return true;
    }
    return false;
  }

  /// A new operation (accept, receive) failed with `error`: logs it and completes `token`
  /// after a back-off that doubles from 10 ms up to 1 s while failures go on.
  template <typename Token>
  auto retry_after_failure(const std::string& what, const std::error_code& error, Token&& token) {
    using namespace std::chrono_literals;
    backoff_ = std::min<std::chrono::milliseconds>(std::max(backoff_ * 2, 10ms), 1s);
    log(log_level::error, what + " failed: " + error.message() + "; retrying in " +
                              std::to_string(backoff_.count()) + " ms");
    backoff_timer_.expires_after(backoff_);
    return backoff_timer_.async_wait(std::forward<Token>(token));
  }
  /// The operation succeeded: the next failure backs off from the start again.
  void succeeded() noexcept { backoff_ = std::chrono::milliseconds{0}; }

  /// Enters the stopping state (once; returns false if already stopping) and wakes every wait
  /// for a slot or a back-off, which must then see stopping() and end.
  bool begin_stop() {
    if (stopping_) return false;
    stopping_ = true;
    slot_freed_.notify_all();
    backoff_timer_.cancel();
    return true;
  }

  /// Lets running units drain: `on_deadline` runs if they have not all ended (unit_ended with
  /// none_left) within the drain timeout.
  template <typename OnDeadline>
  void drain(OnDeadline on_deadline) {
    drain_deadline_.expires_after(drain_timeout_);
    drain_deadline_.async_wait([on_deadline = std::move(on_deadline)](std::error_code error) {
      if (!error) on_deadline();
    });
  }

  /// Ends the drain now (everything ended, or the server is being destroyed).
  void end_drain() { drain_deadline_.cancel(); }

 private:
  log_hook log_;
  std::chrono::milliseconds drain_timeout_;
  wake_signal slot_freed_;
  asio::steady_timer drain_deadline_;
  asio::steady_timer backoff_timer_;
  std::chrono::milliseconds backoff_{0};
  static constexpr unsigned rate_limited_per_second = 10;
  std::chrono::steady_clock::time_point window_start_{};
  unsigned logged_in_window_ = 0;
  unsigned long long suppressed_ = 0;
  bool stopping_ = false;
};

}  // namespace coronet::detail
