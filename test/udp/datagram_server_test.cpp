// udp_server / unix_datagram_server over real loopback sockets: a handler per datagram, the bound
// on handlers running at once under a flood (both busy policies), rejected datagrams, failing
// handlers, and graceful stop.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <catch2/catch.hpp>
#include <coronet/udp/datagram_client.hpp>
#include <coronet/udp/datagram_server.hpp>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../support/async_test.hpp"
#include "../support/log_recorder.hpp"
#include "udp_test_support.hpp"

using namespace std::chrono_literals;
using coronet::errc;
using coronet::udp_endpoint;
using coronet::udp_server;
using coronet_test::log_recorder;
using coronet_test::run_async;
using coronet_test::sleep_for;

namespace {

// The handler of the samples: echo every datagram to its sender.
struct echo_handler {
  template <typename Datagram>
  asio::awaitable<void> operator()(Datagram& datagram) const {
    co_await datagram.reply(datagram.message);
  }
};

template <typename Endpoint>
asio::awaitable<std::string> next_message(Endpoint& endpoint,
                                          std::chrono::milliseconds timeout = 2s) {
  auto received = co_await endpoint.receive_from(timeout);
  if (!received) co_return "<error: " + received.error().message() + ">";
  co_return std::string{*received};
}

// Handlers that wait behind a gate until the test opens it, and count how many run at once.
struct gated_handlers {
  struct shared {
    explicit shared(asio::io_context& io) : gate{io, asio::steady_timer::time_point::max()} {}
    asio::steady_timer gate;  // Never expires; cancelled to open.
    bool open = false;
    int running = 0;
    int peak = 0;
    int finished = 0;
  };
  std::shared_ptr<shared> state;

  explicit gated_handlers(asio::io_context& io) : state{std::make_shared<shared>(io)} {}

  template <typename Datagram>
  asio::awaitable<void> operator()(Datagram&) const {
    auto s = state;
    ++s->running;
    s->peak = std::max(s->peak, s->running);
    while (!s->open) {
      co_await s->gate.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    }
    --s->running;
    ++s->finished;
  }

  void open_gate() const {
    state->open = true;
    state->gate.cancel();
  }
};

// Polls `done` every 5 ms for up to `limit`; returns whether it became true.
template <typename Condition>
asio::awaitable<bool> eventually(Condition done, std::chrono::milliseconds limit = 3s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) co_return false;
    co_await sleep_for(5ms);
  }
  co_return true;
}

}  // namespace

TEST_CASE("udp server runs a handler per datagram that replies to each sender") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    udp_server server{io};  // datagram_codec by default
    server.serve(echo_handler{});
    const auto address = server.local_endpoint();
    REQUIRE(address.port() != 0);
    udp_endpoint<> alice{io};
    udp_endpoint<> bob{io};
    co_await alice.send_to("from alice", address);
    co_await bob.send_to("from bob", address);
    const std::string to_alice = co_await next_message(alice);
    const std::string to_bob = co_await next_message(bob);
    CHECK(to_alice == "from alice");
    CHECK(to_bob == "from bob");
    const bool counted = co_await eventually([&] { return server.stats().handled == 2; });
    CHECK(counted);
    CHECK(server.stats().endpoint.sent == 2);
  });
}

TEST_CASE("udp server drops invalid and oversize datagrams, counts them, and keeps serving") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    log_recorder log;
    coronet::udp_server<> server{
        io, {.log = log.hook()}, coronet::datagram_codec{{.max_datagram_size = 64}}};
    server.serve(echo_handler{});
    udp_endpoint<> client{io, {}, coronet::datagram_codec{{.validate_utf8 = false}}};
    co_await client.send_to("\xC0\xAF", server.local_endpoint());  // Overlong encoding.
    co_await client.send_to(std::string(65, 'x'), server.local_endpoint());
    co_await client.send_to("valid", server.local_endpoint());
    const std::string echoed = co_await next_message(client);
    CHECK(echoed == "valid");  // Nothing came back for the two bad ones.
    const coronet::datagram_server_stats stats = server.stats();
    CHECK(stats.endpoint.received == 3);
    CHECK(stats.endpoint.rejected_invalid_utf8 == 1);
    CHECK(stats.endpoint.rejected_oversize == 1);
    CHECK(log.contains("invalid UTF-8"));
  });
}

TEST_CASE("under a flood, pause_receiving runs at most max_concurrent_handlers and loses none") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    udp_server server{
        io,
        {.endpoint = {.socket = {.receive_buffer_size = 1 << 20}}, .max_concurrent_handlers = 4}};
    gated_handlers handlers{io};
    server.serve(handlers);
    udp_endpoint<> flooder{io};
    for (int i = 0; i < 200; ++i)
      co_await flooder.send_to("flood " + std::to_string(i), server.local_endpoint());
    co_await sleep_for(100ms);
    CHECK(server.active_handlers() == 4);
    CHECK(handlers.state->running == 4);
    CHECK(server.stats().endpoint.received == 4);  // The rest wait in the kernel's buffer.

    handlers.open_gate();
    // A handler's own count comes first; the server counts it once the handler has returned.
    const bool all_done = co_await eventually(
        [&] { return handlers.state->finished == 200 && server.stats().handled == 200; });
    CHECK(all_done);
    CHECK(handlers.state->finished == 200);
    CHECK(server.stats().handled == 200);
    CHECK(handlers.state->peak == 4);
    CHECK(server.stats().peak_handlers == 4);
    CHECK(server.stats().dropped_busy == 0);
  });
}

TEST_CASE("under a flood, the drop policy runs at most max_concurrent_handlers and counts drops") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    udp_server server{io,
                      {.endpoint = {.socket = {.receive_buffer_size = 1 << 20}},
                       .max_concurrent_handlers = 4,
                       .when_busy = coronet::busy_policy::drop}};
    gated_handlers handlers{io};
    server.serve(handlers);
    udp_endpoint<> flooder{io};
    for (int i = 0; i < 200; ++i)
      co_await flooder.send_to("flood " + std::to_string(i), server.local_endpoint());
    const bool all_received =
        co_await eventually([&] { return server.stats().endpoint.received == 200; });
    CHECK(all_received);
    CHECK(server.active_handlers() == 4);
    CHECK(server.stats().dropped_busy == 196);

    handlers.open_gate();
    const bool done = co_await eventually([&] { return server.stats().handled == 4; });
    CHECK(done);
    CHECK(handlers.state->peak == 4);
    co_await flooder.send_to("after the flood", server.local_endpoint());
    const bool served = co_await eventually([&] { return server.stats().handled == 5; });
    CHECK(served);
  });
}

TEST_CASE("udp server logs a handler that throws and keeps serving") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    log_recorder log;
    udp_server server{io, {.log = log.hook()}};
    server.serve([](auto& datagram) -> asio::awaitable<void> {
      if (datagram.message == "boom") throw std::runtime_error("handler exploded");
      co_await datagram.reply(datagram.message);
    });
    udp_endpoint<> client{io};
    co_await client.send_to("boom", server.local_endpoint());
    co_await client.send_to("still here", server.local_endpoint());
    const std::string echoed = co_await next_message(client);
    CHECK(echoed == "still here");
    const bool logged = co_await eventually([&] { return log.contains("handler exploded"); });
    CHECK(logged);
    CHECK(server.stats().handler_failures == 1);
  });
}

TEST_CASE("stop lets running handlers reply, stops receiving, and lets run() return") {
  asio::io_context io;
  std::string reply;
  std::string after_stop;
  auto server = std::make_unique<udp_server<>>(io, coronet::datagram_server_options{});
  server->serve([](auto& datagram) -> asio::awaitable<void> {
    co_await sleep_for(50ms);  // Still running when stop() is called.
    co_await datagram.reply("late " + datagram.message);
  });
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        udp_endpoint<> client{io};
        const auto address = server->local_endpoint();
        co_await client.send_to("request", address);
        co_await sleep_for(10ms);
        server->stop();
        reply = co_await next_message(client);
        co_await client.send_to("after stop", address);
        after_stop = co_await next_message(client, 100ms);
      },
      asio::detached);
  const auto start = std::chrono::steady_clock::now();
  io.run_for(5s);  // Returns early: no work is left once the server has stopped.
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(reply == "late request");
  CHECK(after_stop.starts_with("<error: "));  // Nobody serves the port any more.
  CHECK(server->stats().handled == 1);
}

TEST_CASE("stop cancels a handler that outlives drain_timeout") {
  asio::io_context io;
  udp_server server{io, {.drain_timeout = 50ms}};
  bool cancelled = false;
  server.serve([&cancelled](auto&) -> asio::awaitable<void> {
    try {
      co_await sleep_for(10s);
    } catch (const std::system_error&) {
      cancelled = true;
      throw;
    }
  });
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        udp_endpoint<> client{io};
        co_await client.send_to("sleep", server.local_endpoint());
        co_await sleep_for(20ms);
        server.stop();
      },
      asio::detached);
  const auto start = std::chrono::steady_clock::now();
  io.run_for(5s);
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  CHECK(cancelled);
  CHECK(server.active_handlers() == 0);
}

TEST_CASE("unix datagram server echoes and removes its socket file at stop") {
  udp_test::temp_dir dir;
  const std::string path = dir.file("echo.sock");
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    coronet::unix_datagram_server<> server{io, {.endpoint = {.unix_path = path}}};
    server.serve(echo_handler{});
    CHECK(coronet::to_string(server.local_endpoint()) == "unix:" + path);
    auto client = coronet::unix_datagram_connect(io, path, {.unix_path = dir.file("client.sock")});
    co_await client.send("over a unix datagram socket");
    const std::string echoed = co_await next_message(client);
    CHECK(echoed == "over a unix datagram socket");
    server.stop();
    co_await sleep_for(10ms);
  });
  CHECK_FALSE(std::filesystem::exists(path));
}
