// The phases the traffic modes (echo, chat) share once their connections are open: start every
// connection's reader, warm up, measure, then drain what is still in flight, within bounds.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/this_coro.hpp>

#include "common.hpp"

namespace load {

/// Starts `peer->run()` for every peer; run.active counts the readers still running.
/// `Run` has `active` (std::size_t) and `errors` (error_log). The texts are string literals:
/// a std::string made in a co_await expression is what g++ 12 may destroy twice.
template <typename Run, typename Peer>
asio::awaitable<void> start_readers(Run& run, std::vector<std::unique_ptr<Peer>>& peers,
                                    const char* what_threw) {
  const auto executor = co_await asio::this_coro::executor;
  for (auto& peer : peers) {
    ++run.active;  // Counted here: co_spawn may start the reader later.
    asio::co_spawn(executor, peer->run(), [&run, what_threw](std::exception_ptr failure) {
      if (failure) run.errors.add(what_threw);
      --run.active;
    });
  }
}

/// Warm-up, the measured interval (run.measured gets its duration and this process's CPU
/// time), then up to settings.drain_timeout for the replies still in flight, which are verified
/// but not measured. `in_flight(peer)` is what an open peer still waits for; whatever is left
/// at the end is one error, "<count> <missing_what> <timeout> ms after the end". Every peer's
/// socket is closed, then its reader gets a second to end. `Run` has `settings`, `now_in`
/// (a phase enum with measure, drain and stopped), `measured`, `active` and `errors`.
template <typename Run, typename Peer, typename InFlight>
asio::awaitable<void> measure_then_drain(Run& run, std::vector<std::unique_ptr<Peer>>& peers,
                                         InFlight in_flight, const char* missing_what) {
  using phase = decltype(run.now_in);
  const options& settings = run.settings;
  auto all_failed = [&run] { return run.active == 0; };
  co_await wait_until(all_failed, clock::now() + settings.warmup);

  run.now_in = phase::measure;
  const clock::time_point start = clock::now();
  const auto cpu_start = process_cpu_time();
  co_await wait_until(all_failed, start + settings.duration);
  run.now_in = phase::drain;
  run.measured.elapsed = clock::now() - start;
  run.measured.cpu = process_cpu_time() - cpu_start;

  const auto left = [&in_flight](Peer& peer) -> std::uint64_t {
    return peer.stream().is_open() ? in_flight(peer) : 0;
  };
  auto drained = [&peers, &left] {
    return std::all_of(peers.begin(), peers.end(),
                       [&left](const auto& peer) { return left(*peer) == 0; });
  };
  co_await wait_until(drained, clock::now() + settings.drain_timeout);
  run.now_in = phase::stopped;
  std::uint64_t missing = 0;
  for (auto& peer : peers) {
    missing += left(*peer);
    std::error_code ignored;
    peer->stream().close(ignored);
  }
  if (missing > 0) {
    run.errors.add(std::to_string(missing) + " " + std::string{missing_what} + " " +
                   std::to_string(settings.drain_timeout.count()) + " ms after the end");
  }
  co_await wait_until(all_failed, clock::now() + std::chrono::seconds{1});
}

}  // namespace load
