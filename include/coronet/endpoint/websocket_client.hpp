// WebSocket client: connects over TCP, runs the opening handshake (a random key, the request,
// the 101 checked with its Sec-WebSocket-Accept) within the connect timeout, and returns a
// websocket_connection in the client role (every frame it sends is masked). The handshake
// itself works on any byte stream (websocket_client_handshake), for a stream opened otherwise.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "coronet/codec/websocket_handshake.hpp"
#include "coronet/detail/tuple_awaitable.hpp"
#include "coronet/endpoint/client.hpp"
#include "coronet/error.hpp"
#include "coronet/stream/websocket_connection.hpp"
#include "coronet/stream/websocket_stream.hpp"

namespace coronet {

/// How a WebSocket client connects.
struct websocket_connect_options {
  /// TCP connection: timeout (default 10 s, which also bounds the handshake), connection
  /// limits, socket options.
  connect_options tcp;
  /// Message limits and pinging (the role is always client).
  websocket_options connection;
  /// The Origin to send; empty (default): none (a browser always sends one).
  std::string origin;
  /// Subprotocols to offer, most preferred first; empty (default): none.
  std::vector<std::string> subprotocols;
  /// Longest answer head accepted from the server. Default 16 KiB.
  std::size_t max_response_head = 16 * 1024;
};

/// A client's WebSocket connection over TCP.
using websocket_client_connection = websocket_connection<websocket_stream<asio::ip::tcp::socket>>;

namespace detail {

// Reads up to the end of the answer's head; what follows it stays in `received`.
template <typename Stream>
asio::awaitable<std::pair<std::error_code, std::size_t>> read_response_head(Stream& stream,
                                                                            std::string& received,
                                                                            std::size_t limit) {
  char chunk[2048];
  while (true) {
    const std::size_t end = received.find("\r\n\r\n");
    if (end != std::string::npos) co_return std::pair{std::error_code{}, end + 4};
    if (received.size() > limit) co_return std::pair{make_error_code(errc::frame_too_long), 0};
    auto [error, count] = co_await stream.async_read_some(asio::buffer(chunk), tuple_awaitable);
    if (error) co_return std::pair{error, std::size_t{0}};
    received.append(chunk, count);
  }
}

}  // namespace detail

/// The client side of the opening handshake on a connected `stream`, bounded by `timeout`.
/// On success the stream holds the selected subprotocol and any bytes that followed the 101.
template <typename Next>
asio::awaitable<std::error_code> websocket_client_handshake(
    websocket_stream<Next>& stream, std::string host, std::string target,
    const websocket_connect_options& options, std::chrono::milliseconds timeout,
    std::string* why = nullptr) {
  using namespace asio::experimental::awaitable_operators;
  const std::string key = make_websocket_key();
  const std::string request =
      websocket_client_request(host, target, key, options.origin, options.subprotocols);
  auto [write_error, written] = co_await asio::async_write(
      stream.next_layer(), asio::buffer(request), detail::tuple_awaitable);
  static_cast<void>(written);
  if (write_error) co_return write_error;
  std::string received;
  asio::steady_timer deadline{co_await asio::this_coro::executor, timeout};
  auto outcome = co_await (
      detail::read_response_head(stream.next_layer(), received, options.max_response_head) ||
      deadline.async_wait(detail::tuple_awaitable));
  if (outcome.index() == 1) co_return make_error_code(errc::timed_out);
  const auto [read_error, head_size] = std::get<0>(outcome);
  if (read_error) co_return read_error;
  std::string subprotocol;
  std::string reason;
  if (const std::error_code refused = check_websocket_handshake_response(
          std::string_view{received}.substr(0, head_size), key, subprotocol, reason)) {
    if (why != nullptr) *why = reason;
    co_return refused;
  }
  http_request sent;
  sent.method = "GET";
  sent.target = std::move(target);
  stream.finish_handshake(std::move(sent), std::move(subprotocol), received.substr(head_size));
  co_return std::error_code{};
}

namespace detail {

// The coroutines behind websocket_connect(_ex).
asio::awaitable<connect_result<websocket_client_connection>> websocket_connect_coroutine(
    std::string host, std::uint16_t port, std::string target, websocket_connect_options options);
asio::awaitable<websocket_client_connection> websocket_connect_or_throw(
    std::string host, std::uint16_t port, std::string target, websocket_connect_options options);

}  // namespace detail

// Overloads rather than default arguments: GCC 12 bit-copies a defaulted class-type argument
// (`options = {}`) created inside a caller's co_await expression, and the strings in it then
// free a buffer they do not own (found by ASan in the loopback tests).

/// Connects to ws://host:port`target` and runs the handshake; returns the connection, or the
/// error (a connect error, errc::timed_out, websocket_handshake_errc::bad_response).
inline asio::awaitable<connect_result<websocket_client_connection>> websocket_connect_ex(
    std::string host, std::uint16_t port, std::string target, websocket_connect_options options) {
  return detail::websocket_connect_coroutine(std::move(host), port, std::move(target),
                                             std::move(options));
}
/// websocket_connect_ex() with the default options.
inline asio::awaitable<connect_result<websocket_client_connection>> websocket_connect_ex(
    std::string host, std::uint16_t port, std::string target) {
  return websocket_connect_ex(std::move(host), port, std::move(target),
                              websocket_connect_options{});
}

/// websocket_connect_ex() that throws std::system_error on failure.
inline asio::awaitable<websocket_client_connection> websocket_connect(
    std::string host, std::uint16_t port, std::string target, websocket_connect_options options) {
  return detail::websocket_connect_or_throw(std::move(host), port, std::move(target),
                                            std::move(options));
}
/// websocket_connect() with the default options.
inline asio::awaitable<websocket_client_connection> websocket_connect(std::string host,
                                                                      std::uint16_t port,
                                                                      std::string target) {
  return websocket_connect(std::move(host), port, std::move(target), websocket_connect_options{});
}

}  // namespace coronet
