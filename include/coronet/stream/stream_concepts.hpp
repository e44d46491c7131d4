// The byte streams a framed_connection runs on, and the subset that are sockets.
#pragma once

#include <system_error>

#include <asio/socket_base.hpp>

namespace coronet {

/// A byte stream a framed_connection can run on: Asio's AsyncReadStream and AsyncWriteStream,
/// plus close(). Asio's sockets and coronet::testing::memory_stream satisfy it.
template <typename S>
concept byte_stream = requires(S& s, std::error_code& error) {
  typename S::executor_type;
  s.get_executor();
  s.close(error);
};

/// A stream that is a socket, for the socket-level calls (shutdown, endpoints, options).
template <typename S>
concept socket_stream = byte_stream<S> && requires(S& s, std::error_code& error) {
  s.shutdown(asio::socket_base::shutdown_both, error);
  s.remote_endpoint(error);
  s.native_handle();
};

}  // namespace coronet
