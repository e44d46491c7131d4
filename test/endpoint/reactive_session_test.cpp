// A callback handler whose on_message never waits (returns void or bool): the server runs it
// without a coroutine per connection (basic_server's reactive_step). What a user relies on:
// it behaves as the coroutine form does (echo, stop, exceptions, timeouts, teardown, ending the
// connection; decode errors: the callback case in server_test.cpp), and reading pauses while the
// send queue is full, so no answer is lost.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <coronet/codec/line_codec.hpp>
#include <coronet/endpoint/callback_handler.hpp>
#include <coronet/endpoint/server.hpp>
#include <coronet/testing/memory_stream.hpp>
#include <istream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../support/async_test.hpp"
#include "../support/line_test_helpers.hpp"
#include "../support/log_recorder.hpp"
#include "../support/reactive_teardown.hpp"
#include "../support/server_test_helpers.hpp"

using namespace std::chrono_literals;
using coronet::line_codec;
using coronet::tcp_server;
using coronet_test::raw_connect;
using coronet_test::run_async;
using coronet_test::sleep_for;

namespace {

auto echo_callbacks() {
  return coronet::callbacks().on_message(
      [](auto& conn, std::string_view line) { conn.try_write(line); });
}

using echo_type = decltype(echo_callbacks());
using tcp_connection = tcp_server::connection_type<line_codec>;
using unix_connection = coronet::unix_server::connection_type<line_codec>;
using memory_connection = coronet::framed_connection<line_codec, coronet::testing::memory_stream>;

// Reads one line from a raw socket.
asio::awaitable<std::string> read_line(asio::ip::tcp::socket& socket, asio::streambuf& input) {
  co_await asio::async_read_until(socket, input, '\n', asio::use_awaitable);
  std::istream in{&input};
  std::string line;
  std::getline(in, line);
  co_return line;
}

}  // namespace

TEST_CASE(
    "a callback handler with a void on_message runs without a coroutine on framed connections",
    "[server][reactive]") {
  STATIC_REQUIRE(coronet::detail::runs_without_coroutine<echo_type, tcp_connection>);
  STATIC_REQUIRE(coronet::detail::runs_without_coroutine<echo_type, unix_connection>);
  // A stream read through its async_read_some (the in-memory one here; TLS: tls_test.cpp) too.
  STATIC_REQUIRE(coronet::detail::runs_without_coroutine<echo_type, memory_connection>);
  // An on_message that waits needs its coroutine.
  auto waiting = coronet::callbacks().on_message(
      [](auto& conn, std::string_view line) -> asio::awaitable<void> {
        co_await conn.write(line);
      });
  STATIC_REQUIRE_FALSE(coronet::detail::runs_without_coroutine<decltype(waiting), tcp_connection>);
  // A coroutine handler is what it is.
  struct coroutine_handler {
    asio::awaitable<void> operator()(tcp_connection&) const { co_return; }
  };
  STATIC_REQUIRE_FALSE(coronet::detail::runs_without_coroutine<coroutine_handler, tcp_connection>);
}

namespace {

// Runs a handler as the coroutine it also is, hiding that it could run without one.
template <typename Handler>
struct as_coroutine {
  template <typename Connection>
  asio::awaitable<void> operator()(Connection& conn) const {
    return handler(conn);
  }
  Handler handler;
};

// 20,000 lines of 99 bytes (2 MB) against 4 KiB of send queue and about 256 KiB of socket
// buffers on the way back, with a client that reads nothing for 300 ms: without the pause most
// answers would find the queue full.
template <bool Coroutine>
asio::awaitable<void> check_no_answer_lost(asio::io_context& io) {
  coronet::server_options options;
  options.host = "127.0.0.1";
  options.connection.send_queue_limit = 4 * 1024;  // queue_policy: wait (the default)
  options.socket.send_buffer_size = 64 * 1024;
  auto observer = std::make_shared<coronet_test::counting_observer>();
  options.observer = observer;
  int handled = 0;
  auto echo = coronet::callbacks().on_message([&handled](auto& conn, std::string_view line) {
    ++handled;
    conn.try_write(line);
  });
  tcp_server server{io, options};
  if constexpr (Coroutine) {
    server.serve<line_codec>(as_coroutine<decltype(echo)>{std::move(echo)});
  } else {
    server.serve<line_codec>(std::move(echo));
  }

  asio::ip::tcp::socket client = co_await raw_connect(server.local_endpoint().port());
  client.set_option(asio::socket_base::receive_buffer_size{64 * 1024});
  constexpr int lines = 20'000;
  bool sent_all = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const std::string payload(99, 'x');
        std::string batch;
        for (int i = 0; i < lines; ++i) {
          const std::string number = std::to_string(i);
          batch += number + ' ' + payload.substr(number.size() + 1) + '\n';
          if (batch.size() > 16 * 1024 || i + 1 == lines) {
            co_await asio::async_write(client, asio::buffer(batch), asio::use_awaitable);
            batch.clear();
          }
        }
        sent_all = true;
      },
      asio::detached);
  co_await sleep_for(300ms);  // The client does not read: the server's queue fills...
  CHECK(handled < lines);     // ...and the server stops reading.

  asio::streambuf input;
  int received = 0;
  for (; received < lines; ++received) {
    const std::string line = co_await read_line(client, input);
    if (line.rfind(std::to_string(received) + ' ', 0) != 0 || line.size() != 99) break;
  }
  CHECK(received == lines);  // Every answer, in order.
  CHECK(sent_all);
  CHECK(observer->queue_drops == 0);
  server.stop();
}

}  // namespace

TEST_CASE("callbacks pause reading while the send queue is full and lose no answer",
          "[server][reactive]") {
  SECTION("run without a coroutine") {
    run_async(check_no_answer_lost<false>, 30s);
  }
  SECTION("run as a coroutine") {
    run_async(check_no_answer_lost<true>, 30s);
  }
}

TEST_CASE("stop() ends reactive sessions with operation_aborted, idle or paused for room",
          "[server][reactive]") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    coronet::server_options options;
    options.host = "127.0.0.1";
    options.connection.send_queue_limit = 1024;
    options.socket.send_buffer_size = 4 * 1024;
    options.drain_timeout = 5s;
    auto ended = std::make_shared<std::vector<std::error_code>>();
    tcp_server server{io, options};
    server.serve<line_codec>(echo_callbacks().on_disconnect(
        [ended](auto&, std::error_code why) { ended->push_back(why); }));

    asio::ip::tcp::socket idle = co_await raw_connect(server.local_endpoint().port());
    asio::ip::tcp::socket flooding = co_await raw_connect(server.local_endpoint().port());
    flooding.set_option(asio::socket_base::receive_buffer_size{4 * 1024});
    // The flooding client never reads: its session ends up paused for room.
    asio::co_spawn(
        io,
        [&flooding]() -> asio::awaitable<void> {
          const std::string many(64 * 1024, 'y');
          std::string lines;
          for (int i = 0; i < 32; ++i)
            lines += many.substr(0, 1023) + '\n';
          for (int i = 0; i < 64; ++i) {
            auto [error, count] = co_await asio::async_write(
                flooding, asio::buffer(lines), asio::experimental::as_tuple(asio::use_awaitable));
            if (error) co_return;
          }
        },
        asio::detached);
    co_await sleep_for(300ms);
    REQUIRE(server.connection_count() == 2);

    const auto took = co_await coronet_test::stop_and_wait_until_empty(server);
    CHECK(server.connection_count() == 0);
    CHECK(took < 1s);  // Cancelled, not closed at the drain deadline.
    REQUIRE(ended->size() == 2);
    CHECK((*ended)[0] == asio::error::operation_aborted);
    CHECK((*ended)[1] == asio::error::operation_aborted);
    idle.close();
    flooding.close();
  });
}

TEST_CASE("an on_message that throws ends only its own reactive session, and is logged",
          "[server][reactive]") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    coronet_test::log_recorder log;
    coronet::server_options options;
    options.host = "127.0.0.1";
    options.log = log.hook();
    tcp_server server{io, options};
    server.serve<line_codec>(coronet::callbacks().on_message([](auto& conn, std::string_view line) {
      if (line == "boom") throw std::runtime_error("boom from on_message");
      conn.try_write(line);
    }));
    const std::uint16_t port = server.local_endpoint().port();
    auto good = co_await coronet::connect("127.0.0.1", port, coronet_test::quick_connect());
    auto bad = co_await coronet::connect("127.0.0.1", port, coronet_test::quick_connect());
    const std::string first = co_await coronet_test::ask(good, "one");
    CHECK(first == "one");
    co_await bad.write("boom");
    auto after = co_await bad.read();
    CHECK_FALSE(after);  // The server closed that connection.
    const std::string second = co_await coronet_test::ask(good, "two");
    CHECK(second == "two");
    CHECK(log.contains("handler failed: boom from on_message"));
    CHECK(server.connection_count() == 1);
    server.stop();
  });
}

TEST_CASE("a reactive session reports its idle timeout to on_disconnect", "[server][reactive]") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    coronet::server_options options;
    options.host = "127.0.0.1";
    options.connection.idle_timeout = 100ms;
    auto ended = std::make_shared<std::vector<std::error_code>>();
    tcp_server server{io, options};
    server.serve<line_codec>(echo_callbacks().on_disconnect(
        [ended](auto&, std::error_code why) { ended->push_back(why); }));
    auto conn = co_await coronet::connect("127.0.0.1", server.local_endpoint().port(),
                                          coronet_test::quick_connect());
    const std::string echo = co_await coronet_test::ask(conn, "before");
    CHECK(echo == "before");
    for (int i = 0; i < 100 && ended->empty(); ++i)
      co_await sleep_for(10ms);
    REQUIRE(ended->size() == 1);
    CHECK((*ended)[0] == coronet::errc::timed_out);
    server.stop();
  });
}

TEST_CASE("reactive sessions left waiting are freed with their io_context", "[server][reactive]") {
  coronet_test::check_waiting_sessions_freed_with_io_context(
      [](asio::io_context& io) {
        coronet::server_options options;
        options.host = "127.0.0.1";
        return std::make_unique<tcp_server>(io, options);
      },
      [](std::uint16_t port) {
        return coronet::connect("127.0.0.1", port, coronet_test::quick_connect());
      });
}

TEST_CASE("a callback that stops the server ends its own reactive session at once",
          "[server][reactive]") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    coronet::server_options options;
    options.host = "127.0.0.1";
    options.drain_timeout = 5s;
    auto ended = std::make_shared<std::vector<std::error_code>>();
    tcp_server server{io, options};
    server.serve<line_codec>(
        coronet::callbacks()
            .on_message([&server](auto& conn, std::string_view line) {
              conn.try_write(line);
              if (line == "shutdown") server.stop();
            })
            .on_disconnect([ended](auto&, std::error_code why) { ended->push_back(why); }));
    auto conn = co_await coronet::connect("127.0.0.1", server.local_endpoint().port(),
                                          coronet_test::quick_connect());
    const auto asked = std::chrono::steady_clock::now();
    const std::string echo = co_await coronet_test::ask(conn, "shutdown");
    CHECK(echo == "shutdown");  // Queued before the stop: still sent.
    for (int i = 0; i < 100 && server.connection_count() > 0; ++i)
      co_await sleep_for(10ms);
    CHECK(server.connection_count() == 0);
    CHECK(std::chrono::steady_clock::now() - asked < 1s);  // Not at the drain deadline.
    REQUIRE(ended->size() == 1);
    CHECK((*ended)[0] == asio::error::operation_aborted);
  });
}

namespace {

// "exit" ends the connection from on_message (returning false) after a goodbye.
template <bool Coroutine>
asio::awaitable<void> check_on_message_ends_connection(asio::io_context& io) {
  coronet::server_options options;
  options.host = "127.0.0.1";
  auto ended = std::make_shared<std::vector<std::error_code>>();
  auto handler = coronet::callbacks()
                     .on_message([](auto& conn, std::string_view line) {
                       if (line == "exit") {
                         conn.try_write("bye");
                         return false;
                       }
                       conn.try_write(line);
                       return true;
                     })
                     .on_disconnect([ended](auto&, std::error_code why) { ended->push_back(why); });
  STATIC_REQUIRE(coronet::detail::runs_without_coroutine<decltype(handler), tcp_connection>);
  tcp_server server{io, options};
  if constexpr (Coroutine) {
    server.serve<line_codec>(as_coroutine<decltype(handler)>{std::move(handler)});
  } else {
    server.serve<line_codec>(std::move(handler));
  }
  auto conn = co_await coronet::connect("127.0.0.1", server.local_endpoint().port(),
                                        coronet_test::quick_connect());
  const std::string echo = co_await coronet_test::ask(conn, "hi");
  CHECK(echo == "hi");
  // "exit" and a line behind it in the same write: the line is never answered.
  co_await conn.write("exit");
  co_await conn.write("unanswered");
  const std::string goodbye = co_await coronet_test::next_line(conn);
  CHECK(goodbye == "bye");
  auto after = co_await conn.read();
  CHECK(after.error() == asio::error::eof);  // Closed gracefully, after the goodbye.
  for (int i = 0; i < 100 && server.connection_count() > 0; ++i)
    co_await sleep_for(10ms);
  CHECK(server.connection_count() == 0);
  REQUIRE(ended->size() == 1);
  CHECK_FALSE((*ended)[0]);  // Ended by the handler, not by an error.
  server.stop();
}

}  // namespace

TEST_CASE("an on_message that returns false ends its connection after what it queued",
          "[server][reactive]") {
  SECTION("run without a coroutine") {
    run_async(check_on_message_ends_connection<false>);
  }
  SECTION("run as a coroutine") {
    run_async(check_on_message_ends_connection<true>);
  }
}
