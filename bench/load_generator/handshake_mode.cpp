// Handshake mode: what a new connection costs the server. C workers, each over and over: connect,
// handshake (with --tls; a full one every time: the client keeps no sessions), send one line,
// read its echo, close with a reset (no close_notify, no TIME_WAIT). A cycle counts once its
// echo is verified; its latency runs from the connect to the echo. A failed cycle (refused,
// handshake error, wrong or missing echo) is counted and printed (the first few) and the worker
// goes on with a new connection.
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include "common.hpp"
#include "line_buffer.hpp"
#include "messages.hpp"
#include "modes.hpp"

namespace load {

namespace {

using namespace asio::experimental::awaitable_operators;

enum class phase { warmup, measure, drain };

struct handshake_run {
  explicit handshake_run(const options& run_options) : settings{run_options} {}

  const options& settings;
  endpoint target;
  std::shared_ptr<tls_client> tls;
  phase now_in = phase::warmup;
  measurement measured;          // messages: cycles completed in the measured time.
  std::uint64_t all_cycles = 0;  // Every verified cycle, warm-up and drain included.
  std::uint64_t failures = 0;    // Cycles that failed.
  std::size_t active = 0;        // Workers still running.
  error_log errors;
};

// Sends message `seq` of worker `id` and reads its echo; returns what went wrong, or nothing.
asio::awaitable<std::string> exchange(stream& connection, std::uint64_t id, std::uint64_t seq,
                                      std::size_t size) {
  std::string message;
  append_message(message, id, seq, size);
  auto [write_error, written] =
      co_await asio::async_write(connection, asio::buffer(message), as_tuple);
  if (write_error) co_return "write: " + write_error.message();
  line_buffer input{4096, size};
  while (true) {
    const std::span<char> space = input.prepare();
    auto [error, count] =
        co_await connection.async_read_some(asio::buffer(space.data(), space.size()), as_tuple);
    if (error == asio::error::eof) co_return "the server closed the connection before the echo";
    if (error) co_return "read: " + error.message();
    input.commit(count);
    if (const auto line = input.next_line()) {
      if (!is_message(*line, id, seq, size)) co_return "wrong echo " + excerpt(*line);
      co_return std::string{};
    }
    if (input.overflowed()) co_return "no newline in the reply";
  }
}

// One connection's life; returns what went wrong, or nothing.
asio::awaitable<std::string> cycle(handshake_run& run, stream& connection, std::uint64_t id,
                                   std::uint64_t seq) {
  const std::chrono::milliseconds timeout = run.settings.connect_timeout;
  const open_result opened = co_await open_stream(connection, run.target, timeout);
  if (opened.error) co_return opened.describe();
  asio::steady_timer timer{connection.get_executor(), timeout};
  auto result = co_await (exchange(connection, id, seq, run.settings.message_size) ||
                          timer.async_wait(as_tuple));
  if (result.index() == 1) co_return "no echo within the connect timeout";
  co_return std::get<0>(std::move(result));
}

asio::awaitable<void> worker(handshake_run& run, std::uint64_t id) {
  const auto executor = co_await asio::this_coro::executor;
  for (std::uint64_t seq = 0; run.now_in != phase::drain; ++seq) {
    const clock::time_point started = clock::now();
    stream connection{socket{executor}, run.tls};
    const std::string failure = co_await cycle(run, connection, id, seq);
    abort_stream(connection);
    if (!failure.empty()) {
      ++run.failures;
      run.errors.add("connection " + std::to_string(id) + ", cycle " + std::to_string(seq) + ": " +
                     failure);
      continue;
    }
    ++run.all_cycles;
    if (run.now_in == phase::measure) {
      ++run.measured.messages;
      run.measured.bytes += run.settings.message_size;
      run.measured.latency.record(clock::now() - started);
    }
  }
}

// The first address that takes a connection and a handshake; a handshake failure (a
// certificate we do not trust, say) ends the run at once.
asio::awaitable<void> choose_target(handshake_run& run) {
  const options& settings = run.settings;
  const std::string target = target_name(settings);
  const auto executor = co_await asio::this_coro::executor;
  std::string failure = "no address";
  const std::vector<endpoint> candidates = co_await resolve(settings);
  for (const endpoint& candidate : candidates) {
    stream probe{socket{executor}, run.tls};
    const open_result opened = co_await open_stream(probe, candidate, settings.connect_timeout);
    abort_stream(probe);
    if (!opened.error) {
      run.target = candidate;
      co_return;
    }
    failure = opened.describe();
    if (opened.step != std::string_view{"connect"}) break;
  }
  throw connect_error("cannot open a connection to " + target + ": " + failure);
}

asio::awaitable<void> drive(handshake_run& run) {
  const options& settings = run.settings;
  run.tls = make_tls_client(settings);
  co_await choose_target(run);
  const auto executor = co_await asio::this_coro::executor;
  for (std::size_t id = 0; id < settings.connections; ++id) {
    ++run.active;
    asio::co_spawn(executor, worker(run, id), [&run](std::exception_ptr failure) {
      if (failure) run.errors.add("a worker threw");
      --run.active;
    });
  }
  const auto all_ended = [&run] { return run.active == 0; };
  co_await wait_until(all_ended, clock::now() + settings.warmup);

  run.now_in = phase::measure;
  const clock::time_point start = clock::now();
  const auto cpu_start = process_cpu_time();
  co_await wait_until(all_ended, start + settings.duration);
  run.now_in = phase::drain;
  run.measured.elapsed = clock::now() - start;
  run.measured.cpu = process_cpu_time() - cpu_start;

  // Each step of a cycle is bounded: connect, handshake, echo.
  const bool ended = co_await wait_until(
      all_ended, clock::now() + 3 * settings.connect_timeout + std::chrono::seconds{1});
  if (!ended) run.errors.add("workers still running long after the end");
}

}  // namespace

int run_handshake(const options& settings) {
  if (!settings.quiet) {
    std::printf(
        "load_generator: handshake %s%s, %zu connections at a time, each: connect, %ssend "
        "one %zu-byte line, read its echo, close; %.1f s warm-up + %.1f s\n",
        target_name(settings).c_str(), settings.tls ? " (TLS)" : "", settings.connections,
        settings.tls ? "handshake, " : "", settings.message_size, seconds_of(settings.warmup),
        seconds_of(settings.duration));
    std::fflush(stdout);
  }
  handshake_run run{settings};
  run_to_completion(drive(run));
  print_report(settings, run.measured, run.errors.count(),
               " total_handshakes=" + std::to_string(run.all_cycles) +
                   " failures=" + std::to_string(run.failures));
  return run.errors.count() == 0 ? 0 : 1;
}

}  // namespace load
