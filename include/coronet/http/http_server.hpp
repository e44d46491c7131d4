// basic_http_server: a small HTTP/1.1 server on basic_server and the HTTP request codec, for
// endpoints a coronet program serves beside its own protocol (GET /metrics, a chat page). It
// routes GET/HEAD (and any method) by exact path, answers what it cannot route (404, 405) or
// parse (400, 413, 414, 431, 501, 505 and close), keeps connections alive within bounds, and
// inherits every server limit: max_connections (a 503 past it), timeouts, graceful stop. Like
// basic_server it is generic over the transport: http_server is plain TCP, and
// basic_http_server<tls_transport> serves HTTPS. An upgrade route (upgrade()) takes a
// connection over after its request: the seam for WebSocket on the same port.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include "coronet/codec/http_message.hpp"
#include "coronet/codec/http_request_codec.hpp"
#include "coronet/endpoint/server.hpp"
#include "coronet/endpoint/stream_transport.hpp"
#include "coronet/http/detail/http_session.hpp"
#include "coronet/http/http_router.hpp"
#include "coronet/http/http_server_options.hpp"

namespace coronet {

/// An HTTP/1.1 server over `Transport` (tcp_transport, unix_transport, tls_transport, ...).
/// Register routes, then start(). Use it from the thread running its executor.
template <stream_transport Transport>
class basic_http_server {
 public:
  using server_type = basic_server<Transport>;
  using endpoint_type = typename server_type::endpoint_type;
  /// The connection an upgrade handler gets: a framed_connection with the HTTP codec.
  using connection_type = typename server_type::template connection_type<http_request_codec>;
  /// Takes a connection over after its request (see upgrade()).
  using upgrade_handler = std::function<asio::awaitable<void>(http_request, connection_type&)>;

  /// Binds and listens (local_endpoint() is known at once). Throws std::system_error if the
  /// address cannot be bound.
  basic_http_server(const asio::any_io_executor& executor, http_server_options options = {},
                    Transport transport = Transport{})
      : state_{std::make_shared<state>(options)},
        server_{executor, std::move(options.server), std::move(transport)} {}
  basic_http_server(asio::io_context& io, http_server_options options = {},
                    Transport transport = Transport{})
      : basic_http_server(io.get_executor(), std::move(options), std::move(transport)) {}

  /// Answers GET `path` (and HEAD, without the body) with `handler`: a callable taking
  /// const http_request& and returning http_response or asio::awaitable<http_response>.
  template <typename Handler>
  void get(std::string path, Handler handler) {
    state_->router.add("GET", std::move(path), std::move(handler));
  }

  /// Answers `method` requests for `path` with `handler` (as get()).
  template <typename Handler>
  void route(std::string method, std::string path, Handler handler) {
    state_->router.add(std::move(method), std::move(path), std::move(handler));
  }

  /// Hands every GET request for `path` to `handler(request, connection)`, which owns the
  /// connection from then on: it answers through connection.write(http_response) (a 101 for a
  /// WebSocket handshake, or a 400 and return), and may then take the stream itself with
  /// connection.release_stream() (the open stream and any bytes already received after the
  /// request) to run another protocol on it. The connection still counts against
  /// max_connections and stop() cancels the handler; when it returns, the connection is closed
  /// gracefully (a released stream is the handler's to close).
  void upgrade(std::string path, upgrade_handler handler) {
    state_->upgrades.emplace_back(std::move(path), std::move(handler));
  }

  /// Starts accepting. Call once, after the routes are registered.
  void start() {
    server_.template serve<http_request_codec>(
        http_request_codec{state_->options.codec},
        [shared = std::shared_ptr<const state>{state_}](connection_type& connection) {
          return detail::serve_http(shared, connection);
        });
  }

  /// Graceful stop (see basic_server::stop): no new connections, handlers cancelled, queued
  /// responses sent within drain_timeout.
  void stop() { server_.stop(); }

  /// The bound address (with the real port when the port option was 0).
  endpoint_type local_endpoint() const { return server_.local_endpoint(); }

  /// Connections being served now.
  std::size_t connection_count() const noexcept { return server_.connection_count(); }

  /// The underlying stream server (its transport, handshake count, ...).
  server_type& server() noexcept { return server_; }

 private:
  using state = detail::http_server_state<connection_type>;

  std::shared_ptr<state> state_;
  server_type server_;
};

/// An HTTP server over plain TCP.
using http_server = basic_http_server<tcp_transport>;

}  // namespace coronet
