// try_read() and has_room(): the rest of a burst taken and answered without suspending. try_read()
// returns what read() would return from the bytes already received, and reads only a socket
// (without waiting: see receive_more_test.cpp), never another stream; has_room() says whether
// write() would queue at once. A handler that relies on them must get
// the same messages, errors and replies, in the same order, as one that co_awaits every call.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <coronet/codec/line_codec.hpp>
#include <coronet/codec/websocket_codec.hpp>
#include <coronet/endpoint/callback_handler.hpp>
#include <coronet/stream/framed_connection.hpp>
#include <coronet/stream/websocket_connection.hpp>
#include <coronet/testing/memory_stream.hpp>
#include <optional>
#include <string>
#include <utility>

#include "../support/async_test.hpp"
#include "../support/raw_bytes.hpp"
#include "../support/tcp_pair.hpp"

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
using coronet::errc;
using coronet::line_codec;
using coronet::websocket_codec;
using coronet::websocket_codec_options;
using coronet::websocket_message;
using coronet::websocket_owned_message;
using coronet::websocket_role;
using coronet::testing::make_memory_stream_pair;
using coronet::testing::memory_stream;
using coronet_test::read_raw;
using coronet_test::run_async;
using coronet_test::send_raw;
using coronet_test::sleep_for;

namespace {

using line_connection = coronet::framed_connection<line_codec, memory_stream>;

std::pair<line_connection, memory_stream> make_pair(asio::io_context& io,
                                                    coronet::connection_options options = {}) {
  auto [local, peer] = make_memory_stream_pair(io.get_executor());
  return {line_connection{std::move(local), line_codec{}, options}, std::move(peer)};
}

bool would_block(const coronet::read_result<std::string_view>& result) {
  return !result && result.error() == asio::error::would_block;
}

}  // namespace

TEST_CASE(
    "try_read takes what a read left buffered and never reads a stream that is not a socket") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io);
    co_await send_raw(peer, "a\nb\nc\n");
    // The bytes are in the stream, not yet received: only read() receives.
    CHECK(would_block(conn.try_read()));

    auto first = co_await conn.read();
    REQUIRE(first);
    CHECK(*first == "a");
    auto second = conn.try_read();
    REQUIRE(second);
    CHECK(*second == "b");
    auto third = conn.try_read();
    REQUIRE(third);
    CHECK(*third == "c");
    CHECK(would_block(conn.try_read()));

    co_await send_raw(peer, "d\n");
    CHECK(would_block(conn.try_read()));
    auto fourth = co_await conn.read();
    REQUIRE(fourth);
    CHECK(*fourth == "d");
  });
}

TEST_CASE("try_read keeps a partial message for the read that completes it") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io);
    co_await send_raw(peer, "whole\npart");
    auto whole = co_await conn.read();
    REQUIRE(whole);
    CHECK(*whole == "whole");
    CHECK(would_block(conn.try_read()));
    CHECK(would_block(conn.try_read()));
    co_await send_raw(peer, "ial\n");
    auto completed = co_await conn.read();
    REQUIRE(completed);
    CHECK(*completed == "partial");
  });
}

TEST_CASE("try_read reports the end of the stream once a read has seen it") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io);
    co_await send_raw(peer, "last\n");
    peer.close();
    auto last = co_await conn.read();
    REQUIRE(last);
    CHECK(*last == "last");
    // The end is in the stream, but nothing has read it yet.
    CHECK(would_block(conn.try_read()));
    auto end = co_await conn.read();
    CHECK(end.at_end());
    auto after = conn.try_read();
    CHECK(after.at_end());
  });
}

TEST_CASE("try_read reports a recoverable decode error in its place and goes on") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    coronet::connection_options options;
    options.decode_errors = coronet::decode_error_policy::report;
    auto [conn, peer] = make_pair(io, options);
    co_await send_raw(peer, "ok\n\xFF\nnext\n");
    auto ok = co_await conn.read();
    REQUIRE(ok);
    CHECK(*ok == "ok");
    auto bad = conn.try_read();
    CHECK(!bad);
    CHECK(bad.error() == errc::invalid_utf8);
    CHECK(bad.recoverable());
    auto next = conn.try_read();
    REQUIRE(next);
    CHECK(*next == "next");
  });
}

TEST_CASE("a burst answered with try_read and try_write replies in order, errors included") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io);  // decode_error_policy::reply: the connection answers.
    co_await send_raw(peer, "one\n\xFF\ntwo\nthree\n");
    int answered = 0;
    auto message = co_await conn.read();
    while (message) {
      CHECK(conn.has_room());
      CHECK(!conn.try_write(*message));
      ++answered;
      message = conn.try_read();
    }
    CHECK(message.error() == asio::error::would_block);
    CHECK(answered == 3);
    const std::string expected =
        "one\nerror: invalid UTF-8 (byte that never occurs in UTF-8 (C0, C1, "
        "F5..FF))\ntwo\nthree\n";
    const std::string replies = co_await read_raw(peer, expected.size());
    CHECK(replies == expected);
  });
}

TEST_CASE("try_read while a read waits says already_started and leaves the read alone") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    const auto executor = co_await asio::this_coro::executor;
    auto [served, peer] = co_await coronet_test::connect_tcp_pair(executor);
    coronet::framed_connection<line_codec, tcp::socket> conn{std::move(served)};

    std::optional<std::string> received;
    asio::co_spawn(
        executor,
        [&]() -> asio::awaitable<void> {
          auto line = co_await conn.read();
          received = line ? std::string{*line} : "error: " + line.error().message();
        },
        asio::detached);
    co_await sleep_for(20ms);  // The read now waits for the peer.
    REQUIRE(!received);
    auto refused = conn.try_read();
    CHECK(!refused);
    CHECK(refused.error() == asio::error::already_started);

    const std::string line = "arrives\n";
    co_await asio::async_write(peer, asio::buffer(line), asio::use_awaitable);
    for (int i = 0; i < 200 && !received; ++i)
      co_await sleep_for(5ms);
    REQUIRE(received);
    CHECK(*received == "arrives");
    CHECK(conn.try_read().error() == asio::error::would_block);
  });
}

TEST_CASE("try_read on a closed connection returns why, as read does") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io);
    conn.close();
    auto closed = conn.try_read();
    CHECK(!closed);
    CHECK(closed.error() == errc::connection_closed);
    auto read = co_await conn.read();
    CHECK(read.error() == closed.error());
  });
}

TEST_CASE("has_room is false exactly when write would wait for the peer") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    coronet::connection_options options;
    options.send_queue_limit = 64;
    auto [local, peer] = make_memory_stream_pair(io.get_executor(), 16);
    line_connection conn{std::move(local), line_codec{}, options};
    const std::string line(20, 'x');
    int queued = 0;
    while (conn.has_room() && queued < 1000) {
      REQUIRE(!conn.try_write(line));
      ++queued;
    }
    REQUIRE(!conn.has_room());
    CHECK(queued < 1000);

    // write() now waits (send_queue_policy::wait) until the peer reads.
    bool written = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          const auto error = co_await conn.write(line);
          CHECK(!error);
          written = true;
        },
        asio::detached);
    co_await sleep_for(30ms);
    CHECK(!written);
    CHECK(!conn.has_room());

    const std::size_t total = (queued + 1) * (line.size() + 1);
    const std::string all = co_await read_raw(peer, total);
    CHECK(all.size() == total);
    for (int i = 0; i < 200 && !written; ++i)
      co_await sleep_for(5ms);
    CHECK(written);
    CHECK(conn.has_room());
  });
}

TEST_CASE("websocket try_read answers control frames and returns the next text message") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [local, remote] = make_memory_stream_pair(io.get_executor());
    coronet::websocket_connection<memory_stream> ws{std::move(local), {}};
    const websocket_codec client{websocket_codec_options{.role = websocket_role::client}};
    std::string frames;
    REQUIRE(!client.encode(websocket_message::text("first"), frames));
    REQUIRE(!client.encode(websocket_message::ping("still there"), frames));
    REQUIRE(!client.encode(websocket_message::text("second"), frames));
    co_await send_raw(remote, frames);

    auto first = co_await ws.read();
    REQUIRE(first);
    CHECK(*first == "first");
    auto second = ws.try_read();
    REQUIRE(second);
    CHECK(*second == "second");
    CHECK(ws.try_read().error() == asio::error::would_block);
    CHECK(ws.has_room());

    // The ping was answered on the way.
    co_await ws.flush();
    websocket_codec reader{websocket_codec_options{.role = websocket_role::client}};
    std::string received = co_await read_raw(remote, 2 + std::string_view{"still there"}.size());
    auto pong = reader.decode(received);
    REQUIRE(pong.has_message());
    CHECK(websocket_owned_message{pong.message()} ==
          websocket_owned_message{websocket_message::pong("still there")});
  });
}

TEST_CASE("the callback form hands over a burst in order, decode errors in their place") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io);
    co_await send_raw(peer, "a\n\xFF\nb\n");
    co_await send_raw(peer, "c\n");
    peer.close();
    std::string events;
    std::error_code ended;
    auto handler =
        coronet::callbacks()
            .on_message([&](auto&, std::string_view line) { events += std::string{line} + ";"; })
            .on_error([&](auto&, std::error_code error, std::string_view) {
              events += error == errc::invalid_utf8 ? "bad;" : "other;";
            })
            .on_disconnect([&](auto&, std::error_code why) { ended = why; });
    co_await handler(conn);
    CHECK(events == "a;bad;b;c;");
    CHECK(ended == asio::error::eof);
  });
}
