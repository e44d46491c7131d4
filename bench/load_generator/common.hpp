// What the load generator's modes share: opening connections (plain or TLS, see stream.hpp) with
// bounded waits, waiting on a condition, counting errors, and the report.
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
#include "stream.hpp"

namespace load {

using clock = std::chrono::steady_clock;
using endpoint = asio::generic::stream_protocol::endpoint;
inline constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

/// Thrown when a connection cannot be opened: the run ends with exit status 1.
struct connect_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Runs `work` to completion on a fresh single-threaded io_context; rethrows what it threw.
void run_to_completion(asio::awaitable<void> work);

/// Opens `options.connections` connections to the target, `options.connect_concurrency` at a
/// time, each attempt (and each TLS handshake) bounded by `options.connect_timeout`. TCP
/// sockets get TCP_NODELAY. Throws connect_error naming the target and the first failure.
asio::awaitable<std::vector<stream>> connect_all(const options& options);

/// Every endpoint the target names: the Unix path, or every address --host resolves to
/// (bounded by options.connect_timeout). Throws connect_error.
asio::awaitable<std::vector<endpoint>> resolve(const options& options);

/// How opening one connection went: no error, or the error and the step that failed.
struct open_result {
  std::error_code error;
  const char* step = "connect";  // "connect" or "TLS handshake".
  /// "connect: Connection refused", for messages.
  std::string describe() const { return std::string{step} + ": " + error.message(); }
};

/// Connects `into` (a new stream) to `target` and, with TLS, handshakes; each step is bounded
/// by `timeout`.
asio::awaitable<open_result> open_stream(stream& into, const endpoint& target,
                                         std::chrono::milliseconds timeout);

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

/// Closes a connection without the TIME_WAIT state on our side (SO_LINGER 0: the peer sees a
/// reset, and no TLS close_notify), so that thousands of connections per run do not exhaust
/// the local ports.
void abort_stream(stream& stream);

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
