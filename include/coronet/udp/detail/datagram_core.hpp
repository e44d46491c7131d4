// The state a datagram endpoint shares with its in-flight operations (socket, receive buffer,
// counters), and the one helper every receive and send goes through: a socket operation bounded
// by a timeout and cancellable through the calling coroutine's cancellation slot.
#pragma once

#include <sys/socket.h>  // MSG_TRUNC

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/udp.hpp>
#include <asio/local/datagram_protocol.hpp>
#include <asio/socket_base.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "coronet/detail/tuple_awaitable.hpp"
#include "coronet/endpoint/address.hpp"
#include "coronet/error.hpp"
#include "coronet/udp/datagram_options.hpp"
#include "coronet/udp/datagram_stats.hpp"
#include "coronet/udp/detail/datagram_counters.hpp"

namespace coronet::detail {

// recvmsg(MSG_TRUNC) returns a datagram's full size even when the buffer was smaller (Linux, for
// UDP and, since 3.4, Unix datagram sockets): that is how a cut datagram is recognised.
#if defined(__linux__)
inline constexpr asio::socket_base::message_flags datagram_receive_flags = MSG_TRUNC;
#else
inline constexpr asio::socket_base::message_flags datagram_receive_flags = 0;
#endif

/// The receive buffer never exceeds this, whatever the limit asks: more than any datagram socket
/// carries with default buffer sizes (UDP: 64 KiB; Unix: SO_SNDBUF, 208 KiB on Linux).
inline constexpr std::size_t max_datagram_limit = 16 * 1024 * 1024;

/// The largest datagram an endpoint accepts: the codec's own limit when it states one
/// (`codec.options().max_datagram_size`), else the endpoint option; at most max_datagram_limit.
template <typename Codec>
std::size_t datagram_limit(const Codec& codec, const datagram_options& options) {
  std::size_t limit = options.max_datagram_size;
  if constexpr (requires { std::size_t{codec.options().max_datagram_size}; }) {
    limit = codec.options().max_datagram_size;
  }
  return std::min(limit, max_datagram_limit);
}

// Opening and closing sockets (src/udp/datagram_socket.cpp). Both open functions throw
// std::system_error when the socket cannot be set up as asked.
void open_udp_socket(asio::ip::udp::socket& socket, const datagram_options& options);
/// Returns the inode of the bound socket file (0 when unbound).
std::uint64_t open_unix_datagram_socket(asio::local::datagram_protocol::socket& socket,
                                        const datagram_options& options);
/// Removes `path` if it is still the socket file with `inode` (not one a successor bound).

// Everything a pending receive or send needs after it resumes, so that an endpoint can be
// destroyed (closing its socket) while operations are still in flight.
template <typename Protocol, typename Codec>
struct datagram_core {
  datagram_core(const asio::any_io_executor& executor, datagram_options endpoint_options,
                Codec datagram_codec)
      : socket{executor},
        options{std::move(endpoint_options)},
        codec{std::move(datagram_codec)},
        limit{datagram_limit(codec, options)} {}

  /// Closes the socket (pending operations end) and removes our socket file.
  void close() {
    if (closed) return;
    closed = true;
    std::error_code ignored;
    socket.close(ignored);
    if (unix_inode != 0) remove_unix_socket_file(unix_path, unix_inode);
    unix_inode = 0;
  }

  /// The receive buffer: limit + 1 bytes, so that a datagram over the limit is seen as such.
  std::span<char> receive_space() {
    if (!receive_buffer) receive_buffer = std::make_unique_for_overwrite<char[]>(limit + 1);
    return {receive_buffer.get(), limit + 1};
  }

  typename Protocol::socket socket;
  datagram_options options;
  Codec codec;
  std::size_t limit;  // Largest accepted datagram.
  // Shared with metrics readers (a datagram server's metrics_source()).
  std::shared_ptr<datagram_counters> stats = std::make_shared<datagram_counters>();
  std::unique_ptr<char[]> receive_buffer;
  std::string spare_send_buffer;  // Reused by sends that do not overlap.
  bool receiving = false;
  bool closed = false;
  std::string unix_path;  // The socket file we bound, removed at close (if still ours).
  std::uint64_t unix_inode = 0;
};

struct datagram_deadline_guard {
  asio::cancellation_signal signal;
  bool timed_out = false;
  bool done = false;
};

/// Runs `start(token)`, a socket operation completing with (error_code, size_t), bounded by
/// `timeout` (zero: unbounded). An expired timeout cancels the operation and yields
/// errc::timed_out; the caller's cancellation (terminal) yields operation_aborted.
template <typename Start>
asio::awaitable<std::pair<std::error_code, std::size_t>> run_datagram_operation(
    std::chrono::milliseconds timeout, Start start) {
  if (timeout.count() <= 0) {
    // use_awaitable hands the caller's cancellation slot to the operation by itself.
    auto [error, count] = co_await start(tuple_awaitable);
    co_return std::pair{error, count};
  }
  // The guard outlives this frame if the timer's handler is already queued when we finish.
  auto guard = std::make_shared<datagram_deadline_guard>();
  asio::steady_timer timer{co_await asio::this_coro::executor, timeout};
  timer.async_wait([guard](std::error_code error) {
    if (error || guard->done) return;
    guard->timed_out = true;
    guard->signal.emit(asio::cancellation_type::terminal);
  });
  asio::cancellation_state caller = co_await asio::this_coro::cancellation_state;
  if (caller.slot().is_connected()) {
    caller.slot().assign([guard](asio::cancellation_type type) { guard->signal.emit(type); });
  }
  auto [error, count] =
      co_await start(asio::bind_cancellation_slot(guard->signal.slot(), tuple_awaitable));
  guard->done = true;
  if (caller.slot().is_connected()) caller.slot().clear();
  timer.cancel();
  if (error == asio::error::operation_aborted && guard->timed_out) error = errc::timed_out;
  co_return std::pair{error, count};
}

}  // namespace coronet::detail
