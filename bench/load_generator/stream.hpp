// load::stream: the one byte stream every mode reads and writes, a plain socket (TCP or Unix) or
// TLS over one (--tls). Only this file and stream.cpp know which: the modes call
// async_read_some / async_write_some (so asio::async_write works on it), is_open and close, and
// connecting (common.cpp) calls handshake(). The plain path costs one pointer test per operation.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/generic/stream_protocol.hpp>
#ifdef CORONET_HAS_TLS
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#endif

#include "options.hpp"

namespace load {

/// A connected stream socket, TCP or Unix.
using socket = asio::generic::stream_protocol::socket;
/// What a plain socket and asio::ssl::stream both call their lowest layer (a base of `socket`):
/// connect, set options, close.
using lowest_layer_type = socket::lowest_layer_type;

/// What every TLS connection of a run shares: the client context (the trusted CA and host-name
/// check, or no verification with --tls-insecure) and the name sent with SNI.
struct tls_client {
#ifdef CORONET_HAS_TLS
  asio::ssl::context context{asio::ssl::context::tls_client};
#endif
  std::string server_name;  // SNI; empty when the server is named by an IP address.
};

/// The run's TLS client, or null without --tls (always null in a build without TLS, which
/// refuses --tls). Throws std::system_error for an unreadable CA.
std::shared_ptr<tls_client> make_tls_client(const options& options);

class stream {
 public:
  using executor_type = socket::executor_type;

  /// A plain stream when `tls` is null; TLS over `plain` otherwise (call handshake() first).
  stream(socket plain, std::shared_ptr<tls_client> tls);
  stream(stream&&) noexcept = default;
  stream& operator=(stream&&) = delete;  // Would drop the old context before the old TLS state.

  executor_type get_executor() { return lowest_layer().get_executor(); }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Token>(token));
    return plain_.async_read_some(buffers, std::forward<Token>(token));
  }

  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<Token>(token));
    return plain_.async_write_some(buffers, std::forward<Token>(token));
  }

  /// The TLS handshake as the client, bounded by `timeout` (asio::error::timed_out); a plain
  /// stream has none and returns no error at once.
  asio::awaitable<std::error_code> handshake(std::chrono::milliseconds timeout);

  /// The socket under TLS, or the plain socket.
  lowest_layer_type& lowest_layer() noexcept {
    return tls_ ? tls_->lowest_layer() : plain_.lowest_layer();
  }
  const lowest_layer_type& lowest_layer() const noexcept {
    return tls_ ? tls_->lowest_layer() : plain_.lowest_layer();
  }
  bool is_open() const noexcept { return lowest_layer().is_open(); }
  bool is_tls() const noexcept { return tls_ != nullptr; }
  /// Closes the socket at once (no close_notify); pending operations end with operation_aborted.
  void close(std::error_code& error) { lowest_layer().close(error); }

 private:
#ifdef CORONET_HAS_TLS
  using tls_stream = asio::ssl::stream<socket>;
#else
  using tls_stream = socket;  // Never made: a build without TLS refuses --tls.
#endif

  socket plain_;                        // Empty (moved into tls_) with TLS.
  std::shared_ptr<tls_client> client_;  // Declared first: the context outlives tls_.
  std::unique_ptr<tls_stream> tls_;     // Null without TLS.
};

}  // namespace load
