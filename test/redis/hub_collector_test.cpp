// A broadcast hub's metrics: the collector's exposition of a hub snapshot, a local hub scraped
// per room, and two Redis hubs whose exact message counts a scrape from another thread shows.
#include "coronet/metrics/hub_collector.hpp"

#include <asio/io_context.hpp>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <coronet/broadcast/redis_hub.hpp>
#include <coronet/metrics/metrics_registry.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/async_test.hpp"
#include "hub_test_support.hpp"
#include "redis_server_process.hpp"

using coronet::broadcast::local_hub;
using coronet::broadcast::redis_hub;
using coronet::metrics::hub_metrics;
using coronet::metrics::metrics_registry;
using coronet_test::eventually;
using coronet_test::hub_options;
using coronet_test::inbox;
using coronet_test::redis_process;
using coronet_test::run_async;
using coronet_test::status_log;
using namespace std::chrono_literals;

namespace {

// Whether the exposition `text` has exactly this line.
bool has_line(const std::string& text, const std::string& line) {
  std::istringstream lines{text};
  for (std::string each; std::getline(lines, each);)
    if (each == line) return true;
  return false;
}

}  // namespace

TEST_CASE("hub collector writes each hub metric with its hub and room labels and help") {
  hub_metrics snapshot;
  snapshot.hub = "chat";
  snapshot.has_backplane = true;
  snapshot.totals.malformed = 1;
  snapshot.totals.reconnects = 2;
  snapshot.totals.outage_ms = 1500;
  snapshot.totals.queue_depth = 3;
  snapshot.totals.queue_bytes = 120;
  snapshot.totals.connected = true;
  snapshot.rooms.push_back({.room = "lobby",
                            .published = 5,
                            .received = 7,
                            .delivered = 9,
                            .dropped = 1,
                            .gaps = 2,
                            .duplicates = 4});
  snapshot.rooms.push_back({.room = "quiet", .published = 1});
  metrics_registry registry;
  registry.add_collector([&](std::vector<coronet::metrics::metric_family>& out) {
    coronet::metrics::append_families(snapshot, out);
  });
  const std::string expected =
      "# HELP coronet_hub_backplane_connected 1 while the backplane is connected (publisher and "
      "subscriber, every room subscribed), else 0.\n"
      "# TYPE coronet_hub_backplane_connected gauge\n"
      "coronet_hub_backplane_connected{hub=\"chat\"} 1\n"
      "# HELP coronet_hub_backplane_outage_seconds_total Time without a connected backplane "
      "since the hub started, the ongoing outage included.\n"
      "# TYPE coronet_hub_backplane_outage_seconds_total counter\n"
      "coronet_hub_backplane_outage_seconds_total{hub=\"chat\"} 1.5\n"
      "# HELP coronet_hub_backplane_reconnects_total Times the backplane was connected again "
      "after being lost.\n"
      "# TYPE coronet_hub_backplane_reconnects_total counter\n"
      "coronet_hub_backplane_reconnects_total{hub=\"chat\"} 2\n"
      "# HELP coronet_hub_messages_delivered_total Messages handed to this instance's members "
      "of the room (once per member), from this instance and from others.\n"
      "# TYPE coronet_hub_messages_delivered_total counter\n"
      "coronet_hub_messages_delivered_total{hub=\"chat\",room=\"lobby\"} 9\n"
      "coronet_hub_messages_delivered_total{hub=\"chat\",room=\"quiet\"} 0\n"
      "# HELP coronet_hub_messages_dropped_total Publications of this instance never sent to "
      "the backplane: the publish queue overflowed while Redis was away (oldest first), or "
      "Redis refused them.\n"
      "# TYPE coronet_hub_messages_dropped_total counter\n"
      "coronet_hub_messages_dropped_total{hub=\"chat\",room=\"lobby\"} 1\n"
      "coronet_hub_messages_dropped_total{hub=\"chat\",room=\"quiet\"} 0\n"
      "# HELP coronet_hub_messages_duplicate_total Messages of other instances received a "
      "second time and skipped.\n"
      "# TYPE coronet_hub_messages_duplicate_total counter\n"
      "coronet_hub_messages_duplicate_total{hub=\"chat\",room=\"lobby\"} 4\n"
      "coronet_hub_messages_duplicate_total{hub=\"chat\",room=\"quiet\"} 0\n"
      "# HELP coronet_hub_messages_malformed_total Backplane messages without a valid envelope "
      "(skipped).\n"
      "# TYPE coronet_hub_messages_malformed_total counter\n"
      "coronet_hub_messages_malformed_total{hub=\"chat\"} 1\n"
      "# HELP coronet_hub_messages_missed_total Messages of other instances known lost (gaps in "
      "their sequence numbers), counted when a later message of the same instance in the room "
      "arrives.\n"
      "# TYPE coronet_hub_messages_missed_total counter\n"
      "coronet_hub_messages_missed_total{hub=\"chat\",room=\"lobby\"} 2\n"
      "coronet_hub_messages_missed_total{hub=\"chat\",room=\"quiet\"} 0\n"
      "# HELP coronet_hub_messages_published_total Messages published to the room by this "
      "instance's members (once per message).\n"
      "# TYPE coronet_hub_messages_published_total counter\n"
      "coronet_hub_messages_published_total{hub=\"chat\",room=\"lobby\"} 5\n"
      "coronet_hub_messages_published_total{hub=\"chat\",room=\"quiet\"} 1\n"
      "# HELP coronet_hub_messages_received_total Messages of other instances received from the "
      "backplane for the room (duplicates not included).\n"
      "# TYPE coronet_hub_messages_received_total counter\n"
      "coronet_hub_messages_received_total{hub=\"chat\",room=\"lobby\"} 7\n"
      "coronet_hub_messages_received_total{hub=\"chat\",room=\"quiet\"} 0\n"
      "# HELP coronet_hub_publish_queue_bytes Size of the publications waiting, envelopes "
      "included, in bytes.\n"
      "# TYPE coronet_hub_publish_queue_bytes gauge\n"
      "coronet_hub_publish_queue_bytes{hub=\"chat\"} 120\n"
      "# HELP coronet_hub_publish_queue_messages Publications waiting to be sent to the "
      "backplane or confirmed by it now.\n"
      "# TYPE coronet_hub_publish_queue_messages gauge\n"
      "coronet_hub_publish_queue_messages{hub=\"chat\"} 3\n";
  CHECK(registry.write_text() == expected);
}

TEST_CASE("local hub in a metrics registry is scraped per room without backplane metrics") {
  metrics_registry registry;
  {
    local_hub hub;
    coronet::metrics::register_hub(registry, hub, "local");
    inbox bob, carol, dave;
    const auto alice = hub.join("lobby", [](std::string_view) {});
    hub.join("lobby", bob.delivery());
    hub.join("lobby", carol.delivery());
    const auto erin = hub.join("side", [](std::string_view) {});
    hub.publish("lobby", "one", alice);
    hub.publish("lobby", "two", alice);
    hub.publish("side", "alone", erin);
  }
  // The registration outlives the hub: it keeps the counters, which stop moving.
  const std::string text = registry.write_text();
  CHECK(has_line(text, "coronet_hub_messages_published_total{hub=\"local\",room=\"lobby\"} 2"));
  CHECK(has_line(text, "coronet_hub_messages_delivered_total{hub=\"local\",room=\"lobby\"} 4"));
  CHECK(has_line(text, "coronet_hub_messages_published_total{hub=\"local\",room=\"side\"} 1"));
  CHECK(has_line(text, "coronet_hub_messages_delivered_total{hub=\"local\",room=\"side\"} 0"));
  CHECK(text.find("coronet_hub_backplane") == std::string::npos);
  CHECK(text.find("coronet_hub_messages_received_total") == std::string::npos);
}

TEST_CASE("hub counts rooms past max_counted_rooms together under one label") {
  local_hub hub;
  for (std::size_t i = 0; i < coronet::broadcast::hub_counters::max_counted_rooms + 5; ++i)
    hub.publish("room " + std::to_string(i), "hello");
  const auto rooms = hub.room_counters();
  REQUIRE(rooms.size() == coronet::broadcast::hub_counters::max_counted_rooms + 1);
  std::uint64_t others = 0;
  for (const auto& room : rooms)
    if (room.room == coronet::broadcast::hub_counters::other_rooms) others = room.published;
  CHECK(others == 5);
  CHECK(hub.counters().published == coronet::broadcast::hub_counters::max_counted_rooms + 5);
}

TEST_CASE("two redis hubs show exact published received and delivered counts to a scrape") {
  redis_process server;
  metrics_registry registry;
  std::atomic<bool> scraping{true};
  std::atomic<int> scrapes{0};
  // Scrapes from a thread of its own while the hubs run, as a metrics endpoint on another
  // io_context would (bounded in count and by the flag).
  std::thread scraper{[&] {
    for (int i = 0; i < 100'000 && scraping.load(); ++i) {
      (void)registry.write_text();
      ++scrapes;
      std::this_thread::sleep_for(1ms);
    }
  }};
  std::string text;
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        status_log log_a, log_b;
        redis_hub hub_a{io.get_executor(), hub_options(server.port(), log_a)};
        redis_hub hub_b{io.get_executor(), hub_options(server.port(), log_b)};
        coronet::metrics::register_hub(registry, hub_a, "a");
        coronet::metrics::register_hub(registry, hub_b, "b");
        inbox a1, a2, b1, b2, side;
        const auto sender_a = hub_a.join("lobby", a1.delivery());
        hub_a.join("lobby", a2.delivery());
        const auto sender_b = hub_b.join("lobby", b1.delivery());
        hub_b.join("lobby", b2.delivery());
        hub_b.join("side", side.delivery());
        hub_a.start();
        hub_b.start();
        REQUIRE(co_await eventually([&] { return hub_a.connected() && hub_b.connected(); }));
        for (int i = 0; i < 20; ++i)
          hub_a.publish("lobby", "a" + std::to_string(i), sender_a);
        for (int i = 0; i < 10; ++i)
          hub_b.publish("lobby", "b" + std::to_string(i), sender_b);
        REQUIRE(co_await eventually([&] {
          return a1.lines.size() == 10 && a2.lines.size() == 30 && b1.lines.size() == 20 &&
                 b2.lines.size() == 30 && hub_a.counters().queue_depth == 0 &&
                 hub_b.counters().queue_depth == 0;
        }));
        text = registry.write_text();
      },
      20s);
  scraping = false;
  scraper.join();
  CHECK(scrapes.load() > 0);
  // A: 20 published; 10 received; delivered 20 (a's to a2) + 2 x 10 (b's to a1 and a2).
  CHECK(has_line(text, "coronet_hub_messages_published_total{hub=\"a\",room=\"lobby\"} 20"));
  CHECK(has_line(text, "coronet_hub_messages_received_total{hub=\"a\",room=\"lobby\"} 10"));
  CHECK(has_line(text, "coronet_hub_messages_delivered_total{hub=\"a\",room=\"lobby\"} 40"));
  // B: 10 published; 20 received; delivered 10 (b's to b2) + 2 x 20 (a's to b1 and b2).
  CHECK(has_line(text, "coronet_hub_messages_published_total{hub=\"b\",room=\"lobby\"} 10"));
  CHECK(has_line(text, "coronet_hub_messages_received_total{hub=\"b\",room=\"lobby\"} 20"));
  CHECK(has_line(text, "coronet_hub_messages_delivered_total{hub=\"b\",room=\"lobby\"} 50"));
  for (const std::string hub : {"a", "b"}) {
    const std::string labels = "{hub=\"" + hub + "\"}";
    const std::string room = "{hub=\"" + hub + "\",room=\"lobby\"}";
    CHECK(has_line(text, "coronet_hub_backplane_connected" + labels + " 1"));
    CHECK(has_line(text, "coronet_hub_backplane_reconnects_total" + labels + " 0"));
    CHECK(has_line(text, "coronet_hub_publish_queue_messages" + labels + " 0"));
    CHECK(has_line(text, "coronet_hub_publish_queue_bytes" + labels + " 0"));
    CHECK(has_line(text, "coronet_hub_messages_malformed_total" + labels + " 0"));
    CHECK(has_line(text, "coronet_hub_messages_dropped_total" + room + " 0"));
    CHECK(has_line(text, "coronet_hub_messages_missed_total" + room + " 0"));
    CHECK(has_line(text, "coronet_hub_messages_duplicate_total" + room + " 0"));
  }
  // The side room got nothing and sent nothing: it has no counters yet.
  CHECK(text.find("room=\"side\"") == std::string::npos);
}
