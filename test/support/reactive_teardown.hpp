// What the reactive-session tests of every transport share: how sessions of a callback handler
// that runs without a coroutine end when their server stops, and when their server and then
// their io_context go while they wait (the pending waits own them; ASan reports a leak
// otherwise).
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <coronet/codec/line_codec.hpp>
#include <coronet/endpoint/callback_handler.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "async_test.hpp"
#include "line_test_helpers.hpp"

namespace coronet_test {

/// Stops `server` and waits, up to a second, until its last connection has ended; returns how
/// long that took (a session cancelled at once, not closed at the drain deadline, takes
/// milliseconds).
template <typename Server>
asio::awaitable<std::chrono::steady_clock::duration> stop_and_wait_until_empty(Server& server) {
  using namespace std::chrono_literals;
  const auto stop_began = std::chrono::steady_clock::now();
  server.stop();
  for (int i = 0; i < 100 && server.connection_count() > 0; ++i)
    co_await sleep_for(10ms);
  co_return std::chrono::steady_clock::now() - stop_began;
}

/// `make_server(io)` returns a server (a unique_ptr) on `io`; `connect(port)` a coroutine that
/// returns a line connection to it. Three clients each have "hello" echoed, then stay connected
/// while the server is destroyed, then the io_context.
template <typename MakeServer, typename Connect>
void check_waiting_sessions_freed_with_io_context(MakeServer make_server, Connect connect) {
  using namespace std::chrono_literals;
  auto witness = std::make_shared<int>(0);
  {
    asio::io_context io;
    auto server = make_server(io);
    server->template serve<coronet::line_codec>(
        coronet::callbacks().on_message([witness](auto& conn, std::string_view line) {
          ++*witness;
          conn.try_write(line);
        }));
    const std::uint16_t port = server->local_endpoint().port();
    std::vector<std::string> answers;
    for (int i = 0; i < 3; ++i) {
      asio::co_spawn(
          io,
          [port, &answers, connect]() -> asio::awaitable<void> {
            auto conn = co_await connect(port);
            answers.push_back(co_await ask(conn, "hello"));
            co_await sleep_for(10s);  // Still connected when the io_context goes.
          },
          asio::detached);
    }
    for (int i = 0; i < 300 && answers.size() < 3; ++i)
      io.run_for(10ms);
    CHECK(answers == std::vector<std::string>(3, "hello"));
    CHECK(*witness == 3);
    CHECK(witness.use_count() > 1);  // The handler is alive, held by the server's sessions.
    server.reset();                  // The server goes first, its sessions still waiting...
  }                                  // ...then the io_context, with their waits.
  CHECK(witness.use_count() == 1);
}

}  // namespace coronet_test
