// redis_hub: two loops per hub, each with its own connection. The publisher loop sends the
// publish queue in pipelined batches and drops entries only once Redis confirmed them; the
// subscriber loop subscribes every room, reports the backplane connected once Redis confirmed
// all of them, and delivers other instances' publications. Both reconnect with capped
// exponential backoff. Every step after a suspension checks `stopping`: the hub may be gone.
#include "coronet/broadcast/redis_hub.hpp"

#include <algorithm>
#include <deque>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>

#include "coronet/broadcast/detail/envelope.hpp"
#include "coronet/detail/tuple_awaitable.hpp"
#include "coronet/detail/wake_signal.hpp"
#include "coronet/redis/redis_client.hpp"
#include "coronet/redis/redis_error.hpp"
#include "coronet/redis/redis_subscriber.hpp"

namespace coronet::broadcast {

std::string backplane_status::line() const {
  switch (state) {
    case backplane_state::connected:
      return "backplane: connected to " + address;
    case backplane_state::lost:
      return "backplane: lost " + address + " (" + reason + ")";
    case backplane_state::unreachable:
      return "backplane: cannot reach " + address + " (" + reason + "), retrying";
    case backplane_state::failed:
      return "backplane: error: " + address + ": " + reason;
  }
  return "backplane: " + address;
}

namespace {

using coronet::detail::tuple_awaitable;

std::int64_t steady_now_ns() {
  return std::chrono::steady_clock::now().time_since_epoch().count();
}

std::string describe(std::error_code error) {
  if (error == asio::error::eof) return "connection closed by Redis";
  return error.message();
}

// Origins remembered for duplicate and gap detection; past this the memory starts afresh.
constexpr std::size_t max_origins = 65'536;

}  // namespace

struct redis_hub::state {
  state(asio::any_io_executor executor_in, redis_hub_options options_in, redis_hub* owner)
      : executor{std::move(executor_in)},
        options{std::move(options_in)},
        hub{owner},
        live{owner->counters_},
        instance{detail::random_instance_id()},
        address{options.redis.address.to_string()},
        publisher_wake{executor},
        publisher_backoff{executor},
        subscriber_backoff{executor},
        health_timer{executor} {}

  hub_counters& counters() { return *live; }
  std::string channel_of(const std::string& room) const { return options.channel_prefix + room; }
  std::string_view room_of(const std::string& channel) const {
    return std::string_view{channel}.substr(options.channel_prefix.size());
  }

  // SUBSCRIBE or, with options.sharded, SSUBSCRIBE (and their UNSUBSCRIBE).
  std::error_code subscribe(const std::vector<std::string>& channels) {
    return options.sharded ? subscriber->ssubscribe(channels) : subscriber->subscribe(channels);
  }
  std::error_code unsubscribe(const std::vector<std::string>& channels) {
    return options.sharded ? subscriber->sunsubscribe(channels) : subscriber->unsubscribe(channels);
  }

  void emit(backplane_state what, std::string reason) {
    if (options.on_status) options.on_status(backplane_status{what, address, std::move(reason)});
  }

  // The combined link changed (publisher_up / subscriber_up): report connected or lost.
  void update(const std::string& reason) {
    if (stopping) return;
    const bool up = publisher_up && subscriber_up;
    if (up && !reported_connected) {
      reported_connected = true;
      reported_problem = false;
      if (ever_connected) hub_counters::add(counters().reconnects);
      ever_connected = true;
      counters().connected.store(true, std::memory_order_relaxed);
      end_outage();
      emit(backplane_state::connected, {});
    } else if (!up && reported_connected) {
      reported_connected = false;
      reported_problem = true;
      counters().connected.store(false, std::memory_order_relaxed);
      begin_outage();
      emit(backplane_state::lost, reason);
    }
  }

  // A connection attempt failed: said once per outage.
  void unreachable(const std::string& reason) {
    if (stopping || reported_connected || reported_problem) return;
    reported_problem = true;
    emit(backplane_state::unreachable, reason);
  }

  void fatal(const std::string& reason) {
    if (stopping) return;
    emit(backplane_state::failed, reason);
    shut_down();
  }

  void shut_down() {
    stopping = true;
    if (subscriber) subscriber->close();
    if (publisher) publisher->close();
    publisher_wake.notify_all();
    publisher_backoff.cancel();
    subscriber_backoff.cancel();
    health_timer.cancel();
  }

  void begin_outage() {
    hub_counters& live = counters();
    if (live.outage_since_ns.load(std::memory_order_relaxed) == 0)
      live.outage_since_ns.store(steady_now_ns(), std::memory_order_relaxed);
  }

  void end_outage() {
    hub_counters& live = counters();
    const std::int64_t since = live.outage_since_ns.load(std::memory_order_relaxed);
    if (since == 0) return;
    const std::int64_t elapsed = std::max<std::int64_t>(0, steady_now_ns() - since);
    hub_counters::add(live.outage_ms, static_cast<std::uint64_t>(elapsed / 1'000'000));
    live.outage_since_ns.store(0, std::memory_order_relaxed);
  }

  void publish_queue_changed() {
    counters().queue_depth.store(queue.size(), std::memory_order_relaxed);
    counters().queue_bytes.store(queue_bytes, std::memory_order_relaxed);
  }

  // A local publication: into the queue (bounded, oldest dropped), for the publisher loop.
  void enqueue(const std::string& room, std::string_view message) {
    const std::uint64_t sequence = ++room_sequence[room];
    std::string envelope = detail::wrap(instance, sequence, room, message);
    // What the queue cannot hold, or the publisher's send queue cannot take with the PUBLISH
    // framing (a few dozen bytes), could never be sent: dropped at once.
    const std::size_t framed = envelope.size() + options.channel_prefix.size() + room.size() + 64;
    if (envelope.size() > options.max_queued_bytes || framed > options.redis.send_queue_limit) {
      counters().count(room, &message_counters::dropped);
      return;
    }
    queue_bytes += envelope.size();
    queue.push_back(queued{next_entry++, channel_of(room), std::move(envelope)});
    while (queue.size() > options.max_queued_messages || queue_bytes > options.max_queued_bytes) {
      queue_bytes -= queue.front().envelope.size();
      counters().count(room_of(queue.front().channel), &message_counters::dropped);
      queue.pop_front();
    }
    publish_queue_changed();
    publisher_wake.notify_all();
  }

  // A publication from Redis: skip our own, drop duplicates, count gaps, deliver.
  void receive(const std::string& channel, const std::string& payload) {
    const std::optional<detail::envelope> parsed = detail::unwrap(payload);
    if (!parsed || channel.size() != options.channel_prefix.size() + parsed->room.size() ||
        !channel.ends_with(parsed->room)) {
      hub_counters::add(counters().malformed);
      return;
    }
    if (parsed->instance == instance) return;
    std::string origin;
    origin.append(parsed->instance).push_back(' ');
    origin.append(parsed->room);
    if (last_seen.size() >= max_origins && !last_seen.contains(origin)) last_seen.clear();
    std::uint64_t& last = last_seen[origin];
    if (last != 0 && parsed->sequence <= last) {
      counters().count(parsed->room, &message_counters::duplicates);
      return;
    }
    if (last != 0 && parsed->sequence > last + 1)
      counters().count(parsed->room, &message_counters::gaps, parsed->sequence - last - 1);
    last = parsed->sequence;
    counters().count(parsed->room, &message_counters::received);
    hub->deliver_remote(std::string{parsed->room}, parsed->payload);
  }

  asio::awaitable<void> sleep(asio::steady_timer& timer, std::chrono::milliseconds duration) {
    timer.expires_after(duration);
    co_await timer.async_wait(tuple_awaitable);
  }

  std::chrono::milliseconds next_backoff(std::chrono::milliseconds backoff) const {
    return std::min(backoff * 2, options.max_backoff);
  }

  struct queued {
    std::uint64_t id;
    std::string channel;
    std::string envelope;
  };

  asio::any_io_executor executor;
  redis_hub_options options;
  redis_hub* hub;
  std::shared_ptr<hub_counters> live;  // The hub's counters (a coroutine may outlive the hub).
  std::string instance;
  std::string address;
  bool stopping = false;
  bool started = false;

  // Status.
  bool publisher_up = false;
  bool subscriber_up = false;
  bool reported_connected = false;
  bool reported_problem = false;
  bool ever_connected = false;

  // Publishing.
  std::optional<redis::redis_client> publisher;
  std::uint64_t publisher_connection = 0;  // Counts publisher connections (publish_window).
  std::deque<queued> queue;
  std::size_t queue_bytes = 0;
  std::uint64_t next_entry = 1;
  std::unordered_map<std::string, std::uint64_t> room_sequence;
  coronet::detail::wake_signal publisher_wake;
  asio::steady_timer publisher_backoff;

  // Subscribing.
  std::optional<redis::redis_subscriber> subscriber;
  std::unordered_set<std::string> unconfirmed;  // Channels subscribed, not yet confirmed.
  std::unordered_map<std::string, std::uint64_t> last_seen;  // "instance room" -> sequence.
  asio::steady_timer subscriber_backoff;
  asio::steady_timer health_timer;
  std::uint64_t subscription = 0;  // Generation of the subscriber connection.
  bool heard = true;               // Any event since the last health PING.
  std::string health_failure;      // Why the health check closed the subscriber, if it did.
  std::chrono::steady_clock::time_point subscribed_at;
};

namespace {

using hub_state = std::shared_ptr<redis_hub::state>;

}  // namespace

// One publisher connection's window: the batches written to it whose replies have not all
// arrived. Several batches in flight let the publish rate follow Redis rather than one round
// trip through this executor per batch (one batch at a time published 41% of what one busy
// instance queued: docs/redis.md, "What fan-out across instances costs").
struct publish_window {
  std::uint64_t connection = 0;    // The publisher connection it belongs to.
  std::uint64_t sent_through = 0;  // The newest queue entry written on it.
  std::size_t batches = 0;         // Batches awaiting replies.
  std::size_t bytes = 0;           // Their envelopes' and channels' bytes.
  std::error_code failure;         // What ended the connection, as a reply told it.
};

struct publish_batch_entries {
  std::vector<redis::redis_command> commands;
  std::vector<std::uint64_t> ids;
  std::vector<std::string> rooms;
  std::size_t bytes = 0;
};

// Sends one batch on the window's connection and, once Redis answered, drops the confirmed
// entries from the queue. Replies come in order, so confirmations do too.
static asio::awaitable<void> publish_batch(hub_state s, std::shared_ptr<publish_window> window,
                                           publish_batch_entries batch) {
  std::vector<redis::redis_reply> replies;
  // The connection may have gone (and another come) before this coroutine first ran.
  if (!s->stopping && s->publisher && s->publisher_connection == window->connection) {
    replies = co_await s->publisher->pipeline(std::move(batch.commands));
  }
  if (s->stopping) co_return;
  std::uint64_t confirmed = 0;
  std::error_code failure =
      replies.empty() ? make_error_code(errc::connection_closed) : std::error_code{};
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].error) {
      failure = replies[i].error;
      break;
    }
    // An error reply (a publication Redis refused) is not retried: it is dropped.
    if (replies[i].value.is_error())
      s->counters().count(batch.rooms[i], &message_counters::dropped);
    confirmed = batch.ids[i];
  }
  while (!s->queue.empty() && s->queue.front().id <= confirmed) {
    s->queue_bytes -= s->queue.front().envelope.size();
    s->queue.pop_front();
  }
  s->publish_queue_changed();
  --window->batches;
  window->bytes -= batch.bytes;
  if (failure && !window->failure) window->failure = failure;
  s->publisher_wake.notify_all();
}

// Takes the next batch from the queue: the entries after `sent_through`, at most
// publish_batch of them and at most `byte_budget` bytes (but at least one entry).
static publish_batch_entries next_batch(redis_hub::state& s, std::uint64_t sent_through,
                                        std::size_t byte_budget) {
  publish_batch_entries batch;
  const char* verb = s.options.sharded ? "SPUBLISH" : "PUBLISH";
  auto entry = std::partition_point(s.queue.begin(), s.queue.end(),
                                    [&](const auto& queued) { return queued.id <= sent_through; });
  for (; entry != s.queue.end() && batch.ids.size() < s.options.publish_batch; ++entry) {
    const std::size_t bytes = entry->envelope.size() + entry->channel.size();
    if (!batch.ids.empty() && batch.bytes + bytes > byte_budget) break;
    batch.commands.emplace_back(std::vector<std::string>{verb, entry->channel, entry->envelope});
    batch.ids.push_back(entry->id);
    batch.rooms.emplace_back(s.room_of(entry->channel));
    batch.bytes += bytes;
  }
  return batch;
}

// Publishes queued envelopes until the connection ends; returns why it ended. Entries leave the
// queue only when Redis confirmed them: what was in flight when the link went is sent again on
// the next connection (receivers drop a duplicate by its sequence number).
static asio::awaitable<std::string> drain_queue(hub_state s) {
  auto window = std::make_shared<publish_window>();
  window->connection = s->publisher_connection;
  // In-flight bytes stay within half the send queue's bound, so that large messages are not
  // refused (send_queue_full) and taken for a lost link.
  const std::size_t byte_budget = s->options.redis.send_queue_limit / 2;
  while (!s->stopping && s->publisher && s->publisher->is_open() && !window->failure) {
    const bool window_full =
        window->batches >= std::max<std::size_t>(1, s->options.publish_batches_in_flight) ||
        (window->batches > 0 && window->bytes >= byte_budget);
    const bool unsent = !s->queue.empty() && s->queue.back().id > window->sent_through;
    if (window_full || !unsent) {
      co_await s->publisher_wake.async_wait(tuple_awaitable);
      continue;
    }
    publish_batch_entries batch = next_batch(
        *s, window->sent_through, window->batches == 0 ? byte_budget : byte_budget - window->bytes);
    window->sent_through = batch.ids.back();
    ++window->batches;
    window->bytes += batch.bytes;
    asio::co_spawn(s->executor, publish_batch(s, window, std::move(batch)), asio::detached);
  }
  if (window->failure) co_return describe(window->failure);
  co_return std::string{"connection closed"};
}

// Connects a Client (the publisher's redis_client or the redis_subscriber), retrying with
// capped exponential backoff until it succeeds; nullopt once the hub stops, or when
// authentication fails (fatal: retrying cannot help).
template <typename Client>
static asio::awaitable<std::optional<Client>> connect_with_backoff(hub_state s,
                                                                   asio::steady_timer& timer) {
  std::chrono::milliseconds backoff = s->options.initial_backoff;
  while (!s->stopping) {
    auto connected = co_await Client::connect(s->options.redis);
    if (s->stopping) break;
    if (connected) {
      std::optional<Client> client{std::move(*connected.client)};
      co_return client;
    }
    if (connected.error == redis::redis_errc::authentication_failed) {
      s->fatal("authentication failed (" + connected.reason + ")");
      break;
    }
    s->unreachable(connected.reason);
    co_await s->sleep(timer, backoff);
    backoff = s->next_backoff(backoff);
  }
  co_return std::nullopt;
}

static asio::awaitable<void> publisher_loop(hub_state s) {
  while (!s->stopping) {
    std::optional<redis::redis_client> client =
        co_await connect_with_backoff<redis::redis_client>(s, s->publisher_backoff);
    if (!client) break;
    s->publisher.emplace(std::move(*client));
    ++s->publisher_connection;
    std::weak_ptr<redis_hub::state> weak = s;
    s->publisher->on_close([weak](std::error_code) {
      if (auto alive = weak.lock()) alive->publisher_wake.notify_all();
    });
    s->publisher_up = true;
    s->update({});
    if (!s->queue.empty() && s->options.resume_delay.count() > 0) {
      // Give the other instances (and our own subscriber) time to subscribe again.
      const auto until = std::chrono::steady_clock::now() + s->options.resume_delay;
      while (!s->stopping && (!s->subscriber_up || std::chrono::steady_clock::now() < until) &&
             std::chrono::steady_clock::now() < until + s->options.redis.command_timeout) {
        co_await s->sleep(s->publisher_backoff, std::chrono::milliseconds{50});
      }
      if (s->stopping) break;
    }
    const std::string reason = co_await drain_queue(s);
    if (s->stopping) break;
    s->publisher.reset();
    s->publisher_up = false;
    s->update(reason);
    co_await s->sleep(s->publisher_backoff, s->options.initial_backoff);
  }
}

// The subscriber's health check: PING every health_interval; nothing heard for a whole
// interval after a PING, or subscriptions unconfirmed past command_timeout, closes the link.
static void arm_health_check(hub_state s, std::uint64_t generation) {
  if (s->options.health_interval.count() == 0) return;
  s->health_timer.expires_after(s->options.health_interval);
  s->health_timer.async_wait([s, generation](std::error_code error) {
    if (error || s->stopping || generation != s->subscription || !s->subscriber) return;
    const bool confirmations_late =
        !s->unconfirmed.empty() && s->options.redis.command_timeout.count() > 0 &&
        std::chrono::steady_clock::now() - s->subscribed_at > s->options.redis.command_timeout;
    if (!s->heard || confirmations_late) {
      s->health_failure =
          confirmations_late ? "subscriptions not confirmed in time" : "no answer to PING";
      s->subscriber->close();
      return;
    }
    s->heard = false;
    s->subscriber->ping("health");
    arm_health_check(s, generation);
  });
}

// Subscribes every room, reports connected once all are confirmed, and delivers messages
// until the connection ends; returns why it ended.
static asio::awaitable<std::string> serve_subscription(hub_state s) {
  const std::uint64_t generation = ++s->subscription;
  s->unconfirmed.clear();
  s->health_failure.clear();
  std::vector<std::string> channels;
  for (const std::string& room : s->hub->rooms())
    channels.push_back(s->channel_of(room));
  if (!channels.empty()) {
    if (const std::error_code error = s->subscribe(channels)) co_return describe(error);
    s->unconfirmed.insert(channels.begin(), channels.end());
  }
  s->subscribed_at = std::chrono::steady_clock::now();
  s->heard = true;
  arm_health_check(s, generation);
  while (true) {
    if (!s->subscriber_up && s->unconfirmed.empty()) {
      s->subscriber_up = true;
      s->update({});
    }
    const redis::pubsub_result next = co_await s->subscriber->next();
    if (s->stopping) co_return std::string{};
    s->heard = true;
    if (!next) {
      if (!s->health_failure.empty()) co_return s->health_failure;
      if (next.error != redis::redis_errc::error_reply) co_return describe(next.error);
      const std::string& refusal = next.event.payload;
      if (refusal.starts_with("NOAUTH") || refusal.starts_with("WRONGPASS")) {
        // Redis came back with a password this hub does not have: retrying cannot help.
        s->fatal("authentication failed (" + refusal + ")");
      }
      co_return refusal;
    }
    switch (next.event.kind) {
      case redis::pubsub_kind::subscribed:
      case redis::pubsub_kind::unsubscribed:
        s->unconfirmed.erase(next.event.channel);
        break;
      case redis::pubsub_kind::message:
      case redis::pubsub_kind::smessage:
        s->receive(next.event.channel, next.event.payload);
        break;
      default:
        break;
    }
  }
}

static asio::awaitable<void> subscriber_loop(hub_state s) {
  while (!s->stopping) {
    std::optional<redis::redis_subscriber> client =
        co_await connect_with_backoff<redis::redis_subscriber>(s, s->subscriber_backoff);
    if (!client) break;
    s->subscriber.emplace(std::move(*client));
    const std::string reason = co_await serve_subscription(s);
    if (s->stopping) break;
    s->subscriber.reset();
    s->subscriber_up = false;
    s->update(reason);
    co_await s->sleep(s->subscriber_backoff, s->options.initial_backoff);
  }
}

redis_hub::redis_hub(asio::any_io_executor executor, redis_hub_options options)
    : state_{std::make_shared<state>(std::move(executor), std::move(options), this)} {}

redis_hub::~redis_hub() {
  stop();
  state_->hub = nullptr;
}

void redis_hub::start() {
  if (state_->started || state_->stopping) return;
  state_->started = true;
  state_->begin_outage();
  asio::co_spawn(state_->executor, publisher_loop(state_), asio::detached);
  asio::co_spawn(state_->executor, subscriber_loop(state_), asio::detached);
}

void redis_hub::stop() {
  if (state_->stopping) return;
  state_->shut_down();
  state_->end_outage();
}

bool redis_hub::connected() const noexcept {
  return state_->reported_connected;
}

const std::string& redis_hub::instance_id() const noexcept {
  return state_->instance;
}

void redis_hub::room_opened(const std::string& room) {
  if (!state_->subscriber || !state_->subscriber->is_open()) return;
  const std::string channel = state_->channel_of(room);
  if (!state_->subscribe({channel}) && !state_->subscriber_up) state_->unconfirmed.insert(channel);
}

void redis_hub::room_closed(const std::string& room) {
  if (!state_->subscriber || !state_->subscriber->is_open()) return;
  const std::string channel = state_->channel_of(room);
  state_->unconfirmed.erase(channel);
  state_->unsubscribe({channel});
}

void redis_hub::forward(const std::string& room, std::string_view message) {
  if (state_->stopping) return;
  state_->enqueue(room, message);
}

}  // namespace coronet::broadcast
