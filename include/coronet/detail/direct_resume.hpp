// Awaiting an operation, and spawning a coroutine, with fewer coroutine frames than Asio's
// use_awaitable and co_spawn take.
//
// Why: every frame a suspended coroutine holds costs memory for as long as it waits, and an idle
// connection waits all its life. Asio 1.22's use_awaitable gives each awaited operation a frame
// of its own (async_result::initiate, 176 bytes), and co_spawn an entry frame (448 bytes, with
// two work guards and a second cancellation state). Here the awaiting coroutine is resumed
// straight from the operation's completion handler, and a spawned coroutine's entry frame holds
// only what ending it needs.
//
// How: through the internals use_awaitable and co_spawn themselves use (awaitable_frame_base's
// await_transform for a function, awaitable_thread). Those are Asio's detail API, so the direct
// path is compiled only for the Asio versions it was checked against (1.22); elsewhere, or with
// CORONET_PORTABLE_AWAIT defined, the same calls go through use_awaitable and co_spawn (a test
// target builds that path too).
#pragma once

#include <exception>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/version.hpp>

#if ASIO_VERSION >= 102200 && ASIO_VERSION < 102300 && !defined(CORONET_PORTABLE_AWAIT)
#define CORONET_DIRECT_RESUME 1
#else
#define CORONET_DIRECT_RESUME 0
#endif

// Readability waits started in Asio's epoll reactor directly (stream/detail/inline_wait.hpp):
// the same Asio versions, where sockets run on the epoll reactor (not io_uring).
#if CORONET_DIRECT_RESUME && defined(ASIO_HAS_EPOLL) && !defined(ASIO_HAS_IO_URING_AS_DEFAULT)
#define CORONET_REACTOR_WAIT 1
#else
#define CORONET_REACTOR_WAIT 0
#endif

namespace coronet::detail {

#if CORONET_DIRECT_RESUME

/// A coroutine suspended by `co_await suspend_then(start)`: it owns the coroutine's stack until
/// resume() continues the coroutine where it waits, on the thread that calls resume(). Destroyed
/// without resume() (its io_context shut down), it destroys that stack, as use_awaitable's
/// handler does.
template <typename Executor>
class suspended_coroutine : private asio::detail::awaitable_thread<Executor> {
  using thread = asio::detail::awaitable_thread<Executor>;

 public:
  using executor_type = Executor;
  /// The coroutine's own cancellation slot, as with use_awaitable. Cleared by resume().
  using cancellation_slot_type = asio::cancellation_slot;

  explicit suspended_coroutine(asio::detail::awaitable_frame_base<Executor>* waiting)
      : thread{std::move(*waiting->detach_thread())} {}
  suspended_coroutine(suspended_coroutine&&) noexcept = default;

  executor_type get_executor() const noexcept { return thread::get_executor(); }
  cancellation_slot_type get_cancellation_slot() const noexcept {
    return thread::get_cancellation_slot();
  }

  void resume() {
    if (get_cancellation_slot().is_connected()) get_cancellation_slot().clear();
    // The waiting frame is still the top of the stack (nothing was pushed for the operation):
    // launch() attaches this thread to it and resumes it.
    this->launch();
  }
};

/// The completion handler of an operation awaited through resume_after: stores the operation's
/// error where the coroutine reads it and resumes the coroutine (see suspended_coroutine).
template <typename Executor>
class resume_handler {
 public:
  using executor_type = Executor;
  /// The coroutine's own cancellation slot, as with use_awaitable (bind another with
  /// asio::bind_cancellation_slot). Cleared when the operation completes.
  using cancellation_slot_type = asio::cancellation_slot;

  resume_handler(asio::detail::awaitable_frame_base<Executor>* waiting, std::error_code* result)
      : coroutine_{waiting}, result_{result} {}
  resume_handler(resume_handler&&) noexcept = default;

  executor_type get_executor() const noexcept { return coroutine_.get_executor(); }
  cancellation_slot_type get_cancellation_slot() const noexcept {
    return coroutine_.get_cancellation_slot();
  }

  void operator()(std::error_code error) {
    *result_ = error;
    coroutine_.resume();
  }

 private:
  suspended_coroutine<Executor> coroutine_;
  std::error_code* result_;
};

// What suspend_then returns: Asio calls it once the coroutine is suspended (so a completion on
// another thread cannot resume it too early).
template <typename Start>
struct suspend_then_operation {
  Start start;

  template <typename Executor>
  asio::detail::awaitable_thread<Executor>* operator()(
      asio::detail::awaitable_frame_base<Executor>* waiting) {
    start(suspended_coroutine<Executor>{waiting});
    return nullptr;  // start's operation owns the stack now.
  }
};

/// `co_await suspend_then(start)` suspends the calling asio::awaitable coroutine without a frame
/// of its own and calls start(coroutine) with the suspended_coroutine, which whatever start
/// began calls resume() on when it is done. Not from inside start itself: the coroutine is
/// still being suspended there (post the resumption instead).
template <typename Start>
suspend_then_operation<Start> suspend_then(Start start) {
  return {std::move(start)};
}

// What resume_after returns: Asio calls it once the coroutine is suspended (so a completion on
// another thread cannot resume it too early).
template <typename Start>
struct resume_after_operation {
  Start start;
  std::error_code* result;

  template <typename Executor>
  asio::detail::awaitable_thread<Executor>* operator()(
      asio::detail::awaitable_frame_base<Executor>* waiting) {
    start(resume_handler<Executor>{waiting, result});
    return nullptr;  // The handler owns the stack now.
  }
};

/// `co_await resume_after(start, error)` suspends the calling asio::awaitable coroutine and
/// calls start(handler); once the operation that start began calls handler(std::error_code),
/// `error` holds that code and the coroutine goes on.
template <typename Start>
resume_after_operation<Start> resume_after(Start start, std::error_code& result) {
  return {std::move(start), &result};
}

// The bottom frame of a spawned coroutine: runs the task's body, then reports how it ended.
template <typename Executor, typename Task>
asio::awaitable<asio::detail::awaitable_thread_entry_point, Executor> spawned_entry(Task task) {
  try {
    co_await std::move(task.body());  // Its frame is gone once this returns or throws.
  } catch (...) {
    std::move(task).done(std::current_exception());
    co_return;
  }
  std::move(task).done(std::exception_ptr{});
}

/// Runs a task's coroutine on `executor` as a thread of execution of its own, as asio::co_spawn
/// does, with a smaller entry frame. A Task is a movable object with
///   asio::awaitable<void, Executor>& body();      // the coroutine, started once
///   void done(const std::exception_ptr&) &&;      // called when it returns or throws
/// that lives in the entry frame (destroyed with it if the coroutine never ends, as when its
/// io_context is destroyed first). A terminal cancellation emitted on `cancel` cancels what the
/// body awaits. The coroutine holds no work guard of its own: an Asio operation it waits for
/// counts as work, as always.
template <typename AnyExecutor, typename Task>
void spawn(const AnyExecutor& any_executor, Task task, asio::cancellation_slot cancel) {
  using Executor = typename std::decay_t<decltype(task.body())>::executor_type;
  const Executor executor{any_executor};
  asio::dispatch(executor,
                 [entry = spawned_entry<Executor>(std::move(task)), executor, cancel]() mutable {
                   asio::detail::awaitable_thread<Executor>{std::move(entry), executor, cancel,
                                                            asio::cancellation_state{cancel}}
                       .launch();
                 });
}

#else  // The portable path: the same calls through use_awaitable and co_spawn.

template <typename Start>
asio::awaitable<void> resume_after(Start start, std::error_code& result) {
  constexpr auto token = asio::experimental::as_tuple(asio::use_awaitable);
  auto [error] = co_await asio::async_initiate<decltype(token), void(std::error_code)>(
      [&start](auto handler) { start(std::move(handler)); }, token);
  result = error;
}

// A coroutine suspended in suspend_then, as use_awaitable's completion handler.
template <typename Handler>
class suspended_coroutine {
 public:
  using executor_type = asio::associated_executor_t<Handler>;
  using cancellation_slot_type = asio::cancellation_slot;

  explicit suspended_coroutine(Handler handler) : handler_{std::move(handler)} {}

  executor_type get_executor() const noexcept { return asio::get_associated_executor(handler_); }
  cancellation_slot_type get_cancellation_slot() const noexcept {
    return asio::get_associated_cancellation_slot(handler_);
  }

  void resume() {
    if (get_cancellation_slot().is_connected()) get_cancellation_slot().clear();
    std::move(handler_)();
  }

 private:
  Handler handler_;
};

template <typename Start>
asio::awaitable<void> suspend_then(Start start) {
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [&start](auto handler) { start(suspended_coroutine<decltype(handler)>{std::move(handler)}); },
      asio::use_awaitable);
}

template <typename AnyExecutor, typename Task>
void spawn(const AnyExecutor& executor, Task task, asio::cancellation_slot cancel) {
  auto body = std::move(task.body());
  asio::co_spawn(executor, std::move(body),
                 asio::bind_cancellation_slot(
                     cancel, [task = std::move(task)](const std::exception_ptr& failure) mutable {
                       std::move(task).done(failure);
                     }));
}

#endif

}  // namespace coronet::detail
