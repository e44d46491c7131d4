// tls_transport: TLS over TCP as a transport of basic_server (tls_server). The handshake is the
// prepare step, so it runs under server_options::handshake_timeout (a deadline for the whole
// handshake) and counts against max_connections; the handler gets a framed_connection over a
// tls_stream and runs exactly as over TCP.
#pragma once

#include "coronet/tls/tls_enabled.hpp"

#include <memory>
#include <utility>

#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream_base.hpp>

#include "coronet/codec/codec_concepts.hpp"
#include "coronet/endpoint/listeners.hpp"
#include "coronet/endpoint/server.hpp"
#include "coronet/stream/connection_options.hpp"
#include "coronet/stream/framed_connection.hpp"
#include "coronet/tls/tls_context.hpp"
#include "coronet/tls/tls_options.hpp"
#include "coronet/tls/tls_stream.hpp"

namespace coronet {

class tls_transport {
 public:
  using listener_type = tcp_listener;
  using socket_type = asio::ip::tcp::socket;
  using stream_type = tls_stream;
  template <stream_codec Codec>
  using connection_type = framed_connection<Codec, tls_stream>;

  /// Loads the certificates `options` names. Throws tls_config_error.
  explicit tls_transport(const tls_server_options& options)
      : context_{std::make_shared<tls_server_context>(options)} {}

  stream_type make_stream(socket_type socket) {
    asio::ssl::context& context = context_->context();
    return tls_stream{std::move(socket), context_, context};
  }

  template <stream_codec Codec>
  connection_type<Codec> make_connection(stream_type stream, Codec codec,
                                         const connection_options& options) {
    return connection_type<Codec>{std::move(stream), std::move(codec), options};
  }

  /// The server side of the handshake.
  template <typename Done>
  void async_prepare(stream_type& stream, Done done) {
    stream.async_handshake(asio::ssl::stream_base::server, std::move(done));
  }

  /// Loads the certificate, key and CA files again (the same paths): new handshakes use them,
  /// established connections keep what they started with. If a file does not load, throws
  /// tls_config_error and keeps the current ones.
  void reload() { context_ = std::make_shared<tls_server_context>(context_->options()); }

  const tls_server_options& options() const noexcept { return context_->options(); }

 private:
  std::shared_ptr<tls_server_context> context_;
};

/// A TLS server: `tls_server server{io, server_options, tls_transport{tls_options}}`.
using tls_server = basic_server<tls_transport>;

}  // namespace coronet
