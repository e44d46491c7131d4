// The listeners of stream servers: a TCP listener (IPv4, IPv6, dual-stack) and a Unix socket
// listener (which replaces a stale socket file and removes its own at close). Both bind and
// listen when constructed, so local_endpoint() is known at once.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>

#include "coronet/endpoint/server_options.hpp"

namespace coronet {

/// What both listeners share: the acceptor, accepting, and the bound address.
template <typename Protocol>
class basic_listener {
 public:
  using protocol_type = Protocol;
  using socket_type = typename Protocol::socket;
  using endpoint_type = typename Protocol::endpoint;

  template <typename Handler>
  void async_accept(Handler&& handler) {
    acceptor_.async_accept(std::forward<Handler>(handler));
  }
  endpoint_type local_endpoint() const { return acceptor_.local_endpoint(); }
  asio::any_io_executor get_executor() { return acceptor_.get_executor(); }

 protected:
  explicit basic_listener(const asio::any_io_executor& executor) : acceptor_{executor} {}

  typename Protocol::acceptor acceptor_;
};

/// Listens on options.host:options.port (see server_options for dual-stack, reuse options).
class tcp_listener : public basic_listener<asio::ip::tcp> {
 public:
  /// Binds and listens; throws std::system_error if the address cannot be bound.
  tcp_listener(const asio::any_io_executor& executor, const server_options& options);
  void close() noexcept;
};

/// Listens on the Unix socket options.unix_path.
class unix_listener : public basic_listener<asio::local::stream_protocol> {
 public:
  /// Binds and listens; throws std::invalid_argument without a path, std::system_error if the
  /// path is in use by a live server or cannot be bound.
  unix_listener(const asio::any_io_executor& executor, const server_options& options);
  unix_listener(const unix_listener&) = delete;
  unix_listener& operator=(const unix_listener&) = delete;
  ~unix_listener() { close(); }
  /// Stops accepting and removes the socket file if it is still the one this listener bound.
  void close() noexcept;

 private:
  std::string path_;
  std::uint64_t inode_ = 0;  // Of the socket file bound (0 once removed).
};

}  // namespace coronet
