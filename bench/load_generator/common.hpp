// What the load generator's modes share: the socket type (one type for TCP and Unix sockets),
// connecting many sockets with bounded waits, waiting on a condition, counting errors, and the
// report.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "latency_histogram.hpp"
#include "options.hpp"

namespace load {

using clock = std::chrono::steady_clock;
/// A connected stream socket, TCP or Unix.
using socket = asio::generic::stream_protocol::socket;
inline constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

/// Thrown when a connection cannot be opened: the run ends with exit status 1.
struct connect_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Runs `work` to completion on a fresh single-threaded io_context; rethrows what it threw.
void run_to_completion(asio::awaitable<void> work);

/// Opens `options.connections` connections to the target, `options.connect_concurrency` at a
/// time, each attempt bounded by `options.connect_timeout`. TCP sockets get TCP_NODELAY.
/// Throws connect_error naming the target and the first failure.
asio::awaitable<std::vector<socket>> connect_all(const options& options);

/// Waits until `done()` is true or `deadline` passes, checking every `period`. Returns done().
/// Pass a named condition: g++ 12 can destroy a temporary in a co_await expression twice
/// (a lambda holding a shared_ptr, converted to std::function, freed its object early).
template <typename Condition>
asio::awaitable<bool> wait_until(const Condition& done, clock::time_point deadline,
                                 std::chrono::milliseconds period = std::chrono::milliseconds{5}) {
  asio::steady_timer timer{co_await asio::this_coro::executor};
  while (!done() && clock::now() < deadline) {
    timer.expires_at(std::min(deadline, clock::now() + period));
    co_await timer.async_wait(as_tuple);
  }
  co_return done();
}

/// Closes a socket without the TIME_WAIT state on our side (SO_LINGER 0: the peer sees a
/// reset), so that thousands of connections per run do not exhaust the local ports.
void abort_socket(socket& socket);

/// Errors of a run: counted, and the first few printed to stderr as they happen.
class error_log {
 public:
  void add(const std::string& what);
  std::uint64_t count() const noexcept { return count_; }

 private:
  std::uint64_t count_ = 0;
};

/// A duration in seconds, for printing.
inline double seconds_of(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

/// CPU time (user + system) this process has used.
std::chrono::nanoseconds process_cpu_time();

/// What a measured interval produced.
struct measurement {
  std::uint64_t messages = 0;  // Echoes (chat: deliveries) received in the interval.
  std::uint64_t bytes = 0;     // Their payload bytes, '\n' included, prefixes not.
  latency_histogram latency;
  std::chrono::nanoseconds elapsed{0};
  std::chrono::nanoseconds cpu{0};  // This process's CPU time in the interval.
};

/// Prints the human-readable summary (unless quiet) and the "RESULT ..." line.
/// `extra` is appended to the RESULT line as is (" key=value ...").
void print_report(const options& options, const measurement& measured, std::uint64_t errors,
                  const std::string& extra);

}  // namespace load
