// Servers on several threads (one io_context each, as `--threads N` runs them) read from another
// thread while under load: the snapshots add up to the traffic sent, the registry sums servers
// of one name, and ThreadSanitizer sees no race (the tsan preset runs this).
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <catch2/catch.hpp>
#include <coronet/coronet.hpp>
#include <coronet/metrics/server_collector.hpp>
#include <coronet/udp/datagram_server.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../support/line_test_helpers.hpp"

using namespace std::chrono_literals;
using coronet::line_codec;

namespace {

constexpr int connections_per_server = 3;
constexpr int lines_per_connection = 300;

// Sends `lines_per_connection` lines and reads each echo; counts the echoes received.
asio::awaitable<void> client(std::uint16_t port, std::atomic<int>& echoes, std::atomic<int>& done) {
  auto conn = co_await coronet::connect("127.0.0.1", port, coronet_test::quick_connect());
  for (int i = 0; i < lines_per_connection; ++i) {
    const std::string line = "line " + std::to_string(i);
    co_await conn.write(line);
    auto echoed = co_await conn.read();
    if (!echoed || *echoed != line) break;
    echoes.fetch_add(1);
  }
  co_await conn.write(std::string_view{"exit"});
  // write() only queues: dropping the connection now would discard "exit" (the server would
  // then count peer_closed). Send it, and wait for the server to end the session.
  co_await conn.close_gracefully(5s);
  done.fetch_add(1);
}

}  // namespace

TEST_CASE("two servers on two threads are read concurrently under load and sum exactly") {
  asio::io_context io_a;
  asio::io_context io_b;
  coronet::server_options options;
  options.name = "echo";
  options.log = nullptr;
  coronet::tcp_server server_a{io_a, options};
  coronet::tcp_server server_b{io_b, options};
  server_a.serve<line_codec>(coronet_test::echo_handler{});
  server_b.serve<line_codec>(coronet_test::echo_handler{});
  coronet::datagram_server_options udp_options;
  udp_options.name = "udp";
  coronet::udp_server<> udp{io_b, udp_options};
  udp.serve(
      [](auto& datagram) -> asio::awaitable<void> { co_await datagram.reply(datagram.message); });

  coronet::metrics::metrics_registry registry;
  coronet::metrics::register_server(registry, server_a);
  coronet::metrics::register_server(registry, server_b);
  coronet::metrics::register_server(registry, udp);

  // The load: clients of both servers on a thread of their own, plus datagrams.
  asio::io_context io_clients;
  std::atomic<int> echoes{0};
  std::atomic<int> done{0};
  for (int i = 0; i < connections_per_server; ++i) {
    asio::co_spawn(io_clients, client(server_a.local_endpoint().port(), echoes, done),
                   asio::detached);
    asio::co_spawn(io_clients, client(server_b.local_endpoint().port(), echoes, done),
                   asio::detached);
  }
  coronet::udp_endpoint<> datagram_client{io_clients};
  const auto udp_address = udp.local_endpoint();
  asio::co_spawn(
      io_clients,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 100; ++i) {
          co_await datagram_client.send_to("ping", udp_address);
          auto reply = co_await datagram_client.receive_from(2s);
          if (!reply) break;
        }
      },
      asio::detached);

  std::thread thread_a{[&] { io_a.run_for(30s); }};
  std::thread thread_b{[&] { io_b.run_for(30s); }};
  std::thread thread_clients{[&] { io_clients.run_for(30s); }};

  // Read while they work: snapshots never go backwards and never exceed what was sent.
  std::uint64_t last_received = 0;
  int scrapes = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (done.load() < 2 * connections_per_server && std::chrono::steady_clock::now() < deadline) {
    const coronet::server_metrics sum = server_a.metrics() + server_b.metrics();
    CHECK(sum.messages_received >= last_received);
    CHECK(sum.messages_received <= 2 * connections_per_server * (lines_per_connection + 1));
    last_received = sum.messages_received;
    const std::string text = registry.write_text();
    CHECK(text.find("coronet_messages_received_total{server=\"echo\"}") != std::string::npos);
    ++scrapes;
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(done.load() == 2 * connections_per_server);
  CHECK(echoes.load() == 2 * connections_per_server * lines_per_connection);
  CHECK(scrapes > 0);

  // Each handler has seen "exit" once its client got every echo; wait for the sessions to end.
  for (int i = 0; i < 2000 && (server_a.metrics() + server_b.metrics()).active() != 0; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  const coronet::server_metrics total = server_a.metrics() + server_b.metrics();
  const std::uint64_t lines = 2 * connections_per_server * lines_per_connection;
  CHECK(total.accepted == 2 * connections_per_server);
  CHECK(total.active() == 0);
  CHECK(total.closed_for(coronet::close_reason::handler_done) == 2 * connections_per_server);
  CHECK(total.messages_received == lines + 2 * connections_per_server);  // and the exits
  CHECK(total.messages_sent == lines);
  const std::string text = registry.write_text();
  const std::string expected_line =
      "coronet_messages_sent_total{server=\"echo\"} " + std::to_string(lines) + "\n";
  CHECK(text.find(expected_line) != std::string::npos);
  CHECK(text.find("coronet_datagrams_received_total{server=\"udp\"}") != std::string::npos);

  asio::post(io_a, [&] { server_a.stop(); });
  asio::post(io_b, [&] {
    server_b.stop();
    udp.stop();
  });
  io_clients.stop();
  thread_clients.join();
  thread_a.join();
  thread_b.join();
}
