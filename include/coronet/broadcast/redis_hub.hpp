// redis_hub: a broadcast hub whose rooms span every instance connected to one Redis. Local
// members are served directly; each publication also goes to Redis (channel per room) in an
// envelope, and each instance delivers the others' publications to its own members.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <asio/any_io_executor.hpp>

#include "coronet/broadcast/backplane_status.hpp"
#include "coronet/broadcast/broadcast_hub.hpp"
#include "coronet/redis/redis_options.hpp"

namespace coronet::broadcast {

/// Settings of a redis_hub. Every bound is on by default.
struct redis_hub_options {
  /// The Redis server, credentials and per-connection timeouts.
  redis::redis_options redis;
  /// Channel of room R: channel_prefix + R. Default "coronet:room:".
  std::string channel_prefix = "coronet:room:";
  /// Sharded pub/sub (Redis 7): SSUBSCRIBE and SPUBLISH instead of SUBSCRIBE and PUBLISH, also
  /// when subscriptions are restored after a reconnection. Redis relays a shard channel only to
  /// subscribers of the same kind, so every instance of one backplane must agree. Not
  /// cluster-aware: the hub talks to the one node of `redis` (a standalone Redis 7 accepts the
  /// sharded commands). Default off.
  bool sharded = false;
  /// Publications kept while Redis is unreachable (then the oldest is dropped and counted).
  /// Default 10,000.
  std::size_t max_queued_messages = 10'000;
  /// Bytes of publications kept while Redis is unreachable. Default 8 MiB.
  std::size_t max_queued_bytes = 8 * 1024 * 1024;
  /// First wait before reconnecting; doubles per failed try up to max_backoff. Default 100 ms.
  std::chrono::milliseconds initial_backoff{100};
  /// Longest wait between reconnection tries. Default 2 s.
  std::chrono::milliseconds max_backoff = std::chrono::seconds{2};
  /// After a reconnection, publications queued during the outage wait this long (and for this
  /// hub's own subscriptions) before they are sent, so that instances reconnecting at about the
  /// same time are subscribed again: pub/sub delivers only to the subscribers of the moment.
  /// Best effort, not a guarantee (see docs/redis.md). 0 sends at once. Default 1 s.
  std::chrono::milliseconds resume_delay = std::chrono::seconds{1};
  /// PUBLISH commands sent in one pipeline. Default 64.
  std::size_t publish_batch = 64;
  /// Pipelines sent before the first is answered (within half the publisher's
  /// send_queue_limit in bytes). Default 8.
  std::size_t publish_batches_in_flight = 8;
  /// Interval of the subscriber's PING; a link with no answer for two intervals is lost
  /// (a Redis that vanished without closing the connection). 0 turns it off. Default 1 s.
  std::chrono::milliseconds health_interval = std::chrono::seconds{1};
  /// Called on every status change (on the hub's executor); see backplane_status::line().
  std::function<void(const backplane_status&)> on_status;
};

/// A broadcast hub relayed through Redis pub/sub. Use it from one executor (thread).
///
/// Delivery: while Redis is reachable, every publication reaches every member of its room on
/// every instance once, in each sender's order; a sender never gets its own. While Redis is
/// not reachable, local delivery goes on and publications wait in a bounded queue (oldest
/// dropped and counted) to be published in order once the backplane is back. Pub/sub keeps
/// nothing: what other instances published while this one was not subscribed is lost to it
/// (counted as gaps when later messages from the same origin arrive). See docs/redis.md.
class redis_hub final : public broadcast_hub {
 public:
  redis_hub(asio::any_io_executor executor, redis_hub_options options);
  /// Stops (see stop()).
  ~redis_hub() override;

  /// Starts connecting (publisher and subscriber), and keeps reconnecting until stop().
  void start();
  /// Closes both connections and ends reconnecting; local delivery goes on.
  void stop();

  /// True while publisher and subscriber are connected and every room is subscribed.
  bool connected() const noexcept;
  /// This hub's instance id (random, made at construction).
  const std::string& instance_id() const noexcept;
  /// True: its backplane counters (received, reconnects, outage, queue, ...) mean something.
  bool has_backplane() const noexcept override { return true; }

  struct state;  // The connections, queue and status (defined in the source file).

 private:
  void room_opened(const std::string& room) override;
  void room_closed(const std::string& room) override;
  void forward(const std::string& room, std::string_view message) override;

  std::shared_ptr<state> state_;
};

}  // namespace coronet::broadcast
