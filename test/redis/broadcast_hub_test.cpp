// Broadcast hubs: the in-process hub, and Redis hubs on a redis-server the test starts — two
// instances delivering to each other, a SIGKILLed and restarted Redis, CLIENT KILL, a
// subscriber Redis drops for its output buffer, Redis absent at start, a wrong password.
#include "coronet/broadcast/redis_hub.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <coronet/broadcast/broadcast_hub.hpp>
#include <coronet/redis/redis_client.hpp>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "../support/async_test.hpp"
#include "hub_test_support.hpp"
#include "redis_server_process.hpp"

using coronet::broadcast::backplane_state;
using coronet::broadcast::backplane_status;
using coronet::broadcast::local_hub;
using coronet::broadcast::redis_hub;
using coronet::broadcast::redis_hub_options;
using coronet_test::eventually;
using coronet_test::hub_options;
using coronet_test::inbox;
using coronet_test::numbered;
using coronet_test::redis_process;
using coronet_test::run_async;
using coronet_test::status_log;
using coronet_test::two_hub_room;
using namespace std::chrono_literals;

TEST_CASE("local hub delivers to every member of the room but the sender and in order") {
  local_hub hub;
  inbox alice, bob, carol, elsewhere;
  const auto a = hub.join("lobby", alice.delivery());
  hub.join("lobby", bob.delivery());
  const auto c = hub.join("lobby", carol.delivery());
  hub.join("other", elsewhere.delivery());
  for (const std::string& line : numbered("a", 1, 3))
    hub.publish("lobby", line, a);
  hub.leave(c);
  hub.publish("lobby", "after carol left", a);
  CHECK(alice.lines.empty());
  CHECK(bob.lines == std::vector<std::string>{"a1", "a2", "a3", "after carol left"});
  CHECK(carol.lines == std::vector<std::string>{"a1", "a2", "a3"});
  CHECK(elsewhere.lines.empty());
  CHECK(hub.members("lobby") == 2);
  CHECK(hub.counters().published == 4);
  CHECK(hub.counters().delivered == 7);
}

TEST_CASE("local hub lets a member leave from inside a delivery") {
  local_hub hub;
  inbox bob;
  coronet::broadcast::member_id quitter = 0;
  int quitter_got = 0;
  quitter = hub.join("lobby", [&](std::string_view) {
    ++quitter_got;
    hub.leave(quitter);
  });
  hub.join("lobby", bob.delivery());
  hub.publish("lobby", "one");
  hub.publish("lobby", "two");
  CHECK(quitter_got == 1);
  CHECK(bob.lines == std::vector<std::string>{"one", "two"});
  CHECK(hub.members("lobby") == 1);
}

TEST_CASE(
    "two redis hubs deliver to each other's members exactly once in order and not to the sender") {
  redis_process server;
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        status_log log_a, log_b;
        redis_hub hub_a{io.get_executor(), hub_options(server.port(), log_a)};
        redis_hub hub_b{io.get_executor(), hub_options(server.port(), log_b)};
        two_hub_room room;
        room.join(hub_a, hub_b);
        hub_a.start();
        hub_b.start();
        const bool up = co_await eventually([&] { return hub_a.connected() && hub_b.connected(); });
        REQUIRE(up);
        CHECK(log_a.reports.back().line() ==
              "backplane: connected to 127.0.0.1:" + std::to_string(server.port()));
        co_await room.exchange(hub_a, hub_b, 300);
        const auto stats = hub_b.counters();
        CHECK(stats.received == 300);
        CHECK(stats.published == 300);
        CHECK(stats.duplicates == 0);
        CHECK(stats.gaps == 0);
        CHECK(stats.dropped == 0);
      },
      30s);
}

TEST_CASE(
    "redis hub keeps local delivery through a Redis SIGKILL and publishes its queue in order once "
    "Redis is back") {
  redis_process server;
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        status_log log_a, log_b;
        redis_hub_options options_a = hub_options(server.port(), log_a);
        // A retries slowly and B quickly, so that B is subscribed again before A publishes
        // its queue: pub/sub keeps nothing for an instance still reconnecting.
        options_a.initial_backoff = 1500ms;
        options_a.max_backoff = 2s;
        options_a.max_queued_messages = 40;
        redis_hub_options options_b = hub_options(server.port(), log_b);
        options_b.initial_backoff = 50ms;
        options_b.max_backoff = 200ms;
        redis_hub hub_a{io.get_executor(), options_a};
        redis_hub hub_b{io.get_executor(), options_b};
        inbox a1, a2, b1;
        const auto sender = hub_a.join("lobby", a1.delivery());
        hub_a.join("lobby", a2.delivery());
        hub_b.join("lobby", b1.delivery());
        hub_a.start();
        hub_b.start();
        REQUIRE(co_await eventually([&] { return hub_a.connected() && hub_b.connected(); }));
        hub_a.publish("lobby", "before", sender);
        REQUIRE(co_await eventually([&] { return b1.lines.size() == 1; }));

        server.kill(SIGKILL);
        REQUIRE(co_await eventually([&] { return log_a.count(backplane_state::lost) == 1; }));
        CHECK(log_a.reports.back().line().starts_with(
            "backplane: lost 127.0.0.1:" + std::to_string(server.port()) + " ("));
        const auto during = numbered("during ", 1, 50);
        for (const std::string& line : during)
          hub_a.publish("lobby", line, sender);
        // Local delivery never stops.
        CHECK(a2.lines.size() == 51);
        CHECK(hub_a.counters().queue_depth == 40);
        CHECK(hub_a.counters().dropped == 10);
        co_await coronet_test::sleep_for(300ms);

        server.start();
        const auto back = std::chrono::steady_clock::now();
        const bool reconnected =
            co_await eventually([&] { return hub_a.connected() && hub_b.connected(); }, 5s);
        REQUIRE(reconnected);
        CHECK(log_a.last_connected - back <= 3s);
        CHECK(log_b.last_connected - back <= 3s);
        REQUIRE(co_await eventually([&] { return b1.lines.size() == 41; }));
        std::vector<std::string> expected{"before"};
        const auto kept = numbered("during ", 11, 50);
        expected.insert(expected.end(), kept.begin(), kept.end());
        CHECK(b1.lines == expected);
        // Redis may relay a batch before its PUBLISH replies reach the sender.
        const bool drained = co_await eventually([&] { return hub_a.counters().queue_depth == 0; });
        CHECK(drained);
        CHECK(hub_a.counters().reconnects == 1);
        CHECK(hub_b.counters().gaps == 10);
        CHECK(hub_a.counters().outage_ms > 300);
      },
      40s);
}

TEST_CASE("redis hub resubscribes by itself after CLIENT KILL TYPE pubsub") {
  redis_process server;
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        status_log log_a, log_b;
        redis_hub hub_a{io.get_executor(), hub_options(server.port(), log_a)};
        redis_hub hub_b{io.get_executor(), hub_options(server.port(), log_b)};
        co_await coronet_test::resubscribes_after_client_kill(server, hub_a, log_a, hub_b, log_b,
                                                              [] {});
      },
      30s);
}

TEST_CASE("redis hub whose subscriber Redis drops for its output buffer reconnects and counts it") {
  redis_process server;
  server.command({"CONFIG", "SET", "client-output-buffer-limit", "pubsub 64kb 32kb 1"});
  // The slow instance runs on a thread of its own: its member blocks that thread, as a
  // consumer far too slow for its traffic would.
  asio::io_context slow_io;
  status_log slow_log;
  std::atomic<bool> slow_connected{false};
  std::atomic<int> slow_lost{0};
  redis_hub_options slow_options = hub_options(server.port(), slow_log);
  slow_options.on_status = [&](const backplane_status& status) {
    slow_connected = status.state == backplane_state::connected;
    if (status.state == backplane_state::lost) ++slow_lost;
  };
  slow_options.health_interval = 0ms;  // Blocked on purpose: not a dead Redis.
  redis_hub slow_hub{slow_io.get_executor(), slow_options};
  std::atomic<int> slow_received{0};
  slow_hub.join("lobby", [&](std::string_view) {
    if (slow_received++ == 0) std::this_thread::sleep_for(1500ms);
  });
  slow_hub.start();
  auto guard = asio::make_work_guard(slow_io);
  std::thread slow_thread{[&] { slow_io.run_for(40s); }};

  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        REQUIRE(co_await eventually([&] { return slow_connected.load(); }));
        status_log log;
        redis_hub fast{io.get_executor(), hub_options(server.port(), log)};
        const auto sender = fast.join("lobby", [](std::string_view) {});
        fast.start();
        REQUIRE(co_await eventually([&] { return fast.connected(); }));
        const std::string big(64 * 1024, 'x');
        for (int i = 0; i < 400; ++i) {
          fast.publish("lobby", big, sender);
          if (i % 20 == 0) co_await coronet_test::sleep_for(1ms);
        }
        const bool dropped_and_back = co_await eventually(
            [&] { return slow_lost.load() >= 1 && slow_connected.load(); }, 15s);
        CHECK(dropped_and_back);
        CHECK(slow_hub.counters().reconnects >= 1);
        // The next message after the reconnection shows what was lost meanwhile as a gap.
        const int before = slow_received.load();
        fast.publish("lobby", "after", sender);
        CHECK(co_await eventually([&] { return slow_received.load() > before; }));
        CHECK(slow_hub.counters().gaps > 0);
      },
      40s);
  slow_io.stop();
  slow_thread.join();
}

TEST_CASE("redis hub serves local members while Redis is absent at start and keeps trying") {
  const std::uint16_t port = coronet_test::free_tcp_port();
  std::optional<redis_process> server;
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        status_log log, other_log;
        redis_hub_options options = hub_options(port, log);
        options.max_backoff = 500ms;
        redis_hub hub{io.get_executor(), options};
        redis_hub_options other_options = hub_options(port, other_log);
        other_options.max_backoff = 500ms;
        redis_hub other{io.get_executor(), other_options};
        inbox a1, a2, b1;
        const auto sender = hub.join("lobby", a1.delivery());
        hub.join("lobby", a2.delivery());
        other.join("lobby", b1.delivery());
        hub.start();
        other.start();
        REQUIRE(co_await eventually([&] { return !log.reports.empty(); }));
        CHECK(log.reports.front().state == backplane_state::unreachable);
        CHECK(log.reports.front().line().starts_with("backplane: cannot reach 127.0.0.1:" +
                                                     std::to_string(port)));
        hub.publish("lobby", "before redis", sender);
        CHECK(a2.lines == std::vector<std::string>{"before redis"});
        co_await coronet_test::sleep_for(1200ms);
        CHECK_FALSE(hub.connected());
        CHECK(log.reports.size() == 1);  // Said once, not once per try.

        server.emplace(coronet_test::redis_process_options{.port = port});
        const auto back = std::chrono::steady_clock::now();
        REQUIRE(co_await eventually([&] { return hub.connected() && other.connected(); }, 3s));
        CHECK(log.last_connected - back <= 3s);
        hub.publish("lobby", "with redis", sender);
        // The line queued before Redis was there waited for the other instance to subscribe.
        REQUIRE(co_await eventually([&] { return b1.lines.size() == 2; }));
        CHECK(b1.lines == std::vector<std::string>{"before redis", "with redis"});
        CHECK(hub.counters().reconnects == 0);
        CHECK(hub.counters().outage_ms >= 1000);
      },
      30s);
}

TEST_CASE("redis hub reports a wrong password as a fatal authentication error") {
  redis_process server{{.password = "right"}};
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    status_log log;
    redis_hub_options options = hub_options(server.port(), log);
    options.redis.password = "wrong";
    redis_hub hub{io.get_executor(), options};
    hub.start();
    REQUIRE(co_await eventually([&] { return log.count(backplane_state::failed) == 1; }));
    CHECK(log.reports.back().line().find("authentication failed") != std::string::npos);
    CHECK(log.reports.back().line().starts_with("backplane: error: "));
    co_await coronet_test::sleep_for(300ms);
    CHECK(log.reports.size() == 1);
  });
}

TEST_CASE("redis hub without rooms stays connected through its health checks") {
  redis_process server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    status_log log;
    redis_hub_options options = hub_options(server.port(), log);
    options.health_interval = 100ms;
    redis_hub hub{io.get_executor(), options};
    hub.start();
    REQUIRE(co_await eventually([&] { return hub.connected(); }));
    co_await coronet_test::sleep_for(800ms);
    CHECK(hub.connected());
    CHECK(log.reports.size() == 1);
    // A room opened now is subscribed on the live connection.
    status_log other_log;
    redis_hub other{io.get_executor(), hub_options(server.port(), other_log)};
    inbox member;
    hub.join("late", member.delivery());
    const auto sender = other.join("late", [](std::string_view) {});
    other.start();
    REQUIRE(co_await eventually([&] { return other.connected(); }));
    co_await coronet_test::sleep_for(200ms);
    other.publish("late", "to the late room", sender);
    CHECK(co_await eventually([&] { return member.lines.size() == 1; }));
  });
}

TEST_CASE("redis hub treats a Redis that now wants a password as a fatal authentication error") {
  const std::uint16_t port = coronet_test::free_tcp_port();
  std::optional<redis_process> server{std::in_place,
                                      coronet_test::redis_process_options{.port = port}};
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    status_log log;
    redis_hub_options options = hub_options(port, log);
    options.health_interval = 100ms;
    options.max_backoff = 200ms;
    redis_hub hub{io.get_executor(), options};
    hub.start();
    REQUIRE(co_await eventually([&] { return hub.connected(); }));
    server.reset();
    server.emplace(coronet_test::redis_process_options{.port = port, .password = "new"});
    REQUIRE(co_await eventually([&] { return log.count(backplane_state::failed) == 1; }));
    CHECK(log.reports.back().line().find("authentication failed (NOAUTH") != std::string::npos);
  });
}
