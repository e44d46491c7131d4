// TLS's half-close for chat_client: send close_notify (the server reads the end of the stream
// after our last line, as after a TCP half-close) and go on reading what the server still sends.
//
// A work-around: coronet's tls_stream::async_close_notify sends close_notify *and* waits for the
// peer's, and must not run while a read is in progress, so it cannot half-close a connection
// whose reader is still printing. Here OpenSSL writes the alert into a memory BIO of ours for a
// moment, and we send those bytes on the socket ourselves. OpenSSL keeps decrypting what the
// peer sends after that, up to its own close_notify.
#pragma once

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <string>
#include <system_error>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <coronet/tls/tls_stream.hpp>

namespace samples {

/// The close_notify record of `ssl`, written aside (not into the stream's own output); empty
/// if OpenSSL refused (the connection failed, or close_notify was sent already).
inline std::string take_close_notify(SSL* ssl) {
  BIO* aside = BIO_new(BIO_s_mem());
  if (aside == nullptr) return {};
  BIO* stream_output = SSL_get_wbio(ssl);
  BIO_up_ref(stream_output);  // SSL_set0_wbio below takes one reference: this one.
  SSL_set0_wbio(ssl, aside);  // The SSL owns `aside` from here.
  // 0: close_notify written, the peer's not received yet; 1: both; < 0: failed.
  const bool written = SSL_shutdown(ssl) >= 0;
  char* bytes = nullptr;
  const long size = BIO_get_mem_data(aside, &bytes);
  std::string record =
      written && size > 0 ? std::string(bytes, static_cast<std::size_t>(size)) : std::string{};
  SSL_set0_wbio(ssl, stream_output);  // Frees `aside`.
  return record;
}

/// Sends close_notify on `stream` while a read may be in progress. Call it when no write is
/// (after the connection's flush()). Returns the socket's error, or not_connected if OpenSSL
/// would not write the alert.
inline asio::awaitable<std::error_code> send_close_notify(coronet::tls_stream& stream) {
  const std::string record = take_close_notify(stream.ssl_stream().native_handle());
  if (record.empty()) co_return asio::error::not_connected;
  auto [error, written] = co_await asio::async_write(
      stream.socket(), asio::buffer(record), asio::experimental::as_tuple(asio::use_awaitable));
  static_cast<void>(written);
  co_return error;
}

}  // namespace samples
