// A condition variable for coroutines on one executor: waiters suspend until notify_all() (or
// their own cancellation), then re-check their condition. A timer that never expires, whose
// cancellation is the notification: the cheapest wake-up Asio 1.22 has (no allocation beyond
// the waits themselves).
#pragma once

#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>

namespace coronet::detail {

class wake_signal {
 public:
  explicit wake_signal(const asio::any_io_executor& executor)
      : timer_{executor, asio::steady_timer::time_point::max()} {}

  /// Completes with operation_aborted at the next notify_all(), or when the wait's own
  /// cancellation slot is emitted. Callers re-check what they wait for either way.
  template <typename Token>
  auto async_wait(Token&& token) {
    return timer_.async_wait(std::forward<Token>(token));
  }

  asio::any_io_executor get_executor() { return timer_.get_executor(); }

  /// Wakes every waiter.
  void notify_all() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

}  // namespace coronet::detail
