// tls_stream: a TCP socket wrapped in TLS, as a byte stream a framed_connection runs on exactly
// as on a socket. coronet's own engine on OpenSSL (detail/tls_engine.hpp) does the records: a
// write encrypts a whole buffer sequence (up to 64 KiB) and sends it with one socket write, and
// an idle stream holds no ciphertext buffers. It is not a descriptor stream
// (is_descriptor_stream is false): every byte goes through OpenSSL, send_file included. It
// reports a peer that ended TCP without TLS's close_notify as the end of the stream (and says
// so: truncated()), and closes gracefully by sending close_notify (async_close_notify).
#pragma once

#include "coronet/tls/tls_enabled.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/compose.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream_base.hpp>

#include "coronet/tls/detail/tls_engine.hpp"
#include "coronet/tls/detail/tls_operations.hpp"
#include "coronet/tls/tls_peer.hpp"

namespace coronet {

/// A TLS connection over TCP (see the file comment). Like an Asio stream: one read and one write
/// may be in progress at once; the handshake and async_close_notify run alone.
class tls_stream {
 public:
  using socket_type = asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;
  using endpoint_type = asio::ip::tcp::endpoint;

  /// Wraps a connected socket; `context` stays alive as long as the stream (a reload makes a
  /// new context for later connections, never for this one).
  tls_stream(socket_type socket, std::shared_ptr<void> context_owner, asio::ssl::context& context)
      : context_owner_{std::move(context_owner)},
        executor_{socket.get_executor()},
        engine_{std::make_unique<detail::tls_engine>(std::move(socket), context.native_handle())} {}

  tls_stream(tls_stream&&) noexcept = default;
  tls_stream& operator=(tls_stream&&) noexcept = default;

  /// The socket's executor; a moved-from stream keeps it (as a moved-from socket does), so a
  /// connection whose stream was handed over can still finish its own work on it.
  executor_type get_executor() { return executor_; }

  /// Reads decrypted bytes: as many whole records as have arrived, up to the buffers' size. The
  /// end of the stream is asio::error::eof whether the peer sent close_notify or just closed TCP
  /// (then truncated() is true). Cancellable (terminal cancellation) while it waits.
  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    using step = detail::tls_read_step<Buffers>;
    return asio::async_compose<Token, void(std::error_code, std::size_t)>(
        detail::tls_operation<step>{engine_.get(), detail::tls_engine::read_side, step{buffers}},
        token, engine_->socket());
  }

  /// Takes the ciphertext that has arrived without waiting; whether a read may complete now
  /// (decrypted bytes, ciphertext, the end of the stream or an error to report).
  bool poll_input() { return engine_->poll_input(); }

  /// Waits until the socket is readable, holding no buffer (cancellable).
  template <typename Token>
  auto async_wait_readable(Token&& token) {
    return engine_->socket().async_wait(asio::socket_base::wait_read, std::forward<Token>(token));
  }

  /// Encrypts up to 64 KiB of the buffer sequence (whole records, small buffers gathered into
  /// one) and writes the ciphertext with one socket write; completes with the plaintext count.
  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    using step = detail::tls_write_step<Buffers>;
    return asio::async_compose<Token, void(std::error_code, std::size_t)>(
        detail::tls_operation<step>{engine_.get(), detail::tls_engine::write_side, step{buffers}},
        token, engine_->socket());
  }

  /// The handshake (server or client side).
  template <typename Token>
  auto async_handshake(asio::ssl::stream_base::handshake_type role, Token&& token) {
    engine_->set_server(role == asio::ssl::stream_base::server);
    return asio::async_compose<Token, void(std::error_code)>(
        detail::tls_operation<detail::tls_handshake_step>{
            engine_.get(), detail::tls_engine::read_side, detail::tls_handshake_step{}},
        token, engine_->socket());
  }

  /// Sends close_notify and waits for the peer's (dropping what it still sends). It waits for
  /// the peer without a limit: the caller bounds it (framed_connection::close_gracefully closes
  /// at its deadline). Never call it while a read or a write is in progress.
  template <typename Token>
  auto async_close_notify(Token&& token) {
    return asio::async_compose<Token, void(std::error_code)>(
        detail::tls_operation<detail::tls_close_notify_step>{
            engine_.get(), detail::tls_engine::read_side, detail::tls_close_notify_step{}},
        token, engine_->socket());
  }

  /// TLS's half-close: sends close_notify without waiting for the peer's, so the peer reads the
  /// end of the stream after our last bytes while reading goes on here until its own
  /// close_notify. A write-side operation: after a write in flight, never beside one of
  /// yours; a read may be in progress.
  template <typename Token>
  auto async_send_close_notify(Token&& token) {
    return asio::async_compose<Token, void(std::error_code)>(
        detail::tls_operation<detail::tls_close_notify_step>{
            engine_.get(), detail::tls_engine::write_side,
            detail::tls_close_notify_step{{}, /*wait_for_peer=*/false}},
        token, engine_->socket());
  }

  /// async_send_close_notify for a coroutine: returns the error (none once it is sent).
  asio::awaitable<std::error_code> send_close_notify();

  /// Closes the TCP socket at once (pending operations end with operation_aborted).
  void close(std::error_code& error) {
    if (engine_) engine_->close(error);
  }

  /// The peer ended TCP without close_notify: what it sent last may be cut short.
  bool truncated() const noexcept { return engine_ && engine_->truncated(); }

  /// The addresses (a moved-from stream: asio::error::bad_descriptor).
  endpoint_type remote_endpoint(std::error_code& error) const {
    if (!engine_) return moved_from(error);
    return engine_->socket().remote_endpoint(error);
  }
  endpoint_type local_endpoint(std::error_code& error) const {
    if (!engine_) return moved_from(error);
    return engine_->socket().local_endpoint(error);
  }

  /// The peer's certificate, version, ALPN and SNI (after the handshake).
  tls_peer peer() const;

  /// Heap bytes this stream's ciphertext buffers hold now: 0 while the connection is idle
  /// (OpenSSL's own record buffers are released too: SSL_MODE_RELEASE_BUFFERS).
  std::size_t buffer_capacity() const noexcept { return engine_->buffer_capacity(); }
  /// Ciphertext received and not yet decrypted, plus ciphertext not yet sent.
  std::size_t buffered_bytes() const noexcept { return engine_->buffered_bytes(); }

  /// OpenSSL's SSL object, for what this class does not cover (host name checks, session data).
  /// Null after a server's TLS 1.3 handshake unless tls_server_options::keep_ssl_object: then
  /// coronet's record layer protects the records and the SSL object is freed.
  ssl_st* native_handle() const noexcept { return engine_->native_handle(); }
  /// The TCP socket under the TLS (socket options; never read or write it directly).
  socket_type& socket() noexcept { return engine_->socket(); }

 private:
  static endpoint_type moved_from(std::error_code& error) {
    error = asio::error::bad_descriptor;
    return {};
  }

  std::shared_ptr<void> context_owner_;
  executor_type executor_;
  std::unique_ptr<detail::tls_engine> engine_;
};

}  // namespace coronet
