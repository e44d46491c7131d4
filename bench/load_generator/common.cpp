// Connecting, waiting, error counting and the report, shared by every mode.
#include "common.hpp"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

namespace load {

namespace {

using namespace asio::experimental::awaitable_operators;

asio::awaitable<std::error_code> connect_one(lowest_layer_type& socket, const endpoint& target,
                                             std::chrono::milliseconds timeout) {
  asio::steady_timer timer{socket.get_executor(), timeout};
  auto result = co_await (socket.async_connect(target, as_tuple) || timer.async_wait(as_tuple));
  if (result.index() == 1) co_return make_error_code(asio::error::timed_out);
  const std::error_code error = std::get<0>(std::get<0>(result));
  if (!error && target.protocol().family() != AF_UNIX) {
    std::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  }
  co_return error;
}

}  // namespace

asio::awaitable<std::vector<endpoint>> resolve(const options& options) {
  if (!options.unix_path.empty()) {
    co_return std::vector<endpoint>{
        endpoint{asio::local::stream_protocol::endpoint{options.unix_path}}};
  }
  const auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver{executor};
  asio::steady_timer timer{executor, options.connect_timeout};
  const std::string service = std::to_string(options.port);
  auto result = co_await (resolver.async_resolve(options.host, service, as_tuple) ||
                          timer.async_wait(as_tuple));
  if (result.index() == 1) {
    throw connect_error("cannot resolve " + options.host + ": timed out");
  }
  auto [error, found] = std::get<0>(std::move(result));
  if (error) throw connect_error("cannot resolve " + options.host + ": " + error.message());
  std::vector<endpoint> endpoints;
  for (const auto& entry : found)
    endpoints.emplace_back(entry.endpoint());
  co_return endpoints;
}

asio::awaitable<open_result> open_stream(stream& into, const endpoint& target,
                                         std::chrono::milliseconds timeout) {
  open_result result;
  result.error = co_await connect_one(into.lowest_layer(), target, timeout);
  if (result.error) co_return result;
  result.step = "TLS handshake";
  result.error = co_await into.handshake(timeout);
  co_return result;
}

asio::awaitable<std::vector<stream>> connect_all(const options& options) {
  const auto executor = co_await asio::this_coro::executor;
  const std::string target = target_name(options);
  const std::vector<endpoint> first_endpoints = co_await resolve(options);
  const std::shared_ptr<tls_client> tls = make_tls_client(options);

  // The first connection to each target picks the address that works; the others use it. Its
  // handshake failing (a certificate the client does not trust, say) ends the run at once.
  // Connection i goes to target i % targets (several --port values: chat servers in one room).
  const std::size_t targets =
      std::min(options.unix_path.empty() ? options.ports.size() : 1, options.connections);
  std::vector<stream> streams;
  streams.reserve(options.connections);
  std::vector<endpoint> chosen;
  for (std::size_t k = 0; k < targets; ++k) {
    load::options one = options;
    if (options.unix_path.empty()) {
      one.port = options.ports[k];
      one.ports = {one.port};
    }
    std::vector<endpoint> endpoints = first_endpoints;
    if (k > 0) endpoints = co_await resolve(one);
    std::error_code error = make_error_code(asio::error::host_not_found);
    for (const endpoint& candidate : endpoints) {
      stream first{socket{executor}, tls};
      error = co_await connect_one(first.lowest_layer(), candidate, options.connect_timeout);
      if (!error) {
        chosen.push_back(candidate);
        streams.push_back(std::move(first));
        break;
      }
    }
    if (error) {
      throw connect_error("cannot connect to " + target_name(one) + ": " + error.message());
    }
    error = co_await streams.back().handshake(options.connect_timeout);
    if (error) {
      throw connect_error("TLS handshake with " + target_name(one) + " failed: " + error.message());
    }
  }

  // Workers take the next index from shared state; the streams live there too, so nothing
  // a worker touches can go away before it ends.
  struct progress {
    std::vector<stream> streams;
    std::size_t next = 0;  // Set to the number of streams already open.
    std::size_t workers = 0;
    std::optional<std::string> failure;
  };
  auto state = std::make_shared<progress>();
  state->next = streams.size();
  state->streams = std::move(streams);
  while (state->streams.size() < options.connections)
    state->streams.emplace_back(socket{executor}, tls);
  const std::size_t worker_count = std::min(options.connect_concurrency, options.connections);
  const std::chrono::milliseconds timeout = options.connect_timeout;
  for (std::size_t w = 0; w < worker_count; ++w) {
    ++state->workers;
    asio::co_spawn(
        executor,
        [chosen, state, timeout]() -> asio::awaitable<void> {
          while (!state->failure && state->next < state->streams.size()) {
            const std::size_t index = state->next++;
            const endpoint& target = chosen[index % chosen.size()];
            const open_result opened = co_await open_stream(state->streams[index], target, timeout);
            if (opened.error && !state->failure) {
              state->failure = "connection " + std::to_string(index + 1) + " of " +
                               std::to_string(state->streams.size()) + ": " + opened.describe();
            }
          }
        },
        [state](std::exception_ptr failure) {
          if (failure && !state->failure) state->failure = "connect worker failed";
          --state->workers;
        });
  }
  // Each step is bounded, so this wait is too; the deadline is only a backstop.
  const int steps = tls ? 2 : 1;
  const auto backstop = clock::now() + steps * timeout * (options.connections / worker_count + 2);
  const auto workers_done = [&state] { return state->workers == 0; };
  co_await wait_until(workers_done, backstop);
  if (state->failure) throw connect_error("cannot connect to " + target + ": " + *state->failure);
  if (state->workers != 0) throw connect_error("cannot connect to " + target + ": timed out");
  co_return std::move(state->streams);
}

void abort_stream(stream& stream) {
  std::error_code ignored;
  lowest_layer_type& socket = stream.lowest_layer();
  if (!socket.is_open()) return;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

void error_log::add(const std::string& what) {
  constexpr std::uint64_t shown = 5;
  if (count_ < shown) std::fprintf(stderr, "load_generator: error: %s\n", what.c_str());
  if (count_ == shown) std::fprintf(stderr, "load_generator: (further errors only counted)\n");
  ++count_;
}

std::chrono::nanoseconds process_cpu_time() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return std::chrono::seconds{now.tv_sec} + std::chrono::nanoseconds{now.tv_nsec};
}

void print_report(const options& options, const measurement& measured, std::uint64_t errors,
                  const std::string& extra) {
  const double seconds = std::chrono::duration<double>(measured.elapsed).count();
  const double rate = seconds > 0 ? static_cast<double>(measured.messages) / seconds : 0;
  const double megabytes = seconds > 0 ? static_cast<double>(measured.bytes) / seconds / 1e6 : 0;
  const double cpu =
      seconds > 0 ? std::chrono::duration<double>(measured.cpu).count() / seconds : 0;
  auto micros = [&](double fraction) {
    return std::chrono::duration<double, std::micro>(measured.latency.percentile(fraction)).count();
  };
  const double max_us = std::chrono::duration<double, std::micro>(measured.latency.max()).count();
  const char* unit = options.mode == mode::chat        ? "deliveries"
                     : options.mode == mode::handshake ? "handshakes"
                                                       : "messages";
  if (!options.quiet) {
    std::printf("%s/s: %.0f   MB/s: %.2f   (%llu in %.3f s)\n", unit, rate, megabytes,
                static_cast<unsigned long long>(measured.messages), seconds);
    std::printf("latency: p50 %.1f us   p90 %.1f us   p99 %.1f us   p99.9 %.1f us   max %.1f us\n",
                micros(0.50), micros(0.90), micros(0.99), micros(0.999), max_us);
    std::printf("errors: %llu   load generator CPU: %.0f%% of one core\n",
                static_cast<unsigned long long>(errors), cpu * 100);
  }
  std::printf(
      "RESULT mode=%s target=%s connections=%zu depth=%zu size=%zu seconds=%.3f %s=%llu "
      "%s_per_s=%.1f mb_per_s=%.3f p50_us=%.2f p90_us=%.2f p99_us=%.2f p999_us=%.2f "
      "max_us=%.2f client_cpu=%.3f tls=%d errors=%llu%s\n",
      mode_name(options.mode), target_name(options).c_str(), options.connections, options.depth,
      options.message_size, seconds, unit, static_cast<unsigned long long>(measured.messages), unit,
      rate, megabytes, micros(0.50), micros(0.90), micros(0.99), micros(0.999), max_us, cpu,
      options.tls ? 1 : 0, static_cast<unsigned long long>(errors), extra.c_str());
  std::fflush(stdout);
}

void run_to_completion(asio::awaitable<void> work) {
  asio::io_context io{1};
  std::exception_ptr failure;
  asio::co_spawn(io, std::move(work), [&](std::exception_ptr error) {
    failure = error;
    io.stop();
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace load
