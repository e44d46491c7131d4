// Client side: connect to a TCP host (every resolved address in turn, IPv6 and IPv4, each with a
// timeout) or a Unix socket path, and get a framed_connection. Two forms, as in Python's socket:
// connect() throws, connect_ex() returns the error.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>

#include "coronet/codec/codec_concepts.hpp"
#include "coronet/codec/line_codec.hpp"
#include "coronet/endpoint/socket_options.hpp"
#include "coronet/stream/connection_options.hpp"
#include "coronet/stream/framed_connection.hpp"

namespace coronet {

/// How a client connects, and the limits of the connection it gets.
struct connect_options {
  /// Bound on name resolution and on each address attempt. Default 10 s.
  std::chrono::milliseconds timeout = std::chrono::seconds{10};
  /// Limits and timeouts of the connection (idle timeout, send queue, ...).
  connection_options connection;
  /// Socket options (TCP_NODELAY on by default).
  socket_options socket;
};

/// What connect_ex() returns: a connection, or the error of the last attempt.
template <typename Connection>
struct connect_result {
  std::error_code error;
  std::optional<Connection> connection;

  explicit operator bool() const noexcept { return connection.has_value(); }
};

template <stream_codec Codec = line_codec>
using tcp_connection = framed_connection<Codec, asio::ip::tcp::socket>;
template <stream_codec Codec = line_codec>
using unix_connection = framed_connection<Codec, asio::local::stream_protocol::socket>;

namespace detail {

/// Resolves `host` and connects to each address in turn; errc::timed_out when an attempt (or
/// the resolution) takes longer than `timeout`.
asio::awaitable<std::pair<std::error_code, asio::ip::tcp::socket>> open_tcp_connection(
    std::string host, std::uint16_t port, std::chrono::milliseconds timeout);

asio::awaitable<std::pair<std::error_code, asio::local::stream_protocol::socket>>
open_unix_connection(std::string path, std::chrono::milliseconds timeout);

template <typename Connection, typename Socket>
connect_result<Connection> make_connect_result(std::error_code error, Socket socket,
                                               const connect_options& options,
                                               typename Connection::codec_type codec) {
  if (!error) error = apply_socket_options(socket, options.socket);
  if (error) return {error, std::nullopt};
  return {{}, Connection{std::move(socket), std::move(codec), options.connection}};
}

}  // namespace detail

/// Connects to host:port; on failure returns the error of the last address tried (like
/// Python's connect_ex), never throws for network errors.
template <stream_codec Codec = line_codec>
asio::awaitable<connect_result<tcp_connection<Codec>>> connect_ex(std::string host,
                                                                  std::uint16_t port,
                                                                  connect_options options = {},
                                                                  Codec codec = {}) {
  auto [error, socket] =
      co_await detail::open_tcp_connection(std::move(host), port, options.timeout);
  co_return detail::make_connect_result<tcp_connection<Codec>>(error, std::move(socket), options,
                                                               std::move(codec));
}

/// Connects to host:port; throws std::system_error on failure (like Python's connect).
template <stream_codec Codec = line_codec>
asio::awaitable<tcp_connection<Codec>> connect(std::string host, std::uint16_t port,
                                               connect_options options = {}, Codec codec = {}) {
  const std::string target = host + ":" + std::to_string(port);
  auto result = co_await connect_ex<Codec>(std::move(host), port, options, std::move(codec));
  if (!result) throw std::system_error(result.error, "cannot connect to " + target);
  co_return std::move(*result.connection);
}

/// Connects to the Unix socket at `path`; returns the error on failure.
template <stream_codec Codec = line_codec>
asio::awaitable<connect_result<unix_connection<Codec>>> connect_unix_ex(
    std::string path, connect_options options = {}, Codec codec = {}) {
  auto [error, socket] = co_await detail::open_unix_connection(std::move(path), options.timeout);
  co_return detail::make_connect_result<unix_connection<Codec>>(error, std::move(socket), options,
                                                                std::move(codec));
}

/// Connects to the Unix socket at `path`; throws std::system_error on failure.
template <stream_codec Codec = line_codec>
asio::awaitable<unix_connection<Codec>> connect_unix(std::string path, connect_options options = {},
                                                     Codec codec = {}) {
  const std::string target = "unix:" + path;
  auto result = co_await connect_unix_ex<Codec>(std::move(path), options, std::move(codec));
  if (!result) throw std::system_error(result.error, "cannot connect to " + target);
  co_return std::move(*result.connection);
}

}  // namespace coronet
