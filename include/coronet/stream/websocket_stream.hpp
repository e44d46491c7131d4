// websocket_stream: the byte stream a WebSocket connection runs on once its opening handshake
// is done — the stream below (a TCP socket, a TLS stream), the bytes that arrived right after
// the handshake (a peer's first frames, read together with its request), and what the
// handshake settled (the request, the subprotocol). A wrapper: not a descriptor stream, so its
// leftover bytes are never bypassed; it forwards the socket and TLS hooks of the stream below.
// A connection reads it as it reads the stream below: over a socket without waiting
// (socket_read_stream), over TLS through readiness (readiness_stream), so that an idle WebSocket
// connection waits for its peer holding no read buffer.
#pragma once

#include <cstring>
#include <string>
#include <system_error>
#include <utility>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>

#include "coronet/codec/http_message.hpp"
#include "coronet/stream/stream_concepts.hpp"
#include "coronet/stream/stream_traits.hpp"

namespace coronet {

/// A stream after a WebSocket opening handshake (see the file comment).
template <typename Next>
class websocket_stream {
 public:
  using next_layer_type = Next;
  using executor_type = typename Next::executor_type;

  explicit websocket_stream(Next next) : next_{std::move(next)} {
    if constexpr (is_descriptor_stream_v<Next>) {
      std::error_code ignored;
      next_.non_blocking(true, ignored);  // read_some never waits.
    }
  }

  executor_type get_executor() { return next_.get_executor(); }

  /// Reads the bytes left over from the handshake first, then from the stream below.
  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, const Buffers& into) {
          if (unread_.empty()) {
            next_.async_read_some(into, std::move(handler));
            return;
          }
          const std::size_t count = take_unread(into);
          const auto executor = asio::get_associated_executor(handler, get_executor());
          asio::post(executor, [handler = std::move(handler), count]() mutable {
            std::move(handler)(std::error_code{}, count);
          });
        },
        token, buffers);
  }

  /// read_some without waiting, over a socket: the bytes left over from the handshake first,
  /// then the socket's; asio::error::would_block when neither has any (a socket_read_stream,
  /// so a connection reads it as it reads a socket).
  template <typename Buffers>
  std::size_t read_some(const Buffers& buffers,
                        std::error_code& error) requires is_descriptor_stream_v<Next> {
    if (unread_.empty()) return next_.read_some(buffers, error);
    error = {};
    return take_unread(buffers);
  }

  /// Over a TLS stream: whether a read may complete now (the bytes left over from the
  /// handshake, or the TLS stream's poll_input), and the wait until it may: a readiness_stream,
  /// so that a connection waits for its peer holding no read buffer.
  bool poll_input() requires readiness_stream<Next> {
    return !unread_.empty() || next_.poll_input();
  }
  template <typename Token>
  auto async_wait_readable(Token&& token) requires readiness_stream<Next> {
    return next_.async_wait_readable(std::forward<Token>(token));
  }

  /// The socket at the bottom, for the connection's wait for input (never read or write it).
  auto& socket() noexcept requires is_descriptor_stream_v<Next> || requires(Next& s) { s.socket(); }
  {
    if constexpr (is_descriptor_stream_v<Next>) {
      return next_;
    } else {
      return next_.socket();
    }
  }

  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return next_.async_write_some(buffers, std::forward<Token>(token));
  }

  void close(std::error_code& error) { next_.close(error); }

  /// The socket's half-close, handle and addresses, when the stream below is a socket.
  void shutdown(asio::socket_base::shutdown_type what, std::error_code& error) requires
      requires(Next& s, std::error_code& e) {
    s.shutdown(asio::socket_base::shutdown_both, e);
  }
  { next_.shutdown(what, error); }
  auto native_handle() requires requires(Next& s) { s.native_handle(); }
  { return next_.native_handle(); }
  auto remote_endpoint(std::error_code& error) const requires
      requires(const Next& s, std::error_code& e) {
    s.remote_endpoint(e);
  }
  { return next_.remote_endpoint(error); }
  auto local_endpoint(std::error_code& error) const requires
      requires(const Next& s, std::error_code& e) {
    s.local_endpoint(e);
  }
  { return next_.local_endpoint(error); }

  /// TLS's close_notify and truncation, when the stream below is a TLS stream.
  template <typename Token>
  auto async_close_notify(Token&& token) requires requires(Next& s) {
    s.async_close_notify([](std::error_code) {});
  }
  { return next_.async_close_notify(std::forward<Token>(token)); }
  bool truncated() const noexcept requires requires(const Next& s) { s.truncated(); }
  { return next_.truncated(); }

  /// The stream below.
  Next& next_layer() noexcept { return next_; }
  const Next& next_layer() const noexcept { return next_; }

  /// The client's opening handshake request (server side): path, headers, Origin, cookies.
  const http_request& request() const noexcept { return request_; }
  /// The subprotocol the handshake selected; empty when none.
  const std::string& subprotocol() const noexcept { return subprotocol_; }

  /// Records the handshake's outcome and the bytes that came after it (the handshake calls it).
  void finish_handshake(http_request request, std::string subprotocol, std::string unread) {
    request_ = std::move(request);
    subprotocol_ = std::move(subprotocol);
    unread_ = std::move(unread);
  }

 private:
  // Moves the bytes left over from the handshake into `buffers`, as many as fit.
  template <typename Buffers>
  std::size_t take_unread(const Buffers& buffers) {
    const std::size_t count = asio::buffer_copy(buffers, asio::buffer(unread_));
    unread_.erase(0, count);
    return count;
  }

  Next next_;
  std::string unread_;  // Received after the handshake, not yet read.
  http_request request_;
  std::string subprotocol_;
};

}  // namespace coronet
