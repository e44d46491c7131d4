// The byte streams a framed_connection runs on, and the subset that are sockets.
#pragma once

#include <concepts>
#include <system_error>

#include <asio/buffer.hpp>
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
/// framed_connection::half_close() and shutdown(send) send it with
/// async_send_close_notify(handler), as the connection's writer, after the batch in flight.
template <typename S>
concept half_closing_stream = byte_stream<S> && requires(S& s) {
  s.async_send_close_notify([](std::error_code) {});
};

/// A stream that can wait for its peer holding no read buffer of the caller's (TLS keeps the
/// ciphertext it reads itself): poll_input() takes what has arrived without waiting and says
/// whether a read may complete now; async_wait_readable(handler) waits until it may. A
/// framed_connection waits through them, so an idle connection holds no read buffer, as on a
/// socket.
template <typename S>
concept readiness_stream = byte_stream<S> && requires(S& s) {
  { s.poll_input() } -> std::convertible_to<bool>;
  s.async_wait_readable([](std::error_code) {});
};

/// A stream that reads without waiting, as a socket does (read_some(buffers, error) returns
/// asio::error::would_block when nothing has arrived), and whose input arrives when its socket
/// (socket()) becomes readable: a wrapper that keeps no bytes of its own beyond those its
/// read_some returns first (websocket_stream over a socket). A framed_connection reads it as it
/// reads a socket: a read without waiting, and a wait for readability holding no buffer.
template <typename S>
concept socket_read_stream = byte_stream<S> && requires(S& s, std::error_code& error) {
  s.read_some(asio::mutable_buffer{}, error);
  s.socket().native_handle();
};

/// A stream that is a socket, for the socket-level calls (shutdown, endpoints, options).
template <typename S>
concept socket_stream = byte_stream<S> && requires(S& s, std::error_code& error) {
  s.shutdown(asio::socket_base::shutdown_both, error);
  s.remote_endpoint(error);
  s.native_handle();
};

}  // namespace coronet
