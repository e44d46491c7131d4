// Redis hubs with sharded pub/sub (SSUBSCRIBE and SPUBLISH) and over a Redis Unix socket, each
// on a redis-server the test starts: delivery exactly once and in order, and subscriptions
// restored after the subscriber is killed or Redis restarts.
#include <asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <coronet/broadcast/redis_hub.hpp>
#include <coronet/codec/resp_value.hpp>
#include <csignal>
#include <string>
#include <vector>

#include "../support/async_test.hpp"
#include "hub_test_support.hpp"
#include "redis_server_process.hpp"

using coronet::broadcast::backplane_state;
using coronet::broadcast::redis_hub;
using coronet::broadcast::redis_hub_options;
using coronet_test::eventually;
using coronet_test::hub_options;
using coronet_test::inbox;
using coronet_test::redis_process;
using coronet_test::run_async;
using coronet_test::status_log;
using coronet_test::two_hub_room;
using namespace std::chrono_literals;

namespace {

redis_hub_options sharded_options(std::uint16_t port, status_log& log) {
  redis_hub_options options = hub_options(port, log);
  options.sharded = true;
  return options;
}

// The subscribers Redis counts on `channel`: PUBSUB SHARDNUMSUB (sharded) or NUMSUB.
std::int64_t subscribers(const redis_process& server, const std::string& verb,
                         const std::string& channel) {
  const coronet::resp_value reply = server.command({"PUBSUB", verb, channel});
  if (reply.elements.size() != 2) return -1;
  return reply.elements[1].integer;
}

}  // namespace

TEST_CASE(
    "two sharded redis hubs deliver to each other exactly once in order and not to the sender") {
  redis_process server;
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        status_log log_a, log_b;
        redis_hub hub_a{io.get_executor(), sharded_options(server.port(), log_a)};
        redis_hub hub_b{io.get_executor(), sharded_options(server.port(), log_b)};
        two_hub_room room;
        room.join(hub_a, hub_b);
        hub_a.start();
        hub_b.start();
        REQUIRE(co_await eventually([&] { return hub_a.connected() && hub_b.connected(); }));
        // Shard channels, not plain ones.
        CHECK(subscribers(server, "SHARDNUMSUB", "coronet:room:lobby") == 2);
        CHECK(subscribers(server, "NUMSUB", "coronet:room:lobby") == 0);
        co_await room.exchange(hub_a, hub_b, 200);
        CHECK(hub_b.counters().received == 200);
        CHECK(hub_b.counters().duplicates == 0);
        CHECK(hub_b.counters().gaps == 0);

        // The room's last member leaves: SUNSUBSCRIBE.
        hub_b.leave(room.sender_b);
        hub_b.leave(room.listener_b);
        CHECK(co_await eventually(
            [&] { return subscribers(server, "SHARDNUMSUB", "coronet:room:lobby") == 1; }));
      },
      30s);
}

TEST_CASE("sharded redis hub resubscribes by itself after CLIENT KILL TYPE pubsub") {
  redis_process server;
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        status_log log_a, log_b;
        redis_hub hub_a{io.get_executor(), sharded_options(server.port(), log_a)};
        redis_hub hub_b{io.get_executor(), sharded_options(server.port(), log_b)};
        co_await coronet_test::resubscribes_after_client_kill(
            server, hub_a, log_a, hub_b, log_b, [&] {
              // Restored as shard subscriptions, not plain ones.
              CHECK(subscribers(server, "SHARDNUMSUB", "coronet:room:lobby") == 2);
            });
      },
      30s);
}

TEST_CASE("redis hubs on a Unix-socket Redis deliver to each other across a Redis restart") {
  coronet_test::temp_directory directory;
  const std::string socket = directory.file("redis.sock");
  redis_process server{{.unix_socket = socket}};
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        status_log log_a, log_b;
        redis_hub_options options_a = hub_options(0, log_a);
        options_a.redis.address.unix_path = socket;
        options_a.initial_backoff = 50ms;
        options_a.max_backoff = 200ms;
        redis_hub_options options_b = options_a;
        options_b.on_status = log_b.callback();
        redis_hub hub_a{io.get_executor(), options_a};
        redis_hub hub_b{io.get_executor(), options_b};
        inbox a1, b1;
        const auto sender_a = hub_a.join("lobby", a1.delivery());
        const auto sender_b = hub_b.join("lobby", b1.delivery());
        hub_a.start();
        hub_b.start();
        REQUIRE(co_await eventually([&] { return hub_a.connected() && hub_b.connected(); }));
        CHECK(log_a.reports.back().line() == "backplane: connected to unix:" + socket);
        hub_a.publish("lobby", "from a", sender_a);
        hub_b.publish("lobby", "from b", sender_b);
        REQUIRE(co_await eventually([&] { return a1.lines.size() == 1 && b1.lines.size() == 1; }));
        CHECK(a1.lines == std::vector<std::string>{"from b"});
        CHECK(b1.lines == std::vector<std::string>{"from a"});

        server.kill(SIGKILL);
        REQUIRE(co_await eventually([&] { return log_a.count(backplane_state::lost) == 1; }));
        CHECK(log_a.reports.back().line().starts_with("backplane: lost unix:" + socket + " ("));
        hub_a.publish("lobby", "queued", sender_a);
        server.start();
        REQUIRE(co_await eventually([&] { return hub_a.connected() && hub_b.connected(); }));
        REQUIRE(co_await eventually([&] { return b1.lines.size() == 2; }));
        CHECK(b1.lines.back() == "queued");
        CHECK(hub_a.counters().reconnects == 1);
      },
      30s);
}
