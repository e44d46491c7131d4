// Client side of TLS: connect to host:port, verify the server (its certificate chains to a
// trusted CA and names the host), and get a framed_connection over a tls_stream. connect_tls
// throws, connect_tls_ex returns the error, as connect / connect_ex do.
#pragma once

#include "coronet/tls/tls_enabled.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/ssl/context.hpp>

#include "coronet/codec/codec_concepts.hpp"
#include "coronet/codec/line_codec.hpp"
#include "coronet/endpoint/client.hpp"
#include "coronet/stream/framed_connection.hpp"
#include "coronet/tls/tls_context.hpp"
#include "coronet/tls/tls_options.hpp"
#include "coronet/tls/tls_stream.hpp"

namespace coronet {

template <stream_codec Codec = line_codec>
using tls_connection = framed_connection<Codec, tls_stream>;

/// The category of a failed verification of the server's certificate: the value is OpenSSL's
/// verify result (X509_V_ERR_*), the message its text ("certificate has expired", "hostname
/// mismatch", "self-signed certificate", ...), after "certificate verify failed: ".
const std::error_category& tls_verify_category() noexcept;

namespace detail {

/// TCP connect (as connect_ex), then the client handshake with SNI and host name verification,
/// the whole bounded by `timeout`.
asio::awaitable<std::pair<std::error_code, std::optional<tls_stream>>> open_tls_stream(
    std::string host, std::uint16_t port, const connect_options& options,
    std::shared_ptr<asio::ssl::context> context, std::string server_name);

}  // namespace detail

/// Connects over TLS with `context` (made once by make_tls_client_context and shared by many
/// connections); `server_name` is checked against the certificate and sent for SNI (empty:
/// `host`). Returns the error of the TCP connect or of the handshake (tls_verify_category when
/// the server's certificate is refused).
template <stream_codec Codec = line_codec>
asio::awaitable<connect_result<tls_connection<Codec>>> connect_tls_ex(
    std::string host, std::uint16_t port, std::shared_ptr<asio::ssl::context> context,
    std::string server_name = {}, connect_options options = {}, Codec codec = {}) {
  auto [error, stream] = co_await detail::open_tls_stream(
      std::move(host), port, options, std::move(context), std::move(server_name));
  if (error) co_return connect_result<tls_connection<Codec>>{error, std::nullopt};
  co_return connect_result<tls_connection<Codec>>{
      {}, tls_connection<Codec>{std::move(*stream), std::move(codec), options.connection}};
}

/// connect_tls_ex with a context made from `tls` for this connection alone.
template <stream_codec Codec = line_codec>
asio::awaitable<connect_result<tls_connection<Codec>>> connect_tls_ex(std::string host,
                                                                      std::uint16_t port,
                                                                      const tls_client_options& tls,
                                                                      connect_options options = {},
                                                                      Codec codec = {}) {
  return connect_tls_ex<Codec>(std::move(host), port, make_tls_client_context(tls), tls.server_name,
                               std::move(options), std::move(codec));
}

/// Connects over TLS; throws std::system_error on failure (tls_config_error for bad options).
/// A coroutine: it takes its options by value, so a temporary passed in cannot dangle.
template <stream_codec Codec = line_codec>
asio::awaitable<tls_connection<Codec>> connect_tls(std::string host, std::uint16_t port,
                                                   tls_client_options tls,
                                                   connect_options options = {}, Codec codec = {}) {
  const std::string target = host + ":" + std::to_string(port);
  auto result = co_await connect_tls_ex<Codec>(std::move(host), port, tls, std::move(options),
                                               std::move(codec));
  if (!result) throw std::system_error(result.error, "cannot connect over TLS to " + target);
  co_return std::move(*result.connection);
}

}  // namespace coronet
