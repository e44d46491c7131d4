// SO_SNDBUF and SO_RCVBUF, which stream and datagram sockets set the same way.
#pragma once

#include <optional>
#include <system_error>

#include <asio/socket_base.hpp>

namespace coronet::detail {

/// Sets the buffer sizes that are given, unless `error` is already set; returns the first error.
template <typename Socket>
std::error_code apply_buffer_sizes(Socket& socket, const std::optional<int>& send_size,
                                   const std::optional<int>& receive_size,
                                   std::error_code error = {}) {
  if (send_size && !error) {
    socket.set_option(asio::socket_base::send_buffer_size{*send_size}, error);
  }
  if (receive_size && !error) {
    socket.set_option(asio::socket_base::receive_buffer_size{*receive_size}, error);
  }
  return error;
}

}  // namespace coronet::detail
