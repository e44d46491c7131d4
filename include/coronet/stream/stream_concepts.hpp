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

/// A stream that knows the addresses of its two ends (sockets, and streams that wrap one).
template <typename S>
concept addressed_stream = byte_stream<S> && requires(S& s, std::error_code& error) {
  s.remote_endpoint(error);
  s.local_endpoint(error);
};

/// A stream that ends its sending side with a message of its own (TLS's close_notify):
/// framed_connection::close_gracefully awaits async_close_notify(token) instead of a socket's
/// half-close, bounded by its drain deadline.
template <typename S>
concept notifying_stream = byte_stream<S> && requires(S& s) {
  s.async_close_notify([](std::error_code) {});
};

/// A stream with a half-close of its own (TLS: close_notify without waiting for the peer's):
/// framed_connection::half_close() awaits send_close_notify().
template <typename S>
concept half_closing_stream = byte_stream<S> && requires(S& s) {
  s.send_close_notify();
};

/// A stream that is a socket, for the socket-level calls (shutdown, endpoints, options).
template <typename S>
concept socket_stream = byte_stream<S> && requires(S& s, std::error_code& error) {
  s.shutdown(asio::socket_base::shutdown_both, error);
  s.remote_endpoint(error);
  s.native_handle();
};

}  // namespace coronet
