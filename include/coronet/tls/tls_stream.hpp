// tls_stream: a TCP socket wrapped in TLS (Asio's ssl::stream over OpenSSL), as a byte stream a
// framed_connection runs on exactly as on a socket. It is not a descriptor stream
// (is_descriptor_stream is false): every byte goes through OpenSSL, send_file included. It
// reports a peer that ended TCP without TLS's close_notify as the end of the stream (and says
// so: truncated()), and closes gracefully by sending close_notify (async_close_notify).
#pragma once

#include "coronet/tls/tls_enabled.hpp"

#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/stream.hpp>

namespace coronet {

/// What a handler can learn about the peer of a TLS connection (after the handshake).
struct tls_peer {
  /// The peer presented a certificate.
  bool has_certificate = false;
  /// That certificate chained to a trusted CA (always true with verify_client).
  bool verified = false;
  /// Its subject, one line ("CN=coronet-client,O=..."); empty without a certificate.
  std::string subject;
  /// The negotiated protocol version ("TLSv1.3") and ALPN protocol (empty when none).
  std::string version;
  std::string alpn;
  /// The name the client asked for (SNI); empty when it sent none.
  std::string server_name;
  /// This connection resumed an earlier session (a shorter handshake).
  bool resumed = false;
};

class tls_stream {
 public:
  using socket_type = asio::ip::tcp::socket;
  using ssl_stream_type = asio::ssl::stream<socket_type>;
  using executor_type = socket_type::executor_type;
  using endpoint_type = asio::ip::tcp::endpoint;

  /// Wraps a connected socket; `context` stays alive as long as the stream (a reload makes a
  /// new context for later connections, never for this one).
  tls_stream(socket_type socket, std::shared_ptr<void> context_owner, asio::ssl::context& context)
      : context_owner_{std::move(context_owner)}, stream_{std::move(socket), context} {}

  tls_stream(tls_stream&&) noexcept = default;
  tls_stream& operator=(tls_stream&&) noexcept = default;

  executor_type get_executor() { return stream_.get_executor(); }

  /// Reads decrypted bytes. The end of the stream is asio::error::eof whether the peer sent
  /// close_notify or just closed TCP (then truncated() is true).
  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, const Buffers& into) {
          const auto slot = asio::get_associated_cancellation_slot(handler);
          const auto executor = asio::get_associated_executor(handler, get_executor());
          stream_.async_read_some(
              into, asio::bind_cancellation_slot(
                        slot, asio::bind_executor(
                                  executor, [this, handler = std::move(handler)](
                                                std::error_code error, std::size_t count) mutable {
                                    if (error == asio::ssl::error::stream_truncated) {
                                      truncated_ = true;
                                      error = asio::error::eof;
                                    }
                                    std::move(handler)(error, count);
                                  })));
        },
        token, buffers);
  }

  /// Encrypts and writes bytes.
  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return stream_.async_write_some(buffers, std::forward<Token>(token));
  }

  /// The handshake (server or client side).
  template <typename Token>
  auto async_handshake(asio::ssl::stream_base::handshake_type role, Token&& token) {
    return stream_.async_handshake(role, std::forward<Token>(token));
  }

  /// Sends close_notify and waits for the peer's. Asio's shutdown waits for the peer without a
  /// limit: the caller bounds it (framed_connection::close_gracefully closes at its deadline).
  /// Never call it while a read is in progress.
  template <typename Token>
  auto async_close_notify(Token&& token) {
    return stream_.async_shutdown(std::forward<Token>(token));
  }

  /// TLS's half-close: sends close_notify without waiting for the peer's, so the peer reads the
  /// end of the stream after our last bytes while reading goes on here until its own
  /// close_notify. Call it when no write is in progress (after a flush); a read may be.
  asio::awaitable<std::error_code> send_close_notify();

  /// Closes the TCP socket at once (pending operations end with operation_aborted).
  void close(std::error_code& error) { stream_.lowest_layer().close(error); }

  /// The peer ended TCP without close_notify: what it sent last may be cut short.
  bool truncated() const noexcept { return truncated_; }

  endpoint_type remote_endpoint(std::error_code& error) const {
    return stream_.lowest_layer().remote_endpoint(error);
  }
  endpoint_type local_endpoint(std::error_code& error) const {
    return stream_.lowest_layer().local_endpoint(error);
  }

  /// The peer's certificate, version, ALPN and SNI (after the handshake).
  tls_peer peer() const;

  /// The underlying Asio stream and its socket, for what this class does not cover.
  ssl_stream_type& ssl_stream() noexcept { return stream_; }
  socket_type& socket() noexcept { return stream_.next_layer(); }

 private:
  std::shared_ptr<void> context_owner_;
  ssl_stream_type stream_;
  bool truncated_ = false;
};

}  // namespace coronet
