// redis_subscriber: a Redis connection in pub/sub mode. SUBSCRIBE, PSUBSCRIBE and SSUBSCRIBE
// (Redis 7 sharded pub/sub) are sent at once; the server's confirmations and the published
// messages come back, in the order the server sent them, from next().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <asio/awaitable.hpp>

#include "coronet/redis/detail/redis_link.hpp"
#include "coronet/redis/redis_client.hpp"
#include "coronet/redis/redis_error.hpp"
#include "coronet/redis/redis_options.hpp"

namespace coronet::redis {

/// What a pub/sub event is.
enum class pubsub_kind {
  message,       ///< A message on a channel subscribed with SUBSCRIBE.
  pmessage,      ///< A message on a channel matching a PSUBSCRIBE pattern (`pattern` set).
  smessage,      ///< A message on a shard channel subscribed with SSUBSCRIBE.
  subscribed,    ///< The server confirmed a (p/s)subscribe; `count` is the subscriptions now.
  unsubscribed,  ///< The server confirmed a (p/s)unsubscribe; `count` is the subscriptions left.
  pong,          ///< The answer to ping().
};

/// One event from the subscription stream.
struct pubsub_event {
  pubsub_kind kind = pubsub_kind::message;
  std::string channel;  ///< The channel (or, for (un)subscribed to a pattern, the pattern).
  std::string pattern;  ///< pmessage: the pattern that matched.
  std::string payload;  ///< The message (pong: PING's argument).
  std::int64_t count = 0;
};

/// next()'s result: an event, or why there is none (the connection ended: closed, timed out,
/// a protocol error, redis_errc::error_reply with the server's text in `event.payload`).
struct pubsub_result {
  std::error_code error;
  pubsub_event event;

  explicit operator bool() const noexcept { return !error; }
};

/// A pub/sub connection. Use it from one executor; one coroutine calls next() at a time.
///
/// Bounded without a queue of its own: next() reads straight from the connection, so a
/// consumer that falls behind leaves messages in the kernel's socket buffer and then in the
/// server's output buffer for this client, which Redis bounds (client-output-buffer-limit
/// pubsub, default 32 MiB hard / 8 MiB for 60 s) by closing the connection: next() then returns
/// an error and the owner reconnects and resubscribes.
class redis_subscriber {
 public:
  /// Connects (TCP or Unix socket, within connect_timeout) and authenticates.
  static asio::awaitable<redis_connect_result<redis_subscriber>> connect(redis_options options);

  redis_subscriber(redis_subscriber&&) noexcept = default;
  redis_subscriber& operator=(redis_subscriber&&) noexcept;
  /// Closes the connection; a next() in progress returns errc::connection_closed.
  ~redis_subscriber();

  /// Sends SUBSCRIBE for `channels`; the confirmations come from next(). Returns why it could
  /// not be sent (a closed connection, a full send queue).
  std::error_code subscribe(const std::vector<std::string>& channels);
  /// Sends PSUBSCRIBE for `patterns`.
  std::error_code psubscribe(const std::vector<std::string>& patterns);
  /// Sends SSUBSCRIBE (sharded pub/sub, Redis 7) for `channels`.
  std::error_code ssubscribe(const std::vector<std::string>& channels);
  /// Sends UNSUBSCRIBE for `channels` (all of them when empty).
  std::error_code unsubscribe(const std::vector<std::string>& channels);
  /// Sends SUNSUBSCRIBE for shard `channels` (all of them when empty).
  std::error_code sunsubscribe(const std::vector<std::string>& channels);
  /// Sends PING; the answer comes from next() as pubsub_kind::pong with `payload` as payload
  /// (also while nothing is subscribed, when Redis answers it as a plain command).
  std::error_code ping(const std::string& payload);

  /// The next event, waiting as long as it takes (close() ends the wait).
  asio::awaitable<pubsub_result> next();

  /// Whether the connection is still usable.
  bool is_open() const noexcept;
  /// Closes now.
  void close();

 private:
  explicit redis_subscriber(std::shared_ptr<detail::redis_link> link) : link_{std::move(link)} {}
  std::error_code send(std::string_view verb, const std::vector<std::string>& arguments);

  std::shared_ptr<detail::redis_link> link_;
  bool closed_ = false;
  std::size_t pings_ = 0;  // PINGs sent and not answered yet.
};

}  // namespace coronet::redis
