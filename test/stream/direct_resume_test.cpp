// detail::resume_after and detail::spawn: the ways every connection awaits its socket and every
// server handler is started. Built twice: over Asio's internals (the direct path) and with
// CORONET_PORTABLE_AWAIT (use_awaitable and co_spawn); both must behave the same.
#include "coronet/detail/direct_resume.hpp"

#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <asio/cancellation_signal.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <catch2/catch.hpp>

// Each build runs the path it is named for.
#if defined(CORONET_PORTABLE_AWAIT)
static_assert(!CORONET_DIRECT_RESUME, "the portable build must go through use_awaitable");
#elif ASIO_VERSION >= 102200 && ASIO_VERSION < 102300
static_assert(CORONET_DIRECT_RESUME, "with Asio 1.22 the direct path is the one compiled");
#endif

namespace {

using coronet::detail::resume_after;
using std::chrono::milliseconds;

// Counts the coroutines alive that hold one: proves a frame was destroyed.
struct frame_sentinel {
  explicit frame_sentinel(int& alive) : alive_{&alive} { ++*alive_; }
  frame_sentinel(const frame_sentinel&) = delete;
  frame_sentinel& operator=(const frame_sentinel&) = delete;
  ~frame_sentinel() { --*alive_; }
  int* alive_;
};

// Waits for `timer` through resume_after, bound to `cancel`.
asio::awaitable<std::error_code> wait_for(asio::steady_timer& timer, asio::cancellation_slot cancel,
                                          int& alive) {
  const frame_sentinel sentinel{alive};
  std::error_code error = asio::error::would_block;  // Overwritten by the wait's result.
  co_await resume_after(
      [&](auto resume) {
        timer.async_wait(asio::bind_cancellation_slot(cancel, std::move(resume)));
      },
      error);
  co_return error;
}

// Coroutines take what they use as parameters, never as lambda captures: a coroutine lambda's
// captures die with the closure, before the coroutine ends.
asio::awaitable<void> store_wait(asio::steady_timer& timer, asio::cancellation_slot cancel,
                                 int& alive, std::error_code& result) {
  result = co_await wait_for(timer, cancel, alive);
}

asio::awaitable<void> hold_and_wait(asio::steady_timer& timer, int& alive) {
  const frame_sentinel outer{alive};
  co_await wait_for(timer, {}, alive);
}

asio::awaitable<void> throw_at_once() {
  throw std::runtime_error{"handler failed"};
  co_return;
}

asio::awaitable<void> wait_through_use_awaitable(asio::steady_timer& timer,
                                                 std::error_code& result) {
  auto [error] = co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  result = error;
}

// Waits `waits` times for an already expired timer of the plain io_context; counts the resumes
// that were not on `strand`.
asio::awaitable<void> wait_on_strand(asio::io_context& io,
                                     asio::strand<asio::io_context::executor_type>& strand,
                                     int waits, int& off_strand) {
  for (int n = 0; n < waits; ++n) {
    std::error_code error;
    asio::steady_timer due{io, asio::steady_timer::time_point{}};
    co_await resume_after([&](auto resume) { due.async_wait(std::move(resume)); }, error);
    if (!strand.running_in_this_thread()) ++off_strand;
  }
}

// A task for detail::spawn that records how its body ended.
struct recording_task {
  asio::awaitable<void>& body() { return coroutine; }
  void done(const std::exception_ptr& failure) && {
    *finished = true;
    *outcome = failure;
  }

  asio::awaitable<void> coroutine;
  bool* finished;
  std::exception_ptr* outcome;
};

}  // namespace

TEST_CASE("resume_after resumes the coroutine with the operation's result") {
  asio::io_context io;
  asio::steady_timer timer{io, milliseconds{5}};
  int alive = 0;
  std::error_code result = asio::error::would_block;
  bool finished = false;
  std::exception_ptr outcome;
  coronet::detail::spawn(io.get_executor(),
                         recording_task{store_wait(timer, {}, alive, result), &finished, &outcome},
                         asio::cancellation_slot{});
  io.run_for(std::chrono::seconds{5});
  CHECK(finished);
  CHECK_FALSE(outcome);
  CHECK(result == std::error_code{});
  CHECK(alive == 0);
}

TEST_CASE("resume_after: cancelling through the bound slot ends the wait with operation_aborted") {
  asio::io_context io;
  asio::steady_timer timer{io, std::chrono::hours{1}};
  asio::cancellation_signal cancel;
  int alive = 0;
  std::error_code result;
  bool finished = false;
  std::exception_ptr outcome;
  coronet::detail::spawn(
      io.get_executor(),
      recording_task{store_wait(timer, cancel.slot(), alive, result), &finished, &outcome},
      asio::cancellation_slot{});
  asio::steady_timer later{io, milliseconds{5}};
  later.async_wait([&](std::error_code) { cancel.emit(asio::cancellation_type::terminal); });
  io.run_for(std::chrono::seconds{5});
  REQUIRE(finished);
  CHECK(result == asio::error::operation_aborted);
  CHECK(alive == 0);
}

TEST_CASE(
    "spawn: the task hears of a body that throws, and a terminal cancellation on its slot "
    "reaches what the body awaits") {
  asio::io_context io;
  bool threw_finished = false;
  std::exception_ptr threw_outcome;
  coronet::detail::spawn(io.get_executor(),
                         recording_task{throw_at_once(), &threw_finished, &threw_outcome},
                         asio::cancellation_slot{});

  asio::cancellation_signal stop;
  asio::steady_timer forever{io, std::chrono::hours{1}};
  std::error_code waited;
  bool cancelled_finished = false;
  std::exception_ptr cancelled_outcome;
  coronet::detail::spawn(io.get_executor(),
                         recording_task{wait_through_use_awaitable(forever, waited),
                                        &cancelled_finished, &cancelled_outcome},
                         stop.slot());
  asio::steady_timer later{io, milliseconds{5}};
  later.async_wait([&](std::error_code) { stop.emit(asio::cancellation_type::terminal); });
  io.run_for(std::chrono::seconds{5});

  REQUIRE(threw_finished);
  REQUIRE(threw_outcome);
  CHECK_THROWS_WITH(std::rethrow_exception(threw_outcome), "handler failed");
  REQUIRE(cancelled_finished);
  CHECK_FALSE(cancelled_outcome);
  CHECK(waited == asio::error::operation_aborted);
}

TEST_CASE("a coroutine suspended in resume_after is destroyed with its io_context, task too") {
  int alive = 0;
  bool finished = false;
  std::exception_ptr outcome;
  {
    asio::io_context io;
    asio::steady_timer timer{io, std::chrono::hours{1}};
    coronet::detail::spawn(io.get_executor(),
                           recording_task{hold_and_wait(timer, alive), &finished, &outcome},
                           asio::cancellation_slot{});
    io.run_for(milliseconds{20});
    CHECK(alive == 2);  // Both frames are suspended, waiting.
  }
  CHECK(alive == 0);  // The io_context took the frames with it (ASan would see a leak).
  CHECK_FALSE(finished);
}

TEST_CASE(
    "resume_after resumes on the coroutine's strand, though the operation's own executor "
    "is the plain two-thread io_context") {
  asio::io_context io{2};
  auto strand = asio::make_strand(io);
  constexpr int coroutines = 8;
  constexpr int waits = 50;
  int off_strand = 0;  // Only touched on the strand.
  bool finished[coroutines] = {};
  std::exception_ptr outcomes[coroutines];
  for (int i = 0; i < coroutines; ++i) {
    coronet::detail::spawn(
        asio::any_io_executor{strand},
        recording_task{wait_on_strand(io, strand, waits, off_strand), &finished[i], &outcomes[i]},
        asio::cancellation_slot{});
  }
  std::thread second{[&] { io.run_for(std::chrono::seconds{5}); }};
  io.run_for(std::chrono::seconds{5});
  second.join();
  CHECK(off_strand == 0);
  for (int i = 0; i < coroutines; ++i) {
    CHECK(finished[i]);
    CHECK_FALSE(outcomes[i]);
  }
}
