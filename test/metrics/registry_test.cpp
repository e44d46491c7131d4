// The metrics registry and the text format: families and labels, registration rules, exact
// exposition text (escaping, histograms, order), merging of collectors, removal.
#include <catch2/catch.hpp>
#include <coronet/error.hpp>
#include <coronet/metrics/metrics_registry.hpp>
#include <coronet/metrics/server_collector.hpp>
#include <coronet/metrics/text_format.hpp>

#include <stdexcept>
#include <string>

using coronet::metrics::metric_family;
using coronet::metrics::metric_type;
using coronet::metrics::metrics_registry;

TEST_CASE("a counter family keeps one child per set of label values") {
  metrics_registry registry;
  auto& requests = registry.add_counter_family("app_requests_total", "Requests.", {"method"});
  requests.with({"GET"}).add();
  requests.with({"GET"}).add(2);
  requests.with({"POST"}).add();
  CHECK(&requests.with({"GET"}) == &requests.with({"GET"}));
  CHECK(requests.with({"GET"}).value() == 3);
  CHECK(registry.write_text() ==
        "# HELP app_requests_total Requests.\n"
        "# TYPE app_requests_total counter\n"
        "app_requests_total{method=\"GET\"} 3\n"
        "app_requests_total{method=\"POST\"} 1\n");
}

TEST_CASE("registering a name again returns the same metric or rejects a different shape") {
  metrics_registry registry;
  auto& members = registry.add_gauge("chat_members", "Members in the room.");
  CHECK(&registry.add_gauge("chat_members", "Members in the room.") == &members);
  CHECK_THROWS_AS(registry.add_gauge("chat_members", "Another help."), std::invalid_argument);
  CHECK_THROWS_AS(registry.add_gauge_family("chat_members", "Members in the room.", {"room"}),
                  std::invalid_argument);
  CHECK_THROWS_AS(registry.add_histogram("chat_members", "Members in the room.", {1, 2}),
                  std::invalid_argument);
}

TEST_CASE("invalid metric names and label names are rejected") {
  metrics_registry registry;
  CHECK_THROWS_AS(registry.add_counter("requests", "Not ending in _total."), std::invalid_argument);
  CHECK_THROWS_AS(registry.add_gauge("2fast", "Starts with a digit."), std::invalid_argument);
  CHECK_THROWS_AS(registry.add_gauge("has-dash", "Dash."), std::invalid_argument);
  CHECK_THROWS_AS(registry.add_gauge_family("g", "Reserved label.", {"__name"}),
                  std::invalid_argument);
  CHECK_THROWS_AS(registry.add_gauge_family("g", "Label twice.", {"a", "a"}),
                  std::invalid_argument);
  CHECK_THROWS_AS(registry.add_histogram_family("h", "le is the bucket label.", {"le"}, {1}),
                  std::invalid_argument);
  CHECK_THROWS_AS(registry.add_histogram("h", "Bounds must increase.", {2, 1}),
                  std::invalid_argument);
  auto& family = registry.add_counter_family("ok_total", "Two labels.", {"a", "b"});
  CHECK_THROWS_AS(family.with({"only one"}), std::invalid_argument);
}

TEST_CASE("the text format escapes label values and help texts") {
  metrics_registry registry;
  registry.add_gauge_family("hostile", "Help with \\ backslash\nand newline \"quoted\".", {"v"})
      .with({"a\\b\"c\nd"})
      .set(1.5);
  CHECK(registry.write_text() ==
        "# HELP hostile Help with \\\\ backslash\\nand newline \"quoted\".\n"
        "# TYPE hostile gauge\n"
        "hostile{v=\"a\\\\b\\\"c\\nd\"} 1.5\n");
}

TEST_CASE("bytes that are not UTF-8 in a label value become U+FFFD") {
  CHECK(coronet::metrics::escape_label_value("ok\xFFok") == "ok\xEF\xBF\xBDok");
  CHECK(coronet::metrics::escape_label_value("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(coronet::metrics::escape_label_value("caf\xC3\xA9") == "caf\xC3\xA9");
}

TEST_CASE("values are written as integers when whole and exactly otherwise") {
  using coronet::metrics::format_value;
  CHECK(format_value(42) == "42");
  CHECK(format_value(-3) == "-3");
  CHECK(format_value(0.1) == "0.1");
  CHECK(format_value(1e300) == "1e+300");
  CHECK(format_value(1.0 / 0.0) == "+Inf");
  CHECK(format_value(-1.0 / 0.0) == "-Inf");
  CHECK(format_value(0.0 / 0.0) == "NaN");
}

TEST_CASE("a histogram is written with cumulative buckets up to +Inf then sum and count") {
  metrics_registry registry;
  auto& latency = registry.add_histogram("app_latency_seconds", "Latency.", {0.1, 1});
  latency.observe(0.05);
  latency.observe(0.1);  // le: a value equal to a bound is in that bucket.
  latency.observe(0.5);
  latency.observe(7);
  CHECK(registry.write_text() ==
        "# HELP app_latency_seconds Latency.\n"
        "# TYPE app_latency_seconds histogram\n"
        "app_latency_seconds_bucket{le=\"0.1\"} 2\n"
        "app_latency_seconds_bucket{le=\"1\"} 3\n"
        "app_latency_seconds_bucket{le=\"+Inf\"} 4\n"
        "app_latency_seconds_sum 7.65\n"
        "app_latency_seconds_count 4\n");
}

TEST_CASE("families are sorted by name and samples by label values") {
  metrics_registry registry;
  registry.add_gauge_family("zeta", "Z.", {"k"}).with({"b"}).set(2);
  registry.add_gauge_family("zeta", "Z.", {"k"}).with({"a"}).set(1);
  registry.add_gauge("alpha", "A.").set(3);
  CHECK(registry.write_text() ==
        "# HELP alpha A.\n# TYPE alpha gauge\nalpha 3\n"
        "# HELP zeta Z.\n# TYPE zeta gauge\nzeta{k=\"a\"} 1\nzeta{k=\"b\"} 2\n");
}

TEST_CASE("samples with the same labels from several collectors are summed") {
  metrics_registry registry;
  for (const double value : {2.0, 5.0}) {
    registry.add_collector([value](std::vector<metric_family>& out) {
      metric_family family;
      family.name = "threads_work_total";
      family.help = "Work.";
      family.type = metric_type::counter;
      family.label_names = {"server"};
      family.samples.push_back({{"echo"}, value, {}, 0});
      out.push_back(std::move(family));
    });
  }
  CHECK(registry.write_text() ==
        "# HELP threads_work_total Work.\n# TYPE threads_work_total counter\n"
        "threads_work_total{server=\"echo\"} 7\n");
}

TEST_CASE("a family whose type differs from the first of its name is left out") {
  metrics_registry registry;
  registry.add_counter("clash_total", "Counter.").add(1);
  registry.add_collector([](std::vector<metric_family>& out) {
    metric_family family;
    family.name = "clash_total";
    family.help = "Gauge.";
    family.type = metric_type::gauge;
    family.samples.push_back({{}, 9, {}, 0});
    out.push_back(std::move(family));
  });
  CHECK(registry.write_text() ==
        "# HELP clash_total Counter.\n# TYPE clash_total counter\nclash_total 1\n");
}

TEST_CASE("a removed collector no longer appears") {
  metrics_registry registry;
  const auto id = registry.add_collector([](std::vector<metric_family>& out) {
    metric_family family;
    family.name = "gone";
    family.help = "Gone.";
    family.type = metric_type::gauge;
    family.samples.push_back({{}, 1, {}, 0});
    out.push_back(std::move(family));
  });
  CHECK(registry.write_text().find("gone 1") != std::string::npos);
  CHECK(registry.remove_collector(id));
  CHECK_FALSE(registry.remove_collector(id));
  CHECK(registry.write_text().empty());
}

TEST_CASE("a server snapshot becomes every family of the metrics contract") {
  coronet::server_metrics snapshot;
  snapshot.server = "tls";
  snapshot.has_handshake = true;
  snapshot.accepted = 5;
  snapshot.closed[static_cast<std::size_t>(coronet::close_reason::idle_timeout)] = 2;
  snapshot.decode_errors.push_back({"bad_length", 4});
  std::vector<metric_family> families;
  coronet::metrics::append_families(snapshot, families);
  std::string text;
  coronet::metrics::write_text(families, text);
  for (const char* line : {
           "coronet_connections_accepted_total{server=\"tls\"} 5\n",
           "coronet_connections_refused_total{server=\"tls\",reason=\"full\"} 0\n",
           "coronet_connections_refused_total{server=\"tls\",reason=\"handshake\"} 0\n",
           "coronet_connections_active{server=\"tls\"} 3\n",
           "coronet_connections_closed_total{server=\"tls\",reason=\"idle_timeout\"} 2\n",
           "coronet_connections_closed_total{server=\"tls\",reason=\"handler_done\"} 0\n",
           "coronet_bytes_received_total{server=\"tls\"} 0\n",
           "coronet_bytes_sent_total{server=\"tls\"} 0\n",
           "coronet_messages_received_total{server=\"tls\"} 0\n",
           "coronet_messages_sent_total{server=\"tls\"} 0\n",
           "coronet_decode_errors_total{server=\"tls\",kind=\"invalid_utf8\"} 0\n",
           "coronet_decode_errors_total{server=\"tls\",kind=\"frame_too_long\"} 0\n",
           "coronet_decode_errors_total{server=\"tls\",kind=\"bad_length\"} 4\n",
           "coronet_send_queue_dropped_total{server=\"tls\"} 0\n",
           "coronet_connection_duration_seconds_bucket{server=\"tls\",le=\"+Inf\"} 0\n",
           "coronet_connection_duration_seconds_count{server=\"tls\"} 0\n",
           "coronet_tls_handshakes_total{server=\"tls\",result=\"ok\"} 0\n",
           "coronet_tls_handshakes_total{server=\"tls\",result=\"failed\"} 0\n",
           "coronet_tls_handshakes_total{server=\"tls\",result=\"timed_out\"} 0\n",
       }) {
    INFO(line);
    CHECK(text.find(line) != std::string::npos);
  }
  CHECK(text.find("truncated") == std::string::npos);
  CHECK(text.find("reason=\"none\"") == std::string::npos);
}

TEST_CASE("a decode error of a codec's own category is named after its category") {
  struct resp_category final : std::error_category {
    const char* name() const noexcept override { return "RESP codec"; }
    std::string message(int) const override { return "bad"; }
  };
  static const resp_category category;
  CHECK(coronet::decode_error_kind(std::error_code{3, category}) == "resp_codec_3");
  CHECK(coronet::decode_error_kind(coronet::errc::invalid_utf8) == "invalid_utf8");
  CHECK(coronet::decode_error_kind(coronet::errc::frame_too_long) == "frame_too_long");
}

TEST_CASE("decode error counts keep a slot per kind and count the rest as overflow") {
  coronet::decode_error_counts counts;
  counts.add(coronet::errc::invalid_utf8);
  counts.add(coronet::errc::invalid_utf8);
  counts.add(coronet::errc::frame_too_long);
  for (int value = 1; value <= 10; ++value)
    counts.add(std::error_code{value, std::generic_category()});
  std::vector<std::pair<std::string, std::uint64_t>> seen;
  counts.for_each([&](std::error_code kind, std::uint64_t count) {
    seen.emplace_back(coronet::decode_error_kind(kind), count);
  });
  REQUIRE(seen.size() == coronet::decode_error_counts::max_kinds);
  CHECK(seen[0] == std::pair<std::string, std::uint64_t>{"invalid_utf8", 2});
  CHECK(seen[1] == std::pair<std::string, std::uint64_t>{"frame_too_long", 1});
  CHECK(counts.overflow() == 4);  // 10 generic kinds, 6 slots left.
}
