// The built-in metrics of every server kind, with exact values after a scripted session: TCP,
// Unix and TLS stream servers (sessions, one refused, lines, an invalid UTF-8 line, an over-long
// line, a peer that closes, an idle timeout, a slow consumer dropped; TLS: a failed handshake),
// and UDP (valid, invalid, oversize and dropped datagrams). Also: snapshots add up, metrics can
// be turned off, and a user's observer still gets every event.
#include <unistd.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <coronet/coronet.hpp>
#include <coronet/metrics/server_collector.hpp>
#include <coronet/udp/datagram_server.hpp>
#if CORONET_HAS_TLS
#include <coronet/tls/tls_client.hpp>
#include <coronet/tls/tls_transport.hpp>
#endif

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "../support/async_test.hpp"
#include "../support/line_test_helpers.hpp"
#include "../support/server_test_helpers.hpp"

using namespace std::chrono_literals;
using coronet::close_reason;
using coronet::line_codec;
using coronet::server_metrics;
using coronet_test::ask;
using coronet_test::next_line;
using coronet_test::quick_connect;
using coronet_test::run_async;
using coronet_test::sleep_for;

namespace {

// Polls `done` every 5 ms for up to `limit`; returns whether it became true.
template <typename Condition>
asio::awaitable<bool> eventually(Condition done, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) co_return false;
    co_await sleep_for(5ms);
  }
  co_return true;
}

// The client's codec: lets an invalid UTF-8 line and an over-long line go out.
line_codec permissive_codec() {
  return line_codec{{.max_line_length = 4096, .validate_utf8 = false}};
}

// Three sessions at most (lines of 100 bytes at most: the server's codec), a 1 s idle timeout, and
// a small send queue whose overflow drops the connection (a slow consumer).
coronet::server_options scripted_options(const std::string& name) {
  coronet::server_options options;
  options.name = name;
  options.max_connections = 3;
  options.connection.idle_timeout = 1s;
  options.connection.send_queue_limit = 16 * 1024;
  options.connection.queue_policy = coronet::send_queue_policy::disconnect;
  options.socket.send_buffer_size = 4096;
  options.log = nullptr;
  return options;
}

// Echoes lines until "exit"; "flood" writes 30-byte lines until the queue overflows.
struct scripted_handler {
  std::shared_ptr<std::uint64_t> flood_written = std::make_shared<std::uint64_t>(0);

  template <typename Connection>
  asio::awaitable<void> operator()(Connection& conn) const {
    while (auto line = co_await conn.read()) {
      if (*line == "exit") co_return;
      if (*line == "flood") {
        const std::string payload(30, 'f');
        for (int i = 0; i < 200'000; ++i) {
          const std::error_code error = co_await conn.write(std::string_view{payload});
          if (error) co_return;
          ++*flood_written;
        }
        co_return;
      }
      co_await conn.write(*line);
    }
  }
};

// The scripted session against `server`, whose handler is `handler`; `connect()` opens a client
// connection of the server's transport. Checks the exact counts before and after the flood.
template <typename Server, typename Connect>
asio::awaitable<void> run_script(Server& server, const scripted_handler& handler, Connect connect) {
  auto c1 = co_await connect();
  auto c2 = co_await connect();
  auto c3 = co_await connect();
  for (auto* conn : {&c1, &c2, &c3}) {
    const std::string echoed = co_await ask(*conn, "hello");
    CHECK(echoed == "hello");
  }
  auto c4 = co_await connect();  // The fourth: refused.
  const std::string refusal = co_await next_line(c4);
  CHECK(refusal == "error: server full (3 connections)");
  std::uint64_t bytes_sent = 3 * 6 + refusal.size() + 1;

  co_await c1.write(std::string_view{"\xFF\xFE"});
  const std::string utf8_reply = co_await next_line(c1);
  CHECK(utf8_reply.starts_with("error: invalid UTF-8"));
  co_await c1.write(std::string(150, 'x'));
  const std::string long_reply = co_await next_line(c1);
  CHECK(long_reply.starts_with("error: frame too long"));
  bytes_sent += utf8_reply.size() + 1 + long_reply.size() + 1;
  co_await c1.write(std::string_view{"exit"});
  const bool c1_done = co_await eventually(
      [&] { return server.metrics().closed_for(close_reason::handler_done) == 1; });
  CHECK(c1_done);
  c2.close();  // The peer goes away (TLS: without close_notify, counted as peer_closed).
  const bool c3_idle = co_await eventually([&] {
    const server_metrics m = server.metrics();
    return m.closed_for(close_reason::peer_closed) == 1 &&
           m.closed_for(close_reason::idle_timeout) == 1;
  });
  CHECK(c3_idle);

  const server_metrics before = server.metrics();
  CHECK(before.accepted == 3);
  CHECK(before.refused_full == 1);
  CHECK(before.active() == 0);
  CHECK(before.closed_total() == 3);
  CHECK(before.messages_received == 4);  // hello x 3, exit
  CHECK(before.messages_sent == 6);      // hello x 3, the refusal, two error replies
  CHECK(before.decode_errors_of("invalid_utf8") == 1);
  CHECK(before.decode_errors_of("frame_too_long") == 1);
  CHECK(before.bytes_received == 3 * 6 + 3 + 151 + 5);
  CHECK(before.bytes_sent == bytes_sent);
  CHECK(before.send_queue_dropped == 0);
  CHECK(before.connection_duration.count() == 3);
  CHECK(before.connection_duration.buckets[3] >= 1);  // The idle one lasted 1 s to 10 s.

  auto c5 = co_await connect();  // Asks for a flood and reads none of it.
  co_await c5.write(std::string_view{"flood"});
  const bool dropped = co_await eventually(
      [&] { return server.metrics().closed_for(close_reason::slow_consumer) == 1; });
  REQUIRE(dropped);
  const server_metrics after = server.metrics();
  CHECK(*handler.flood_written > 0);
  CHECK(after.accepted == 4);
  CHECK(after.active() == 0);
  CHECK(after.closed_total() == 4);
  CHECK(after.messages_received == 5);
  CHECK(after.messages_sent == 6 + *handler.flood_written);
  CHECK(after.bytes_received == before.bytes_received + 6);
  // The flood's last write completes after the drop has detached the counters: >=, not >.
  CHECK(after.bytes_sent >= before.bytes_sent);
  CHECK(after.connection_duration.count() == 4);
  CHECK(after.closed_for(close_reason::handler_done) == 1);
  CHECK(after.closed_for(close_reason::reset) == 0);
  CHECK(after.closed_for(close_reason::truncated) == 0);
}

}  // namespace

TEST_CASE("tcp server metrics count a scripted session exactly") {
  run_async(
      [](asio::io_context& io) -> asio::awaitable<void> {
        coronet::tcp_server server{io, scripted_options("tcp")};
        const scripted_handler handler;
        server.serve(line_codec{{.max_line_length = 100}}, handler);
        const std::uint16_t port = server.local_endpoint().port();
        // Named first: a lambda temporary inside co_await is destroyed twice by g++ 12.
        const auto connect = [port]() -> asio::awaitable<coronet::tcp_connection<line_codec>> {
          co_return co_await coronet::connect("127.0.0.1", port, quick_connect(),
                                              permissive_codec());
        };
        co_await run_script(server, handler, connect);
        const server_metrics m = server.metrics();
        CHECK(m.server == "tcp");
        CHECK_FALSE(m.has_handshake);
      },
      30s);
}

TEST_CASE("unix server metrics count a scripted session exactly") {
  run_async(
      [](asio::io_context& io) -> asio::awaitable<void> {
        const std::string path = (std::filesystem::temp_directory_path() /
                                  ("coronet-metrics-" + std::to_string(::getpid()) + ".sock"))
                                     .string();
        coronet::server_options options = scripted_options("unix");
        options.unix_path = path;
        coronet::unix_server server{io, options};
        const scripted_handler handler;
        server.serve(line_codec{{.max_line_length = 100}}, handler);
        const auto connect = [path]() -> asio::awaitable<coronet::unix_connection<line_codec>> {
          co_return co_await coronet::connect_unix(path, quick_connect(), permissive_codec());
        };
        co_await run_script(server, handler, connect);
        CHECK(server.metrics().server == "unix");
      },
      30s);
}

#if CORONET_HAS_TLS
TEST_CASE("tls server metrics count a scripted session and a failed handshake exactly") {
  run_async(
      [](asio::io_context& io) -> asio::awaitable<void> {
        const std::string dir = CORONET_TEST_CERT_DIR;
        coronet::tls_server server{
            io, scripted_options("tls"),
            coronet::tls_transport{
                {.certificate = {.certificate_chain_file = dir + "/server-chain.pem",
                                 .private_key_file = dir + "/server.key"}}}};
        const scripted_handler handler;
        server.serve(line_codec{{.max_line_length = 100}}, handler);
        const std::uint16_t port = server.local_endpoint().port();
        const coronet::tls_client_options client{.ca_file = dir + "/ca.pem",
                                                 .server_name = "localhost"};
        const auto connect = [port,
                              client]() -> asio::awaitable<coronet::tls_connection<line_codec>> {
          co_return co_await coronet::connect_tls("127.0.0.1", port, client, quick_connect(),
                                                  permissive_codec());
        };
        co_await run_script(server, handler, connect);
        // A client that speaks no TLS: its handshake fails, no session starts.
        auto garbage = co_await coronet_test::raw_connect(port);
        co_await asio::async_write(
            garbage, asio::buffer(std::string_view{"GET / HTTP/1.0\r\n\r\n"}), asio::use_awaitable);
        const bool failed =
            co_await eventually([&] { return server.metrics().refused_handshake == 1; });
        CHECK(failed);
        const server_metrics m = server.metrics();
        CHECK(m.has_handshake);
        CHECK(m.handshakes_ok == 5);  // Four sessions and the refused one.
        CHECK(m.handshakes_failed == 1);
        CHECK(m.handshakes_timed_out == 0);
        CHECK(m.accepted == 4);
        CHECK(m.refused_full == 1);
        CHECK(m.bytes_received == 3 * 6 + 3 + 151 + 5 + 6);  // The plaintext.
      },
      30s);
}
#endif

TEST_CASE("udp server metrics count received rejected dropped and sent datagrams exactly") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    coronet::datagram_server_options options;
    options.name = "udp";
    options.max_concurrent_handlers = 1;
    options.when_busy = coronet::busy_policy::drop;
    options.log = nullptr;
    coronet::udp_server<> server{io, options, coronet::datagram_codec{{.max_datagram_size = 64}}};
    auto gate = std::make_shared<asio::steady_timer>(io, asio::steady_timer::time_point::max());
    server.serve([gate](auto& datagram) -> asio::awaitable<void> {
      if (datagram.message == "hold") {
        co_await gate->async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      }
      co_await datagram.reply(datagram.message);
    });
    coronet::udp_endpoint<> client{io, {}, coronet::datagram_codec{{.validate_utf8 = false}}};
    const auto address = server.local_endpoint();
    for (const std::string_view message : {"one", "two", "three"}) {
      co_await client.send_to(message, address);
      auto echoed = co_await client.receive_from(2s);
      REQUIRE(echoed);
      CHECK(*echoed == message);
    }
    co_await client.send_to("\xC0\xAF", address);            // Not UTF-8.
    co_await client.send_to(std::string(65, 'x'), address);  // Over the limit.
    co_await client.send_to("hold", address);                // Holds the only handler...
    const bool holding = co_await eventually([&] { return server.active_handlers() == 1; });
    REQUIRE(holding);
    co_await client.send_to("busy", address);  // ...so this one is dropped.
    const bool dropped =
        co_await eventually([&] { return server.metrics().stats.dropped_busy == 1; });
    CHECK(dropped);
    gate->cancel();
    auto released = co_await client.receive_from(2s);
    REQUIRE(released);
    CHECK(*released == "hold");

    const coronet::datagram_server_metrics m = server.metrics();
    CHECK(m.server == "udp");
    CHECK(m.stats.endpoint.received == 7);
    CHECK(m.stats.endpoint.rejected_invalid_utf8 == 1);
    CHECK(m.stats.endpoint.rejected_oversize == 1);
    CHECK(m.stats.endpoint.rejected_other == 0);
    CHECK(m.stats.endpoint.sent == 4);
    CHECK(m.stats.endpoint.bytes_received == 3 + 3 + 5 + 2 + 65 + 4 + 4);
    CHECK(m.stats.endpoint.bytes_sent == 3 + 3 + 5 + 4);
    CHECK(m.stats.dropped_busy == 1);
    CHECK(m.stats.handled == 4);
  });
}

TEST_CASE("snapshots of two servers add up") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    coronet::server_options options;
    options.name = "echo";
    options.log = nullptr;
    coronet::tcp_server first{io, options};
    coronet::tcp_server second{io, options};
    first.serve<line_codec>(coronet_test::echo_handler{});
    second.serve<line_codec>(coronet_test::echo_handler{});
    auto a = co_await coronet::connect("127.0.0.1", first.local_endpoint().port(), quick_connect(),
                                       permissive_codec());
    auto b = co_await coronet::connect("127.0.0.1", second.local_endpoint().port(), quick_connect(),
                                       permissive_codec());
    const std::string one = co_await ask(a, "one");
    const std::string two = co_await ask(b, "two");
    const std::string three = co_await ask(b, "three");
    CHECK(one + two + three == "onetwothree");
    co_await b.write(std::string_view{"\xFF"});
    const std::string error = co_await next_line(b);
    CHECK(error.starts_with("error: "));

    const server_metrics sum = first.metrics() + second.metrics();
    CHECK(sum.server == "echo");
    CHECK(sum.accepted == 2);
    CHECK(sum.active() == 2);
    CHECK(sum.messages_received == 3);
    CHECK(sum.messages_sent == 4);
    CHECK(sum.bytes_received == 4 + 4 + 6 + 2);
    CHECK(sum.decode_errors_of("invalid_utf8") == 1);
    server_metrics total;
    total += first.metrics();
    total += second.metrics();
    CHECK(total.bytes_sent == sum.bytes_sent);
  });
}

TEST_CASE("a server with metrics off reports zeros and its observer still counts") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<coronet_test::counting_observer>();
    coronet::server_options options;
    options.name = "quiet";
    options.metrics = false;
    options.observer = observer;
    options.log = nullptr;
    coronet::tcp_server server{io, options};
    server.serve<line_codec>(coronet_test::echo_handler{});
    auto conn =
        co_await coronet::connect("127.0.0.1", server.local_endpoint().port(), quick_connect());
    const std::string echoed = co_await ask(conn, "hi");
    CHECK(echoed == "hi");
    const server_metrics m = server.metrics();
    CHECK(m.server == "quiet");
    CHECK(m.accepted == 0);
    CHECK(m.messages_received == 0);
    CHECK(observer->sessions_started == 1);
    CHECK(observer->messages_received.value() == 1);
  });
}

TEST_CASE("a user observer gets every event while the built-in metrics count the same traffic") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<coronet_test::counting_observer>();
    coronet::server_options options;
    options.observer = observer;
    options.log = nullptr;
    options.connection.queue_policy = coronet::send_queue_policy::drop;
    options.connection.send_queue_limit = 16 * 1024;
    options.socket.send_buffer_size = 4096;
    coronet::tcp_server server{io, options};
    server.serve<line_codec>([](auto& conn) -> asio::awaitable<void> {
      while (auto line = co_await conn.read()) {
        if (*line == "exit") co_return;
        if (*line != "flood") {
          co_await conn.write(*line);
          continue;
        }
        // Writes until the first message is dropped (the client reads none of them).
        const std::string payload(30, 'f');
        for (int i = 0; i < 200'000; ++i) {
          const std::error_code error = co_await conn.write(std::string_view{payload});
          if (error) break;
        }
      }
    });
    auto conn = co_await coronet::connect("127.0.0.1", server.local_endpoint().port(),
                                          quick_connect(), permissive_codec());
    co_await conn.write(std::string_view{"\xFF"});
    const std::string error = co_await next_line(conn);
    CHECK(error.starts_with("error: "));
    co_await conn.write(std::string_view{"flood"});
    co_await conn.write(std::string_view{"exit"});
    const bool ended = co_await eventually([&] { return server.metrics().active() == 0; });
    CHECK(ended);
    const server_metrics m = server.metrics();
    CHECK(m.server == "server");  // The default name.
    CHECK(m.send_queue_dropped == 1);
    CHECK(observer->queue_drops == 1);
    CHECK(m.decode_errors_of("invalid_utf8") == 1);
    CHECK(observer->decode_errors.size() == 1);
    CHECK(m.messages_received == 2);  // flood, exit
    CHECK(observer->messages_received.value() == 2);
    CHECK(m.accepted == 1);
    CHECK(observer->sessions_started == 1);
    CHECK(m.closed_for(close_reason::handler_done) == 1);
    CHECK(observer->ended == std::vector<std::string>{"handler_done"});
  });
}

TEST_CASE("a registry reports a server's metrics after the server is gone") {
  coronet::metrics::metrics_registry registry;
  {
    asio::io_context io;
    coronet::server_options options;
    options.name = "gone";
    coronet::tcp_server server{io, options};
    coronet::metrics::register_server(registry, server);
  }
  const std::string text = registry.write_text();
  CHECK(text.find("coronet_connections_accepted_total{server=\"gone\"} 0\n") != std::string::npos);
}
