// The transport seam of stream servers: what a transport (TCP, Unix socket, and on top of them
// TLS or WebSocket) tells basic_server — how to listen and accept, what to do with an accepted
// socket before the handler sees it (a handshake), and which connection type the handler gets.
// A new transport is one new type here, not a second server.
#pragma once

#include <concepts>
#include <system_error>
#include <utility>

#include <asio/any_io_executor.hpp>

#include "coronet/codec/codec_concepts.hpp"
#include "coronet/endpoint/listeners.hpp"
#include "coronet/endpoint/server_options.hpp"
#include "coronet/stream/framed_connection.hpp"
#include "coronet/stream/stream_concepts.hpp"

namespace coronet {

/// A listener: binds and listens when constructed from (executor, server_options), throwing
/// std::system_error when it cannot; accepts with async_accept(handler(error_code, socket));
/// close() stops accepting and releases what it holds (a Unix socket file).
template <typename L>
concept stream_listener = requires(L& listener) {
  typename L::socket_type;
  typename L::endpoint_type;
  { listener.local_endpoint() } -> std::same_as<typename L::endpoint_type>;
  listener.close();
  { listener.get_executor() } -> std::convertible_to<asio::any_io_executor>;
}
&&std::constructible_from<L, const asio::any_io_executor&, const server_options&>;

/// A stream transport:
/// - `listener_type`, a stream_listener;
/// - `stream_type`, the byte stream connections run on, made from an accepted socket by
///   `make_stream(socket)` (a plain transport's stream is the socket itself);
/// - `connection_type<Codec>`, what the handler gets (usually framed_connection<Codec,
///   stream_type>), made by `make_connection(stream, codec, options)`;
/// - optionally `async_prepare(stream, handler(error_code))`, a step between accept and the
///   handler (a TLS handshake). The server bounds it by server_options::handshake_timeout
///   (closing the stream when it runs out) and counts it against max_connections. Transports
///   without it go straight from accept to the handler.
template <typename T>
concept stream_transport = stream_listener<typename T::listener_type> &&
    byte_stream<typename T::stream_type> &&
    requires(T& transport, typename T::listener_type::socket_type socket) {
  { transport.make_stream(std::move(socket)) } -> std::same_as<typename T::stream_type>;
};

/// Whether transport `T` has a prepare step (async_prepare).
template <typename T>
concept preparing_transport = stream_transport<T> &&
    requires(T& transport, typename T::stream_type& stream) {
  transport.async_prepare(stream, [](std::error_code) {});
};

/// A transport whose stream is the accepted socket itself, with no prepare step.
template <typename Listener>
struct plain_transport {
  using listener_type = Listener;
  using socket_type = typename Listener::socket_type;
  using stream_type = socket_type;
  template <stream_codec Codec>
  using connection_type = framed_connection<Codec, stream_type>;

  stream_type make_stream(socket_type socket) { return socket; }

  template <stream_codec Codec>
  connection_type<Codec> make_connection(stream_type stream, Codec codec,
                                         const connection_options& options) {
    return connection_type<Codec>{std::move(stream), std::move(codec), options};
  }
};

/// Plain TCP: the accepted socket is the stream.
using tcp_transport = plain_transport<tcp_listener>;
/// Plain Unix stream sockets.
using unix_transport = plain_transport<unix_listener>;

}  // namespace coronet
