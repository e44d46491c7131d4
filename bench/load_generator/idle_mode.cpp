// Idle mode: opens many connections, proves each is served (one echoed line, unless --no-ping),
// then holds them silent while the caller measures the server's memory. A server that closes
// or writes to an idle connection during the hold is an error.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/write.hpp>

#include "common.hpp"
#include "line_buffer.hpp"
#include "messages.hpp"
#include "modes.hpp"

namespace load {

namespace {

struct idle_run {
  explicit idle_run(const options& run_options) : settings{run_options} {}

  const options& settings;
  std::vector<stream> streams;
  std::size_t pinged = 0;    // Connections whose line came back.
  std::size_t watching = 0;  // Watchers still waiting.
  bool holding = false;      // Reads during the hold are errors; after it, expected.
  error_log errors;
};

// One line out, the same line back.
asio::awaitable<void> ping(idle_run& run, std::size_t id) {
  stream& connection = run.streams[id];
  std::string message;
  append_message(message, id, 0, run.settings.message_size);
  auto [write_error, written] =
      co_await asio::async_write(connection, asio::buffer(message), as_tuple);
  if (write_error) {
    run.errors.add("connection " + std::to_string(id) + ": write: " + write_error.message());
    co_return;
  }
  line_buffer input{4096, run.settings.message_size};
  while (true) {
    const std::span<char> space = input.prepare();
    auto [error, count] =
        co_await connection.async_read_some(asio::buffer(space.data(), space.size()), as_tuple);
    if (error) {
      run.errors.add("connection " + std::to_string(id) + ": no echo: " + error.message());
      co_return;
    }
    input.commit(count);
    if (const auto line = input.next_line()) {
      if (!is_message(*line, id, 0, run.settings.message_size)) {
        run.errors.add("connection " + std::to_string(id) + ": wrong echo " + excerpt(*line));
      } else {
        ++run.pinged;
      }
      co_return;
    }
    if (input.overflowed()) {
      run.errors.add("connection " + std::to_string(id) + ": no newline in the reply");
      co_return;
    }
  }
}

// Any byte or end of stream during the hold means the server did not keep the connection idle.
asio::awaitable<void> watch(idle_run& run, std::size_t id) {
  char byte = 0;
  auto [error, count] = co_await run.streams[id].async_read_some(asio::buffer(&byte, 1), as_tuple);
  if (run.holding) {
    const std::string what = count > 0 ? "the server sent data to an idle connection"
                             : error == asio::error::eof ? "the server closed an idle connection"
                                                         : error.message();
    run.errors.add("connection " + std::to_string(id) + ": " + what);
  }
}

asio::awaitable<void> drive(idle_run& run) {
  const options& settings = run.settings;
  run.streams = co_await connect_all(settings);
  const auto executor = co_await asio::this_coro::executor;
  auto report_throw = [&run](std::exception_ptr failure) {
    if (failure) run.errors.add("a connection's coroutine threw");
  };
  if (settings.idle_ping) {
    for (std::size_t id = 0; id < run.streams.size(); ++id) {
      asio::co_spawn(executor, ping(run, id), report_throw);
    }
    const std::size_t total = run.streams.size();
    const auto all_answered = [&] { return run.pinged + run.errors.count() >= total; };
    const bool answered =
        co_await wait_until(all_answered, clock::now() + settings.connect_timeout);
    if (!answered) {
      run.errors.add(std::to_string(total - run.pinged) + " connections got no echo within " +
                     std::to_string(settings.connect_timeout.count()) + " ms");
    }
  }
  run.holding = true;
  for (std::size_t id = 0; id < run.streams.size(); ++id) {
    ++run.watching;
    asio::co_spawn(executor, watch(run, id), [&run](std::exception_ptr failure) {
      if (failure) run.errors.add("a watcher threw");
      --run.watching;
    });
  }
  std::printf("holding %zu connections\n", run.streams.size());
  std::fflush(stdout);
  const auto never = [] { return false; };
  co_await wait_until(never, clock::now() + settings.duration, std::chrono::milliseconds{50});
  run.holding = false;
  for (stream& connection : run.streams)
    abort_stream(connection);
  const auto watchers_done = [&run] { return run.watching == 0; };
  co_await wait_until(watchers_done, clock::now() + std::chrono::seconds{2});
}

}  // namespace

int run_idle(const options& settings) {
  if (!settings.quiet) {
    std::printf("load_generator: idle %s, %zu connections held %.1f s\n",
                target_name(settings).c_str(), settings.connections, seconds_of(settings.duration));
    std::fflush(stdout);
  }
  idle_run run{settings};
  run_to_completion(drive(run));
  std::printf(
      "RESULT mode=idle target=%s connections=%zu pinged=%zu seconds=%.3f tls=%d errors=%llu\n",
      target_name(settings).c_str(), settings.connections, run.pinged,
      seconds_of(settings.duration), settings.tls ? 1 : 0,
      static_cast<unsigned long long>(run.errors.count()));
  std::fflush(stdout);
  return run.errors.count() == 0 ? 0 : 1;
}

}  // namespace load
