// websocket_transport: WebSocket as a transport of basic_server, on top of another transport
// (TCP by default, TLS for wss). Its prepare step is the base's (a TLS handshake) followed by
// the HTTP/1.1 upgrade, read with the HTTP request codec in a framed_connection and answered
// from answer_websocket_handshake — so the server's handshake_timeout bounds both and both
// count against max_connections. The handler then gets a websocket_connection: a line handler
// runs on it unchanged, one text message per line.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>

#include "coronet/codec/http_error.hpp"
#include "coronet/codec/http_request_codec.hpp"
#include "coronet/codec/websocket_handshake.hpp"
#include "coronet/endpoint/server.hpp"
#include "coronet/endpoint/stream_transport.hpp"
#include "coronet/error.hpp"
#include "coronet/stream/connection_options.hpp"
#include "coronet/stream/detail/stream_ref.hpp"
#include "coronet/stream/framed_connection.hpp"
#include "coronet/stream/websocket_connection.hpp"
#include "coronet/stream/websocket_stream.hpp"

namespace coronet {

/// What a WebSocket server accepts and how its connections behave. Limits on by default.
struct websocket_server_options {
  /// Message limits and pinging of each connection (max_message_size 1 MiB, ping every 30 s).
  websocket_options connection;
  /// Subprotocols and the Origin allow-list (default: none selected, any origin).
  websocket_handshake_options handshake;
  /// Limits of the upgrade request (request line 8 KiB: 414; header fields 8 KiB and 100
  /// fields: 431), answered with that status and a close.
  http_request_codec_options request;
  /// The only request path that upgrades ("/ws"); others get 404. Empty (default): any path.
  std::string path;
  /// Answers requests that are not upgrades (a page, a health check) on the same port, one
  /// request per connection (the connection closes after the answer). Empty (default): they
  /// get 400.
  std::function<http_response(const http_request&)> http_handler;
};

/// WebSocket over `Base` (tcp_transport, or tls_transport for wss).
template <stream_transport Base = tcp_transport>
class websocket_transport {
 public:
  using base_type = Base;
  using listener_type = typename Base::listener_type;
  using socket_type = typename listener_type::socket_type;
  using stream_type = websocket_stream<typename Base::stream_type>;
  template <stream_codec Codec>
  using connection_type = websocket_connection<stream_type>;

  explicit websocket_transport(websocket_server_options options = {}, Base base = Base{})
      : settings_{std::make_shared<const websocket_server_options>(std::move(options))},
        base_{std::move(base)} {}

  stream_type make_stream(socket_type socket) {
    return stream_type{base_.make_stream(std::move(socket))};
  }

  /// A text handler's connection: the codec's type says what the handler reads (its
  /// messages must be text: std::string_view), the WebSocket options its limits.
  template <stream_codec Codec>
  connection_type<Codec> make_connection(stream_type stream, Codec,
                                         const connection_options& options) {
    static_assert(std::is_same_v<typename Codec::message_type, std::string_view>,
                  "over WebSocket a handler reads text messages: use a codec whose messages "
                  "are std::string_view (line_codec)");
    return connection_type<Codec>{std::move(stream), settings_->connection, options};
  }

  /// The base's handshake (TLS), then the WebSocket upgrade.
  template <typename Done>
  void async_prepare(stream_type& stream, Done done) {
    if constexpr (preparing_transport<Base>) {
      base_.async_prepare(
          stream.next_layer(),
          [&stream, settings = settings_, done = std::move(done)](std::error_code error) mutable {
            if (error) {
              done(error);
              return;
            }
            upgrade(stream, std::move(settings), std::move(done));
          });
    } else {
      upgrade(stream, settings_, std::move(done));
    }
  }

  const websocket_server_options& options() const noexcept { return *settings_; }
  /// The base transport (a TLS transport's reload()).
  Base& base() noexcept { return base_; }

 private:
  using next_stream = typename Base::stream_type;
  // The request's codec answers its own errors (400, 414, 431) before the stream closes
  // (answering_codec: the connection stays writable after one).
  using request_connection = framed_connection<http_request_codec, detail::stream_ref<next_stream>>;

  template <typename Done>
  static void upgrade(stream_type& stream, std::shared_ptr<const websocket_server_options> settings,
                      Done done) {
    asio::co_spawn(
        stream.get_executor(), read_upgrade(stream, std::move(settings)),
        [done = std::move(done)](std::exception_ptr failure, std::error_code error) mutable {
          if (failure) error = std::make_error_code(std::errc::not_enough_memory);
          done(error);
        });
  }

  // Reads the request, answers it, and on success leaves the stream ready for frames. The
  // server's handshake deadline closes the stream (and so ends this) when the peer is slow.
  static asio::awaitable<std::error_code> read_upgrade(
      stream_type& stream, std::shared_ptr<const websocket_server_options> settings) {
    connection_options limits;
    limits.max_read_size = 16 * 1024;
    limits.idle_timeout = std::chrono::milliseconds{0};  // The handshake deadline bounds it.
    limits.decode_errors = decode_error_policy::report;
    request_connection http{detail::stream_ref<next_stream>{stream.next_layer()},
                            http_request_codec{settings->request}, limits};
    auto received = co_await http.read();
    if (!received && received.decode_error()) {
      const std::error_code error = received.error();
      if (const int status = http_status_of(error); status != 0) {
        http_response refusal =
            http_response::with_body(status, std::string{http_reason_phrase(status)} + "\n");
        co_await refuse(http, std::move(refusal));
      }
      co_return error;
    }
    if (!received) co_return received.error();  // The peer left, or the deadline closed it.
    http_request* request = &*received;
    if (!is_websocket_upgrade(*request) && settings->http_handler) {
      http_response answer = settings->http_handler(*request);
      co_await refuse(http, std::move(answer));
      co_return errc::answered_without_session;
    }
    if (!settings->path.empty() && request->path() != settings->path) {
      http_response not_found = http_response::with_body(404, "no WebSocket at this path\n");
      co_await refuse(http, std::move(not_found));
      co_return websocket_handshake_errc::not_an_upgrade;
    }
    websocket_handshake_answer answer = answer_websocket_handshake(*request, settings->handshake);
    if (!answer.accepted()) {
      co_await refuse(http, std::move(answer.response));
      co_return answer.error;
    }
    http.try_write(answer.response);
    const std::error_code sent = co_await http.flush();
    if (sent) co_return sent;
    released_stream<detail::stream_ref<next_stream>> released = http.release_stream();
    stream.finish_handshake(std::move(*request), std::move(answer.subprotocol),
                            std::move(released.unread));
    co_return std::error_code{};
  }

  // Sends a final answer and closes gracefully: the peer reads it before the end (closing with
  // its unread request bytes would reset the connection and could lose the answer).
  static asio::awaitable<void> refuse(request_connection& http, http_response response) {
    response.close = true;
    http.try_write(response);
    co_await http.close_gracefully(std::chrono::seconds{1});
  }

  std::shared_ptr<const websocket_server_options> settings_;
  Base base_;
};

/// A WebSocket server over TCP: `websocket_server server{io, server_options,
/// websocket_transport<>{websocket_options}}`.
using websocket_server = basic_server<websocket_transport<>>;

}  // namespace coronet
