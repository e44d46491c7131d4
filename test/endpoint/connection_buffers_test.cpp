// What an idle connection holds: no buffer once it waits for its peer; buffers grown by a burst
// stay through the busy period and are given back after a quiet second.
#include <catch2/catch.hpp>
#include <coronet/coronet.hpp>
#include <string>

#include "../support/async_test.hpp"
#include "../support/line_test_helpers.hpp"

using namespace std::chrono_literals;
using coronet::line_codec;
using coronet::tcp_server;
using coronet_test::run_async;
using coronet_test::sleep_for;

namespace {

// Sends `line` and returns the echo's size (0 if none came).
template <typename Connection>
asio::awaitable<std::size_t> echo_size(Connection& conn, const std::string& line) {
  co_await conn.write(line);
  auto echo = co_await conn.read();
  co_return echo ? echo->size() : 0;
}

using server_connection = tcp_server::connection_type<line_codec>;

// Echoes every line; `served` points to the connection being served, null once it ends.
void serve_echo(tcp_server& server, server_connection*& served) {
  server.serve<line_codec>([&served](server_connection& conn) -> asio::awaitable<void> {
    served = &conn;
    while (auto line = co_await conn.read())
      co_await conn.write(*line);
    served = nullptr;
  });
}

}  // namespace

TEST_CASE(
    "an idle connection holds no buffer, and a burst's large buffers go after a quiet second") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    server_connection* served = nullptr;
    tcp_server server{io, {.port = 0}};
    serve_echo(server, served);
    auto client =
        co_await coronet::connect("127.0.0.1", server.local_endpoint().port(), {.timeout = 2s});

    const std::size_t small = co_await echo_size(client, "small");
    CHECK(small == 5);
    co_await sleep_for(50ms);
    REQUIRE(served != nullptr);
    CHECK(served->buffer_capacity() == 0);

    const std::string burst(60'000, 'x');  // Under line_codec's 64 KiB default limit.
    const std::size_t large = co_await echo_size(client, burst);
    CHECK(large == burst.size());
    co_await sleep_for(50ms);
    REQUIRE(served != nullptr);
    const std::size_t after_burst = served->buffer_capacity();
    CHECK(after_burst > 4096);  // Kept while the connection may still be busy.

    std::size_t held = after_burst;
    for (int wait = 0; wait < 60 && held != 0 && served != nullptr; ++wait) {  // At most 3 s.
      co_await sleep_for(50ms);
      held = served != nullptr ? served->buffer_capacity() : 0;
    }
    REQUIRE(served != nullptr);
    CHECK(held == 0);

    // And it still works after giving them back.
    const std::size_t again = co_await echo_size(client, burst);
    CHECK(again == burst.size());
  });
}

TEST_CASE("a quiet connection's small buffers wait in the thread's cache for the next burst") {
  using coronet::detail::read_buffer;
  using coronet::detail::send_queue;
  while (read_buffer::cache::kept() > 0)
    read_buffer::cache::take();
  while (send_queue::cache::kept() > 0)
    send_queue::cache::take();
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    server_connection* served = nullptr;
    tcp_server server{io, {.port = 0}};
    serve_echo(server, served);
    auto client =
        co_await coronet::connect("127.0.0.1", server.local_endpoint().port(), {.timeout = 2s});
    const std::string line(1000, 'x');
    for (int burst = 0; burst < 3; ++burst) {
      co_await client.write(line);
      co_await sleep_for(20ms);  // The server reads, echoes and waits for the next line.
      REQUIRE(served != nullptr);
      CHECK(served->buffer_capacity() == 0);
      // Its buffers went to this thread's cache (the client's echo is still unread, so nothing
      // on this thread has taken them since).
      CHECK(read_buffer::cache::kept() >= 1);
      CHECK(send_queue::cache::kept() >= 1);
      auto echo = co_await client.read();
      REQUIRE(echo);
      CHECK(echo->size() == line.size());
    }
  });
}
