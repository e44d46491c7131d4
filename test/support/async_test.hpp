// Runs a coroutine test on its own io_context, bounded in time, and rethrows what it threw.
//
// Never co_await inside a Catch2 assertion macro (CHECK(co_await x)): g++ 12 miscompiles a
// co_await inside the macro's expression (bad_alloc, lost exceptions). Await into a variable,
// then assert on it.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>

namespace coronet_test {

/// Runs `test(io)` to completion within `limit` (default 10 s) or fails; rethrows its exception.
template <typename Test>
void run_async(Test&& test, std::chrono::milliseconds limit = std::chrono::seconds{10}) {
  asio::io_context io;
  bool done = false;
  std::exception_ptr failure;
  asio::co_spawn(io, std::forward<Test>(test)(io), [&](std::exception_ptr error) {
    done = true;
    failure = error;
    io.stop();  // Servers and timers the test left behind must not keep it running.
  });
  io.run_for(limit);
  if (failure) std::rethrow_exception(failure);
  if (!done)
    throw std::runtime_error("coroutine test did not finish within " +
                             std::to_string(limit.count()) + " ms");
}

/// Suspends the calling coroutine for `duration`.
inline asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer{co_await asio::this_coro::executor, duration};
  co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace coronet_test
