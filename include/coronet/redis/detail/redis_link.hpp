// One connection to a Redis server, TCP or Unix, behind one type: the framed connection (resp
// codec) the client and the subscriber share, and how both open it (connect, then AUTH).
#pragma once

#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

#include <asio/awaitable.hpp>

#include "coronet/codec/resp_codec.hpp"
#include "coronet/endpoint/client.hpp"
#include "coronet/read_result.hpp"
#include "coronet/redis/redis_options.hpp"

namespace coronet::redis::detail {

/// A framed RESP connection over TCP or a Unix socket.
class redis_link {
 public:
  using tcp_type = tcp_connection<resp_codec>;
  using unix_type = unix_connection<resp_codec>;

  explicit redis_link(tcp_type connection) : connection_{std::move(connection)} {}
  explicit redis_link(unix_type connection) : connection_{std::move(connection)} {}

  asio::awaitable<read_result<resp_value>> read() {
    return std::visit([](auto& connection) { return connection.read(); }, connection_);
  }
  std::error_code try_write(const resp_value& value) {
    return std::visit([&value](auto& connection) { return connection.try_write(value); },
                      connection_);
  }
  void close() {
    std::visit([](auto& connection) { connection.close(); }, connection_);
  }
  bool is_open() const {
    return std::visit([](const auto& connection) { return connection.is_open(); }, connection_);
  }

 private:
  std::variant<tcp_type, unix_type> connection_;
};

/// What opening a link gives: the link, or an error and the server's words about it.
struct link_result {
  std::error_code error;
  std::string reason;  // The server's error reply (AUTH) or a description; empty if none.
  std::shared_ptr<redis_link> link;
};

/// Reads one reply, closing the link if none arrives within `timeout` (0: no bound).
asio::awaitable<read_result<resp_value>> read_reply(std::shared_ptr<redis_link> link,
                                                    std::chrono::milliseconds timeout);

/// Connects (within connect_timeout) and authenticates (within command_timeout).
asio::awaitable<link_result> open_link(redis_options options);

}  // namespace coronet::redis::detail
