// receive_more(): the wait of a handler that takes its messages with try_read(). Over a socket it
// holds no coroutine frame, so the steps of the read run as the wait's completions; these tests
// hold it to what read() guarantees: every message in order, the end, timeouts, cancellation, a
// reset, and a connection or io_context destroyed while it waits.
#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <coronet/codec/line_codec.hpp>
#include <coronet/stream/framed_connection.hpp>
#include <coronet/testing/memory_stream.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../support/async_test.hpp"
#include "../support/raw_bytes.hpp"
#include "../support/tcp_pair.hpp"

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
using coronet::errc;
using coronet::line_codec;
using coronet_test::run_async;
using coronet_test::sleep_for;

namespace {

using tcp_line_connection = coronet::framed_connection<line_codec, tcp::socket>;

// What a handler built on try_read() and receive_more() receives, until try_read() returns
// anything but a message or would_block; that error last, as "error: <message>".
template <typename Connection>
asio::awaitable<std::vector<std::string>> receive_all(Connection& conn) {
  std::vector<std::string> received;
  for (int waits = 0; waits < 1000; ++waits) {
    auto message = conn.try_read();
    for (; message; message = conn.try_read())
      received.emplace_back(*message);
    if (message.error() != asio::error::would_block) {
      received.push_back("error: " + message.error().message());
      co_return received;
    }
    co_await conn.receive_more();
  }
  received.emplace_back("gave up");
  co_return received;
}

// What receive_all() gets, run in the background as a server runs its handler.
using received_lines = std::optional<std::vector<std::string>>;

template <typename Connection>
void receive_in_background(const asio::any_io_executor& executor, Connection& conn,
                           received_lines& received) {
  asio::co_spawn(
      executor, [&]() -> asio::awaitable<void> { received = co_await receive_all(conn); },
      asio::detached);
}

// Waits up to a second for a background receiver (or anything else) to have finished.
template <typename Result>
asio::awaitable<void> until_set(const std::optional<Result>& result) {
  for (int i = 0; i < 200 && !result; ++i)
    co_await sleep_for(5ms);
}

asio::awaitable<void> send(tcp::socket& peer, std::string bytes) {
  co_await asio::async_write(peer, asio::buffer(bytes), asio::use_awaitable);
}

// receive_more() as an asio::awaitable, for the awaitable operators (|| and &&).
template <typename Connection>
asio::awaitable<void> more_of(Connection& conn) {
  co_await conn.receive_more();
}

const std::string eof_text = "error: " + make_error_code(asio::error::eof).message();

// receive_more() on a connection whose idle timeout is 100 ms: the wait ends then, try_read()
// reports it once, and the connection stays open, as after a read() that timed out.
template <typename Connection>
asio::awaitable<void> check_idle_timeout_ends_the_wait(Connection& conn) {
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(conn.try_read().error() == asio::error::would_block);
  co_await conn.receive_more();
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= 100ms);
  CHECK(waited < 2s);
  auto timed_out = conn.try_read();
  CHECK(timed_out.error() == errc::timed_out);
  CHECK(conn.close_reason() == coronet::close_reason::idle_timeout);
  CHECK(conn.try_read().error() == asio::error::would_block);
  CHECK(conn.is_open());
}

// receive_more() cancelled with its coroutine (the || operator's timer wins): try_read()
// reports operation_aborted once, and the connection stays open.
template <typename Connection>
asio::awaitable<void> check_cancelled_with_its_coroutine(Connection& conn) {
  REQUIRE(conn.try_read().error() == asio::error::would_block);
  const auto start = std::chrono::steady_clock::now();
  co_await (more_of(conn) || sleep_for(30ms));
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(conn.try_read().error() == asio::error::operation_aborted);
  CHECK(conn.is_open());
}

// A coroutine waiting in receive_more() on the connection `open(executor)` returns (with its
// peer, kept open) is destroyed with its io_context: the pending wait owns it, and destroying
// the io_context destroys its frame (and the connection in it). ASan reports a leak otherwise.
template <typename Open>
void check_destroyed_with_its_io_context(Open open) {
  bool destroyed = false;
  struct on_destroy {
    bool* flag;
    ~on_destroy() { *flag = true; }
  };
  {
    asio::io_context io;
    bool waiting = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          const on_destroy guard{&destroyed};
          auto [conn, peer] = co_await open(co_await asio::this_coro::executor);
          waiting = true;
          co_await conn.receive_more();
        },
        asio::detached);
    io.run_for(200ms);
    REQUIRE(waiting);
    CHECK(!destroyed);
  }
  CHECK(destroyed);
}

using memory_line_connection =
    coronet::framed_connection<line_codec, coronet::testing::memory_stream>;

}  // namespace

TEST_CASE("receive_more over TCP: every message in order, split anywhere, then the end") {
  run_async([](asio::io_context&) -> asio::awaitable<void> {
    const auto executor = co_await asio::this_coro::executor;
    auto [served, peer] = co_await coronet_test::connect_tcp_pair(executor);
    tcp_line_connection conn{std::move(served)};

    received_lines received;
    receive_in_background(executor, conn, received);
    co_await sleep_for(20ms);  // The handler now waits in receive_more.
    co_await send(peer, "one\ntw");
    co_await sleep_for(10ms);
    co_await send(peer, "o\nthree\nfour\n");
    co_await sleep_for(10ms);
    co_await send(peer, "last, unterminated");
    peer.shutdown(tcp::socket::shutdown_send);
    co_await until_set(received);
    REQUIRE(received);
    CHECK(*received ==
          std::vector<std::string>{"one", "two", "three", "four", "last, unterminated", eof_text});
  });
}

TEST_CASE("try_read over TCP takes bytes that have arrived, without waiting") {
  run_async([](asio::io_context&) -> asio::awaitable<void> {
    const auto executor = co_await asio::this_coro::executor;
    auto [served, peer] = co_await coronet_test::connect_tcp_pair(executor);
    tcp_line_connection conn{std::move(served)};

    CHECK(conn.try_read().error() == asio::error::would_block);
    co_await send(peer, "here\nand here\n");
    co_await sleep_for(20ms);  // Loopback: the bytes are in the socket now.
    // No co_await on the connection between these: the socket is read without waiting.
    auto first = conn.try_read();
    auto second = conn.try_read();
    auto none = conn.try_read();
    REQUIRE(first);
    CHECK(*first == "here");
    REQUIRE(second);
    CHECK(*second == "and here");
    CHECK(none.error() == asio::error::would_block);
  });
}

TEST_CASE("receive_more ends at the idle timeout and try_read reports it once") {
  run_async([](asio::io_context&) -> asio::awaitable<void> {
    const auto executor = co_await asio::this_coro::executor;
    auto [served, peer] = co_await coronet_test::connect_tcp_pair(executor);
    coronet::connection_options options;
    options.idle_timeout = 100ms;
    tcp_line_connection conn{std::move(served), line_codec{}, options};
    co_await check_idle_timeout_ends_the_wait(conn);
  });
}

TEST_CASE("receive_more is cancelled with its coroutine, and reading goes on afterwards") {
  run_async([](asio::io_context&) -> asio::awaitable<void> {
    const auto executor = co_await asio::this_coro::executor;
    auto [served, peer] = co_await coronet_test::connect_tcp_pair(executor);
    tcp_line_connection conn{std::move(served)};
    co_await check_cancelled_with_its_coroutine(conn);

    co_await send(peer, "after\n");
    const std::vector<std::string> expected{"after", eof_text};
    peer.shutdown(tcp::socket::shutdown_send);
    const auto received = co_await receive_all(conn);
    CHECK(received == expected);
  });
}

TEST_CASE("receive_more ends when the peer resets, and try_read says so") {
  run_async([](asio::io_context&) -> asio::awaitable<void> {
    const auto executor = co_await asio::this_coro::executor;
    auto [served, peer] = co_await coronet_test::connect_tcp_pair(executor);
    tcp_line_connection conn{std::move(served)};

    received_lines received;
    receive_in_background(executor, conn, received);
    co_await send(peer, "before the reset\n");
    co_await sleep_for(20ms);
    peer.set_option(asio::socket_base::linger{true, 0});
    peer.close();  // RST
    co_await until_set(received);
    REQUIRE(received);
    REQUIRE(received->size() == 2);
    CHECK((*received)[0] == "before the reset");
    CHECK((*received)[1] == "error: " + make_error_code(asio::error::connection_reset).message());
    CHECK(!conn.is_open());
    CHECK(conn.close_reason() == coronet::close_reason::reset);
  });
}

TEST_CASE("a connection destroyed while receive_more waits resumes its waiter") {
  run_async([](asio::io_context&) -> asio::awaitable<void> {
    const auto executor = co_await asio::this_coro::executor;
    auto [served, peer] = co_await coronet_test::connect_tcp_pair(executor);
    auto conn = std::make_unique<tcp_line_connection>(std::move(served));

    std::optional<bool> resumed;
    asio::co_spawn(
        executor,
        [&, waiting = conn.get()]() -> asio::awaitable<void> {
          co_await waiting->receive_more();
          resumed = true;  // `waiting` is gone: nothing else may touch it.
        },
        asio::detached);
    co_await sleep_for(20ms);
    REQUIRE(!resumed);
    conn.reset();
    co_await until_set(resumed);
    CHECK(resumed);
  });
}

TEST_CASE("a coroutine waiting in receive_more is destroyed with its io_context") {
  check_destroyed_with_its_io_context(
      [](auto executor) -> asio::awaitable<std::pair<tcp_line_connection, tcp::socket>> {
        auto [served, peer] = co_await coronet_test::connect_tcp_pair(executor);
        co_return std::pair{tcp_line_connection{std::move(served)}, std::move(peer)};
      });
}

TEST_CASE("receive_more on a strand: the wait resumes the coroutine on its strand") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    const auto strand = asio::make_strand(io);
    auto [served, peer] = co_await coronet_test::connect_tcp_pair(strand);
    tcp_line_connection conn{std::move(served)};

    std::optional<std::vector<std::string>> received;
    bool on_strand = true;
    asio::co_spawn(
        strand,
        [&]() -> asio::awaitable<void> {
          std::vector<std::string> got;
          for (int waits = 0; waits < 100; ++waits) {
            auto message = conn.try_read();
            for (; message; message = conn.try_read())
              got.emplace_back(*message);
            if (message.error() != asio::error::would_block) break;
            co_await conn.receive_more();
            on_strand = on_strand && strand.running_in_this_thread();
          }
          received = std::move(got);
        },
        asio::detached);
    co_await sleep_for(20ms);
    co_await send(peer, "x\ny\n");
    peer.shutdown(tcp::socket::shutdown_send);
    co_await until_set(received);
    REQUIRE(received);
    CHECK(*received == std::vector<std::string>{"x", "y"});
    CHECK(on_strand);
  });
}

TEST_CASE("receive_more while a read() waits returns at once and try_read says already_started") {
  run_async([](asio::io_context&) -> asio::awaitable<void> {
    const auto executor = co_await asio::this_coro::executor;
    auto [served, peer] = co_await coronet_test::connect_tcp_pair(executor);
    tcp_line_connection conn{std::move(served)};

    std::optional<std::string> read_line;
    asio::co_spawn(
        executor,
        [&]() -> asio::awaitable<void> {
          auto line = co_await conn.read();
          read_line = line ? std::string{*line} : "error";
        },
        asio::detached);
    co_await sleep_for(20ms);
    co_await conn.receive_more();
    CHECK(conn.try_read().error() == asio::error::already_started);

    co_await send(peer, "to the read\n");
    co_await until_set(read_line);
    CHECK(read_line == "to the read");
  });
}

TEST_CASE("receive_more over a stream that is not a socket (the in-memory stream)") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [local, peer] = coronet::testing::make_memory_stream_pair(io.get_executor());
    coronet::framed_connection<line_codec, coronet::testing::memory_stream> conn{std::move(local)};
    received_lines received;
    receive_in_background(io.get_executor(), conn, received);
    co_await sleep_for(10ms);
    co_await coronet_test::send_raw(peer, "a\nb");
    co_await sleep_for(10ms);
    co_await coronet_test::send_raw(peer, "\nc\n");
    peer.close();
    co_await until_set(received);
    REQUIRE(received);
    REQUIRE(received->size() == 4);
    CHECK((*received)[0] == "a");
    CHECK((*received)[1] == "b");
    CHECK((*received)[2] == "c");
    CHECK((*received)[3].rfind("error: ", 0) == 0);
  });
}

// The in-memory stream is read through its async_read_some, as TLS is: the same guarantees.
TEST_CASE("receive_more over the in-memory stream: timeout, cancellation, teardown") {
  SECTION("the idle timeout ends the wait, and try_read reports it once") {
    run_async([](asio::io_context& io) -> asio::awaitable<void> {
      auto [local, peer] = coronet::testing::make_memory_stream_pair(io.get_executor());
      coronet::connection_options options;
      options.idle_timeout = 100ms;
      memory_line_connection conn{std::move(local), line_codec{}, options};
      co_await check_idle_timeout_ends_the_wait(conn);
    });
  }
  SECTION("the wait is cancelled with its coroutine, and reading goes on afterwards") {
    run_async([](asio::io_context& io) -> asio::awaitable<void> {
      auto [local, peer] = coronet::testing::make_memory_stream_pair(io.get_executor());
      memory_line_connection conn{std::move(local)};
      co_await check_cancelled_with_its_coroutine(conn);
      co_await coronet_test::send_raw(peer, "after\n");
      peer.close();
      const auto received = co_await receive_all(conn);
      REQUIRE(received.size() == 2);
      CHECK(received[0] == "after");
      CHECK(received[1].rfind("error: ", 0) == 0);
    });
  }
  SECTION("a coroutine waiting is destroyed with its io_context") {
    check_destroyed_with_its_io_context(
        [](auto executor)
            -> asio::awaitable<std::pair<memory_line_connection, coronet::testing::memory_stream>> {
          auto [local, peer] = coronet::testing::make_memory_stream_pair(executor);
          co_return std::pair{memory_line_connection{std::move(local)}, std::move(peer)};
        });
  }
}
