// redis_client: commands to a Redis server over one connection, pipelined: every command is
// written as soon as it is issued and replies are matched to commands in order, so several
// coroutines (or one, with pipeline()) keep many commands in flight.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/awaitable.hpp>

#include "coronet/codec/resp_value.hpp"
#include "coronet/redis/detail/redis_link.hpp"
#include "coronet/redis/redis_command.hpp"
#include "coronet/redis/redis_error.hpp"
#include "coronet/redis/redis_options.hpp"

namespace coronet::redis {

/// What a command gives back: the server's reply, or why there is none (`error`: a timeout,
/// a closed connection, a protocol error). An error *reply* ("-ERR ...") is a value:
/// `value.is_error()`.
struct redis_reply {
  std::error_code error;
  resp_value value;

  /// True when the server answered, and not with an error.
  explicit operator bool() const noexcept { return !error && !value.is_error(); }
};

/// What connect() gives: a client, or the error and the server's words about it.
template <typename Client>
struct redis_connect_result {
  std::error_code error;
  std::string reason;  ///< The server's refusal (AUTH) or the error's description.
  std::optional<Client> client;

  explicit operator bool() const noexcept { return client.has_value(); }
};

namespace detail {
struct client_state;
}

/// A Redis connection for commands. Use it from one executor (thread or strand). Any number of
/// coroutines may issue commands at once; replies return to each in order. A command timeout,
/// a protocol error or a lost connection closes the client and fails every command in flight;
/// connect again to go on.
class redis_client {
 public:
  /// Connects (TCP or Unix socket, within connect_timeout) and authenticates.
  static asio::awaitable<redis_connect_result<redis_client>> connect(redis_options options);

  redis_client(redis_client&&) noexcept = default;
  redis_client& operator=(redis_client&&) noexcept;
  /// Closes the connection; commands in flight end with errc::connection_closed.
  ~redis_client();

  /// Sends one command and returns its reply: `co_await client.command({"SET", "k", "v"})`.
  asio::awaitable<redis_reply> command(redis_command command);
  /// Sends every command at once (one write), then returns their replies in the same order.
  asio::awaitable<std::vector<redis_reply>> pipeline(std::vector<redis_command> commands);

  /// Commands sent whose replies have not arrived yet.
  std::size_t pending() const noexcept;
  /// Whether the connection can still carry commands.
  bool is_open() const noexcept;
  /// What ended the connection (empty while open, or after close()).
  std::error_code error() const noexcept;
  /// Closes now; commands in flight end with errc::connection_closed.
  void close();
  /// Calls `hook` once, on this client's executor, when the connection ends (whatever ended
  /// it), with the reason: how an idle owner learns that the server went away.
  void on_close(std::function<void(std::error_code)> hook);

 private:
  explicit redis_client(std::shared_ptr<detail::client_state> state) : state_{std::move(state)} {}

  std::shared_ptr<detail::client_state> state_;
};

}  // namespace coronet::redis
