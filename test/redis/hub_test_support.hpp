// Helpers of the broadcast hub tests: a member that keeps what it receives, a hub's status
// reports, hub options for a test Redis, polling with a bound, numbered lines, two hubs'
// members exchanging lines in one room, and hubs resubscribing after Redis killed them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <catch2/catch.hpp>
#include <coronet/broadcast/backplane_status.hpp>
#include <coronet/broadcast/broadcast_hub.hpp>
#include <coronet/broadcast/redis_hub.hpp>

#include "../support/async_test.hpp"
#include "redis_server_process.hpp"

namespace coronet_test {

using coronet::broadcast::backplane_state;
using coronet::broadcast::backplane_status;
using coronet::broadcast::redis_hub_options;

// A member that keeps what it receives.
struct inbox {
  std::vector<std::string> lines;
  coronet::broadcast::member_delivery delivery() {
    return [this](std::string_view line) { lines.emplace_back(line); };
  }
};

// Status reports of one hub (written on its executor, read by the test).
struct status_log {
  std::vector<backplane_status> reports;
  std::chrono::steady_clock::time_point last_connected{};

  std::function<void(const backplane_status&)> callback() {
    return [this](const backplane_status& status) {
      reports.push_back(status);
      if (status.state == backplane_state::connected)
        last_connected = std::chrono::steady_clock::now();
    };
  }
  int count(backplane_state state) const {
    int n = 0;
    for (const auto& report : reports)
      n += report.state == state ? 1 : 0;
    return n;
  }
};

// Hub options for the test Redis on 127.0.0.1:port, short timeouts, reporting to `log`.
inline redis_hub_options hub_options(std::uint16_t port, status_log& log) {
  redis_hub_options options;
  options.redis.address.host = "127.0.0.1";
  options.redis.address.port = port;
  options.redis.connect_timeout = std::chrono::seconds{1};
  options.redis.command_timeout = std::chrono::seconds{2};
  options.on_status = log.callback();
  return options;
}

// Polls `condition` every 10 ms for at most `limit`; returns whether it became true.
inline asio::awaitable<bool> eventually(std::function<bool()> condition,
                                        std::chrono::milliseconds limit = std::chrono::seconds{5}) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) co_return false;
    co_await sleep_for(std::chrono::milliseconds{10});
  }
  co_return true;
}

// prefix + from, ..., prefix + to.
inline std::vector<std::string> numbered(const std::string& prefix, int from, int to) {
  std::vector<std::string> lines;
  for (int i = from; i <= to; ++i)
    lines.push_back(prefix + std::to_string(i));
  return lines;
}

// The lines of `all` that start with `prefix`, in order.
inline std::vector<std::string> from_sender(const std::vector<std::string>& all,
                                            const std::string& prefix) {
  std::vector<std::string> picked;
  for (const std::string& line : all)
    if (line.starts_with(prefix)) picked.push_back(line);
  return picked;
}

// Two hubs' members in room "lobby" (a1 and b1 send, a2 and b2 only listen) and one member of
// room "other" on hub b. exchange() publishes `count` numbered lines from each sender and checks
// what a hub user relies on: every other member gets each line exactly once, in each sender's
// order, the sender never its own, and the other room nothing.
struct two_hub_room {
  inbox a1, a2, b1, b2, other_room;
  coronet::broadcast::member_id sender_a = 0, sender_b = 0, listener_b = 0;

  void join(coronet::broadcast::broadcast_hub& a, coronet::broadcast::broadcast_hub& b) {
    sender_a = a.join("lobby", a1.delivery());
    a.join("lobby", a2.delivery());
    sender_b = b.join("lobby", b1.delivery());
    listener_b = b.join("lobby", b2.delivery());
    b.join("other", other_room.delivery());
  }

  asio::awaitable<void> exchange(coronet::broadcast::broadcast_hub& a,
                                 coronet::broadcast::broadcast_hub& b, int count) {
    const auto lines_a = numbered("from a ", 1, count);
    const auto lines_b = numbered("from b ", 1, count);
    for (std::size_t i = 0; i < lines_a.size(); ++i) {
      a.publish("lobby", lines_a[i], sender_a);
      b.publish("lobby", lines_b[i], sender_b);
      if (i % 50 == 0) co_await sleep_for(std::chrono::milliseconds{1});
    }
    const std::size_t one = lines_a.size(), both = 2 * one;
    const bool all = co_await eventually([&] {
      return a1.lines.size() >= one && a2.lines.size() >= both && b1.lines.size() >= one &&
             b2.lines.size() >= both;
    });
    CHECK(all);
    co_await sleep_for(std::chrono::milliseconds{100});  // Anything extra would arrive by now.
    CHECK(a1.lines == lines_b);
    CHECK(b1.lines == lines_a);
    CHECK(a2.lines.size() == both);
    CHECK(from_sender(a2.lines, "from a") == lines_a);
    CHECK(from_sender(a2.lines, "from b") == lines_b);
    CHECK(b2.lines.size() == both);
    CHECK(from_sender(b2.lines, "from a") == lines_a);
    CHECK(from_sender(b2.lines, "from b") == lines_b);
    CHECK(other_room.lines.empty());
  }
};

// The body of the "resubscribes by itself after CLIENT KILL TYPE pubsub" tests: two hubs (not
// started) on `server`, one member each in "lobby". Redis kills both subscribers; both
// hubs report the loss, reconnect and resubscribe without help, `then_check` runs (with both
// connected again), and b's member gets a's next line.
inline asio::awaitable<void> resubscribes_after_client_kill(
    const redis_process& server, coronet::broadcast::redis_hub& a, status_log& log_a,
    coronet::broadcast::redis_hub& b, status_log& log_b, std::function<void()> then_check) {
  inbox a1, b1;
  const auto sender = a.join("lobby", a1.delivery());
  b.join("lobby", b1.delivery());
  a.start();
  b.start();
  REQUIRE(co_await eventually([&] { return a.connected() && b.connected(); }));

  const coronet::resp_value killed = server.command({"CLIENT", "KILL", "TYPE", "pubsub"});
  CHECK(killed == coronet::resp_value::number(2));
  REQUIRE(co_await eventually([&] {
    return log_a.count(backplane_state::lost) == 1 && log_b.count(backplane_state::lost) == 1 &&
           a.connected() && b.connected();
  }));
  then_check();
  a.publish("lobby", "after the kill", sender);
  REQUIRE(co_await eventually([&] { return b1.lines.size() == 1; }));
  CHECK(b1.lines.front() == "after the kill");
  CHECK(b.counters().reconnects == 1);
}

}  // namespace coronet_test
