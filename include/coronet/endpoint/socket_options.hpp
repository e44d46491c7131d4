// Socket options applied to every connection a server accepts or a client opens: the common
// setsockopt() calls of Python's socket module, as one struct. Unset fields keep the OS default.
#pragma once

#include <chrono>
#include <optional>
#include <system_error>
#include <type_traits>

#include <asio/ip/tcp.hpp>
#include <asio/socket_base.hpp>

#include "coronet/detail/socket_buffers.hpp"

namespace coronet {

/// Per-socket options. Every field is optional; only set fields are applied.
struct socket_options {
  /// TCP_NODELAY (TCP only). Default true: coronet already coalesces queued messages into one
  /// write, so Nagle's delay would only add latency.
  std::optional<bool> no_delay = true;
  /// SO_KEEPALIVE. Default: OS default (off).
  std::optional<bool> keep_alive;
  /// SO_SNDBUF in bytes. Default: OS default.
  std::optional<int> send_buffer_size;
  /// SO_RCVBUF in bytes. Default: OS default.
  std::optional<int> receive_buffer_size;
  /// SO_LINGER: close() waits up to this long for unsent data; zero resets the connection on
  /// close. Default: OS default (off).
  std::optional<std::chrono::seconds> linger;
};

/// Applies the set fields of `options` to an open socket; returns the first error.
template <typename Socket>
std::error_code apply_socket_options(Socket& socket, const socket_options& options) {
  std::error_code error;
  if constexpr (std::is_same_v<typename Socket::protocol_type, asio::ip::tcp>) {
    if (options.no_delay && !error)
      socket.set_option(asio::ip::tcp::no_delay{*options.no_delay}, error);
  }
  if (options.keep_alive && !error) {
    socket.set_option(asio::socket_base::keep_alive{*options.keep_alive}, error);
  }
  error = detail::apply_buffer_sizes(socket, options.send_buffer_size, options.receive_buffer_size,
                                     error);
  if (options.linger && !error) {
    socket.set_option(asio::socket_base::linger{true, static_cast<int>(options.linger->count())},
                      error);
  }
  return error;
}

}  // namespace coronet
