// framed_connection on real TCP sockets while it waits for its peer: the readability wait an
// idle connection holds (a smaller one on a plain io_context, the socket's own elsewhere) must
// resume the reader where it runs, end at the idle timeout, and obey the reader's cancellation;
// and a reply written while more input is buffered, whose send waits for the handler to give up
// its turn (so the replies to one read leave in one write), must still leave on its own.
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <coronet/codec/line_codec.hpp>
#include <coronet/stream/framed_connection.hpp>
#include <exception>
#include <string>

#include "../support/async_test.hpp"
#include "../support/tcp_pair.hpp"

using namespace std::chrono_literals;
using asio::ip::tcp;
using coronet::line_codec;
using coronet_test::connect_tcp_pair;
using coronet_test::run_async;
using coronet_test::sleep_for;

namespace {

using tcp_line_connection = coronet::framed_connection<line_codec, tcp::socket>;

asio::awaitable<void> send_text(tcp::socket& socket, std::string text) {
  co_await asio::async_write(socket, asio::buffer(text), asio::use_awaitable);
}

}  // namespace

TEST_CASE("a socket connection on a strand resumes its reader on the strand after a wait") {
  asio::io_context io;
  auto strand = asio::make_strand(io);
  bool done = false;
  bool resumed_on_strand = false;
  std::string received;
  std::exception_ptr failure;
  asio::co_spawn(
      strand,
      [&]() -> asio::awaitable<void> {
        auto [served, peer] = co_await connect_tcp_pair(strand);
        tcp_line_connection conn{std::move(served)};
        asio::co_spawn(
            io,
            [&peer]() -> asio::awaitable<void> {
              co_await sleep_for(20ms);  // The reader waits for readability first.
              co_await send_text(peer, "after a wait\n");
            },
            asio::detached);
        const auto message = co_await conn.read();
        resumed_on_strand = strand.running_in_this_thread();
        if (message) received = std::string{*message};
      },
      [&](std::exception_ptr error) {
        done = true;
        failure = error;
      });
  io.run_for(10s);
  if (failure) std::rethrow_exception(failure);
  REQUIRE(done);
  CHECK(received == "after a wait");
  CHECK(resumed_on_strand);
}

TEST_CASE("socket connections reading on one thread each get their own messages") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [served_a, peer_a] = co_await connect_tcp_pair(io.get_executor());
    auto [served_b, peer_b] = co_await connect_tcp_pair(io.get_executor());
    tcp_line_connection a{std::move(served_a)};
    tcp_line_connection b{std::move(served_b)};
    std::string seen_a;
    std::string seen_b;
    int readers_done = 0;
    auto reader = [&readers_done](tcp_line_connection& conn,
                                  std::string& seen) -> asio::awaitable<void> {
      for (int n = 0; n < 3; ++n) {
        const auto message = co_await conn.read();
        if (!message) break;
        seen += std::string{*message} + ";";
      }
      ++readers_done;
    };
    asio::co_spawn(io, reader(a, seen_a), asio::detached);
    asio::co_spawn(io, reader(b, seen_b), asio::detached);
    for (int n = 0; n < 3; ++n) {
      co_await sleep_for(5ms);  // Both readers are waiting for their peers now.
      co_await send_text(peer_b, "b" + std::to_string(n) + "\n");
      co_await send_text(peer_a, "a" + std::to_string(n) + "\n");
    }
    for (int wait = 0; wait < 200 && readers_done < 2; ++wait)
      co_await sleep_for(5ms);
    CHECK(seen_a == "a0;a1;a2;");
    CHECK(seen_b == "b0;b1;b2;");
  });
}

TEST_CASE("a waiting socket read ends at idle_timeout with timed_out") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [served, peer] = co_await connect_tcp_pair(io.get_executor());
    coronet::connection_options options;
    options.idle_timeout = 50ms;
    tcp_line_connection conn{std::move(served), line_codec{}, options};
    const auto message = co_await conn.read();
    REQUIRE_FALSE(message);
    CHECK(message.error() == coronet::errc::timed_out);
    CHECK(conn.close_reason() == coronet::close_reason::idle_timeout);
  });
}

TEST_CASE("a waiting socket read ends with operation_aborted when its coroutine is cancelled") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [served, peer] = co_await connect_tcp_pair(io.get_executor());
    tcp_line_connection conn{std::move(served)};
    asio::cancellation_signal cancel;
    std::error_code ended;
    bool finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          const auto message = co_await conn.read();
          if (!message) ended = message.error();
          finished = true;
        },
        asio::bind_cancellation_slot(cancel.slot(), asio::detached));
    co_await sleep_for(20ms);
    REQUIRE_FALSE(finished);
    cancel.emit(asio::cancellation_type::terminal);
    for (int wait = 0; wait < 200 && !finished; ++wait)
      co_await sleep_for(5ms);
    REQUIRE(finished);
    CHECK(ended == asio::error::operation_aborted);
    // The connection goes on: the next message is read.
    co_await send_text(peer, "still here\n");
    const auto next = co_await conn.read();
    REQUIRE(next);
    CHECK(*next == "still here");
  });
}

// A peer that writes its last lines and closes at once often sends them and its FIN in one
// segment: the read that takes the lines returns less than it was offered, and the end of the
// stream is only seen by the read after it. The connection must not take that short read for
// "nothing more to come" and wait for an event that never comes (until the idle timeout).
TEST_CASE("a socket read sees the end of the stream queued right behind the last bytes") {
  for (const bool reader_waits_first : {false, true}) {
    run_async([reader_waits_first](asio::io_context& io) -> asio::awaitable<void> {
      auto [served, peer] = co_await connect_tcp_pair(io.get_executor());
      coronet::connection_options options;
      options.idle_timeout = 3s;  // Only a wrong wait would reach it.
      tcp_line_connection conn{std::move(served), line_codec{}, options};
      auto close_peer = [&peer]() -> asio::awaitable<void> {
        co_await send_text(peer, "one\ntwo\n");
        peer.shutdown(tcp::socket::shutdown_send);
      };
      if (reader_waits_first) {
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
              co_await sleep_for(20ms);  // The reader waits for readability first.
              co_await close_peer();
            },
            asio::detached);
      } else {
        co_await close_peer();
        co_await sleep_for(20ms);  // Lines and FIN are queued before the first read.
      }
      const auto started = std::chrono::steady_clock::now();
      const auto first = co_await conn.read();
      const auto second = co_await conn.read();
      const auto third = co_await conn.read();
      const auto took = std::chrono::steady_clock::now() - started;
      INFO("reader waits first: " << reader_waits_first);
      REQUIRE(first);
      CHECK(*first == "one");
      REQUIRE(second);
      CHECK(*second == "two");
      CHECK_FALSE(third);
      CHECK(conn.close_reason() == coronet::close_reason::peer_closed);
      CHECK(took < 1s);
    });
  }
}

namespace {

// What the peer has received within `wait` (at most 64 bytes), without blocking.
asio::awaitable<std::string> received_within(tcp::socket& peer, std::chrono::milliseconds wait) {
  co_await sleep_for(wait);
  std::string got(64, '\0');
  std::error_code error;
  peer.non_blocking(true);
  got.resize(peer.read_some(asio::buffer(got), error));
  co_return got;
}

}  // namespace

TEST_CASE("a reply written while more input is buffered leaves without another read") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [served, peer] = co_await connect_tcp_pair(io.get_executor());
    tcp_line_connection conn{std::move(served)};
    co_await send_text(peer, "a\nb\n");
    co_await sleep_for(20ms);  // Both lines are there for the first read.
    const auto first = co_await conn.read();
    REQUIRE(first);
    CHECK(*first == "a");
    const std::error_code write_error = co_await conn.write("A");
    CHECK_FALSE(write_error);
    // The handler now waits for something else, not for its next message.
    const std::string received = co_await received_within(peer, 100ms);
    CHECK(received == "A\n");
    const auto second = co_await conn.read();
    REQUIRE(second);
    CHECK(*second == "b");
  });
}

TEST_CASE("shutdown send right after a reply with more input buffered sends the reply first") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [served, peer] = co_await connect_tcp_pair(io.get_executor());
    tcp_line_connection conn{std::move(served)};
    co_await send_text(peer, "a\nb\n");
    co_await sleep_for(20ms);
    const auto first = co_await conn.read();
    REQUIRE(first);
    const std::error_code write_error = co_await conn.write("A");
    CHECK_FALSE(write_error);
    CHECK_FALSE(conn.shutdown(tcp::socket::shutdown_send));
    std::string got;
    auto [error, count] = co_await asio::async_read(
        peer, asio::dynamic_buffer(got), asio::experimental::as_tuple(asio::use_awaitable));
    CHECK(error == asio::error::eof);
    CHECK(got == "A\n");
  });
}
