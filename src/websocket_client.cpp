// WebSocket client over TCP: open the socket, run the handshake, wrap it in the client role.
#include "coronet/endpoint/websocket_client.hpp"

#include <chrono>

namespace coronet::detail {

asio::awaitable<connect_result<websocket_client_connection>> websocket_connect_coroutine(
    std::string host, std::uint16_t port, std::string target, websocket_connect_options options) {
  using result = connect_result<websocket_client_connection>;
  auto [error, socket] = co_await detail::open_tcp_connection(host, port, options.tcp.timeout);
  if (!error) error = apply_socket_options(socket, options.tcp.socket);
  if (error) co_return result{error, std::nullopt};
  websocket_stream<asio::ip::tcp::socket> stream{std::move(socket)};
  std::string authority = host + ":" + std::to_string(port);
  // Named first: GCC 12 mishandles temporaries inside a co_await in a condition.
  const std::error_code refused = co_await websocket_client_handshake(
      stream, std::move(authority), std::move(target), options, options.tcp.timeout);
  if (refused) {
    std::error_code ignored;
    stream.close(ignored);
    co_return result{refused, std::nullopt};
  }
  websocket_options connection = options.connection;
  connection.codec.role = websocket_role::client;
  co_return result{
      {}, websocket_client_connection{std::move(stream), connection, options.tcp.connection}};
}

asio::awaitable<websocket_client_connection> websocket_connect_or_throw(
    std::string host, std::uint16_t port, std::string target, websocket_connect_options options) {
  const std::string where = "ws://" + host + ":" + std::to_string(port) + target;
  asio::awaitable<connect_result<websocket_client_connection>> connecting =
      websocket_connect_coroutine(std::move(host), port, std::move(target), std::move(options));
  auto result = co_await std::move(connecting);
  if (!result) throw std::system_error(result.error, "cannot connect to " + where);
  co_return std::move(*result.connection);
}

}  // namespace coronet::detail
