// The deadline queue behind every connection's timeouts: order, moves, cancellation, and that an
// empty queue lets the io_context's run() return.
#include "coronet/detail/deadline_service.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <random>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/strand.hpp>
#include <catch2/catch.hpp>

namespace {

using coronet::detail::deadline_entry;
using coronet::detail::deadline_service;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct probe : deadline_entry {
  probe() : deadline_entry{&on_expired} {}
  static void on_expired(deadline_entry& entry) {
    auto& self = static_cast<probe&>(entry);
    self.fired_at.push_back(clock_type::now());
  }
  std::vector<clock_type::time_point> fired_at;
};

// Runs until the queue is empty (run() returns) or 5 s have passed.
std::chrono::nanoseconds run_until_idle(asio::io_context& io) {
  const auto start = clock_type::now();
  io.run_for(std::chrono::seconds{5});
  return clock_type::now() - start;
}

}  // namespace

TEST_CASE("deadline service calls every entry once, in expiry order, not before its deadline") {
  asio::io_context io;
  deadline_service& service = deadline_service::of(io.get_executor());
  std::vector<probe> probes(300);
  std::vector<clock_type::time_point> deadlines;
  std::mt19937 random{42};
  const auto start = clock_type::now();
  for (probe& entry : probes) {
    deadlines.push_back(start + milliseconds{random() % 60});
    service.schedule(entry, deadlines.back(), io.get_executor());
  }
  const auto elapsed = run_until_idle(io);
  CHECK(elapsed < std::chrono::seconds{2});  // run() returned by itself: nothing left queued.
  std::vector<std::size_t> order(probes.size());
  for (std::size_t i = 0; i < probes.size(); ++i) {
    REQUIRE(probes[i].fired_at.size() == 1);
    CHECK(probes[i].fired_at[0] >= deadlines[i]);
    order[i] = i;
  }
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return probes[a].fired_at[0] < probes[b].fired_at[0];
  });
  for (std::size_t i = 1; i < order.size(); ++i) {
    CHECK(deadlines[order[i - 1]] <= deadlines[order[i]]);
  }
}

TEST_CASE("deadline service moves an entry earlier or later") {
  asio::io_context io;
  deadline_service& service = deadline_service::of(io.get_executor());
  probe sooner;
  probe later;
  const auto start = clock_type::now();
  service.schedule(sooner, start + std::chrono::hours{1}, io.get_executor());
  service.schedule(later, start + milliseconds{5}, io.get_executor());
  service.schedule(sooner, start + milliseconds{10}, io.get_executor());  // Earlier.
  service.schedule(later, start + milliseconds{40}, io.get_executor());   // Later.
  run_until_idle(io);
  REQUIRE(sooner.fired_at.size() == 1);
  REQUIRE(later.fired_at.size() == 1);
  CHECK(sooner.fired_at[0] >= start + milliseconds{10});
  CHECK(later.fired_at[0] >= start + milliseconds{40});
}

TEST_CASE("deadline service never calls a cancelled entry, and an empty queue ends run()") {
  asio::io_context io;
  deadline_service& service = deadline_service::of(io.get_executor());
  std::vector<probe> probes(100);
  const auto start = clock_type::now();
  for (std::size_t i = 0; i < probes.size(); ++i) {
    service.schedule(probes[i], start + milliseconds{20 + i % 7}, io.get_executor());
  }
  for (std::size_t i = 0; i < probes.size(); i += 2)
    service.cancel(probes[i]);
  run_until_idle(io);
  for (std::size_t i = 0; i < probes.size(); ++i) {
    CHECK(probes[i].fired_at.size() == (i % 2 == 0 ? 0U : 1U));
  }

  // Queued an hour ahead, then cancelled: run() must not wait for it.
  io.restart();
  probe distant;
  service.schedule(distant, clock_type::now() + std::chrono::hours{1}, io.get_executor());
  service.cancel(distant);
  CHECK(run_until_idle(io) < std::chrono::seconds{1});
  CHECK(distant.fired_at.empty());
}

TEST_CASE("deadline service serves one io_context run by several threads") {
  // Entries scheduled, moved and cancelled from two threads at once (each its own strand, as
  // connections on a multi-threaded io_context are); every kept entry fires once, none twice.
  asio::io_context io{2};
  deadline_service& service = deadline_service::of(io.get_executor());
  constexpr std::size_t per_thread = 200;
  std::vector<probe> probes(2 * per_thread);
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&io] { io.run_for(std::chrono::seconds{5}); });
  for (std::size_t t = 0; t < 2; ++t) {
    auto strand = asio::make_strand(io);
    asio::post(strand, [&, t, strand] {
      const auto start = clock_type::now();
      for (std::size_t i = t * per_thread; i < (t + 1) * per_thread; ++i) {
        service.schedule(probes[i], start + std::chrono::hours{1}, strand);
        service.schedule(probes[i], start + milliseconds{5 + i % 20}, strand);
        if (i % 4 == 0) service.cancel(probes[i]);
      }
    });
  }
  work.reset();
  for (std::thread& thread : threads)
    thread.join();
  for (std::size_t i = 0; i < probes.size(); ++i) {
    CHECK(probes[i].fired_at.size() == (i % 4 == 0 ? 0U : 1U));
  }
}
