// framed_connection on the in-memory test stream: reads, writes, errors, timeouts, cancellation
// and the send-queue policies.
#include <algorithm>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <coronet/codec.hpp>
#include <coronet/stream/framed_connection.hpp>
#include <coronet/testing/memory_stream.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "../support/async_test.hpp"
#include "../support/raw_bytes.hpp"

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using coronet::connection_options;
using coronet::errc;
using coronet::line_codec;
using coronet::testing::make_memory_stream_pair;
using coronet::testing::memory_stream;
using coronet_test::read_raw;
using coronet_test::run_async;
using coronet_test::send_raw;
using coronet_test::sleep_for;

namespace {

using line_connection = coronet::framed_connection<line_codec, memory_stream>;

struct connected_pair {
  line_connection local;
  memory_stream peer;
};

connected_pair make_pair(asio::io_context& io, connection_options options = {},
                         std::size_t pipe_capacity = 64 * 1024) {
  auto [a, b] = make_memory_stream_pair(io.get_executor(), pipe_capacity);
  return {line_connection{std::move(a), line_codec{}, options}, std::move(b)};
}

}  // namespace

TEST_CASE("framed connection reads the lines a peer sends, then end of stream") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io);
    co_await send_raw(peer, "hello\r\n你好\nlast");
    peer.close();
    auto first = co_await conn.read();
    REQUIRE(first);
    CHECK(*first == "hello");
    auto second = co_await conn.read();
    REQUIRE(second);
    CHECK(*second == "你好");
    auto last = co_await conn.read();
    REQUIRE(last);
    CHECK(*last == "last");
    auto end = co_await conn.read();
    CHECK_FALSE(end);
    CHECK(end.at_end());
    auto still_end = co_await conn.read();
    CHECK(still_end.at_end());
  });
}

TEST_CASE("framed connection writes whole lines in order, from several coroutines") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io);
    for (int i = 0; i < 100; ++i)
      REQUIRE_FALSE(conn.try_write("line " + std::to_string(i)));
    const std::error_code write_error = co_await conn.write("done");
    REQUIRE_FALSE(write_error);
    const std::error_code flush_error = co_await conn.flush();
    REQUIRE_FALSE(flush_error);
    CHECK(conn.queued_bytes() == 0);
    std::string expected;
    for (int i = 0; i < 100; ++i)
      expected += "line " + std::to_string(i) + "\n";
    expected += "done\n";
    const std::string received = co_await read_raw(peer, expected.size());
    CHECK(received == expected);
  });
}

TEST_CASE("framed connection reports a bad line and goes on reading") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io, {.decode_errors = coronet::decode_error_policy::report});
    co_await send_raw(peer, "ok\n\xC0\xAF\nnext\n");
    auto ok = co_await conn.read();
    CHECK(*ok == "ok");
    auto bad = co_await conn.read();
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == errc::invalid_utf8);
    CHECK(bad.recoverable());
    CHECK_FALSE(bad.reason().empty());
    auto next = co_await conn.read();
    REQUIRE(next);
    CHECK(*next == "next");
  });
}

TEST_CASE("the README's read loop survives a bad line: the connection answers it and reads on") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    // Default options (decode_error_policy::reply); a pipe that holds the whole input.
    auto [conn, peer] = make_pair(io, {}, 256 * 1024);
    co_await send_raw(peer, "ok\n\xC0\xAF\n" + std::string(70 * 1024, 'x') + "\nnext\nexit\n");
    std::vector<std::string> served;
    while (auto line = co_await conn.read()) {
      if (*line == "exit") break;
      served.emplace_back(*line);
      co_await conn.write(*line);
    }
    CHECK(served == std::vector<std::string>{"ok", "next"});
    co_await conn.flush();
    std::string received;
    while (!received.ends_with("next\n") && received.size() < 1000) {
      char buffer[256];
      const std::size_t count =
          co_await peer.async_read_some(asio::buffer(buffer), asio::use_awaitable);
      received.append(buffer, count);
    }
    CHECK(received.starts_with("ok\nerror: invalid UTF-8 ("));
    CHECK(
        received.ends_with(")\nerror: frame too long (line longer than max_line_length)\nnext\n"));
    CHECK(std::count(received.begin(), received.end(), '\n') == 4);
  });
}

TEST_CASE("decode_error_policy::skip drops a bad line silently and reads on") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io, {.decode_errors = coronet::decode_error_policy::skip});
    co_await send_raw(peer, "\xFF\nnext\n");
    auto next = co_await conn.read();
    REQUIRE(next);
    CHECK(*next == "next");
    CHECK(conn.queued_bytes() == 0);  // Nothing was answered.
  });
}

TEST_CASE("framed connection refuses to send a line the codec cannot frame") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io);
    const std::error_code two_lines = co_await conn.write("two\nlines");
    CHECK(two_lines == errc::delimiter_in_message);
    const std::error_code not_text = co_await conn.write("\xFF");
    CHECK(not_text == errc::invalid_utf8);
    CHECK(conn.queued_bytes() == 0);
    CHECK(conn.is_open());
  });
}

TEST_CASE("framed connection ends reading for good after an unrecoverable codec error") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [a, b] = make_memory_stream_pair(io.get_executor());
    coronet::framed_connection conn{std::move(a),
                                    coronet::length_prefixed_codec{{.max_frame_length = 4}}};
    co_await send_raw(b, std::string("\x00\x00\x00\x09", 4) + "too long!");
    auto bad = co_await conn.read();
    CHECK(bad.error() == errc::frame_too_long);
    CHECK_FALSE(bad.recoverable());
    CHECK_FALSE(conn.is_open());
    auto again = co_await conn.read();
    CHECK(again.error() == errc::frame_too_long);
  });
}

TEST_CASE("framed connection reports a peer that resets mid-frame") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io);
    co_await send_raw(peer, "half a li");
    peer.reset();
    auto result = co_await conn.read();
    CHECK(result.error() == asio::error::connection_reset);
  });
}

TEST_CASE("framed connection times out a silent peer after idle_timeout") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io, {.idle_timeout = 50ms});
    const auto start = std::chrono::steady_clock::now();
    auto result = co_await conn.read();
    CHECK(result.error() == errc::timed_out);
    CHECK(std::chrono::steady_clock::now() - start >= 50ms);
    // The connection stays usable: a line that arrives later is still read.
    co_await send_raw(peer, "late\n");
    auto late = co_await conn.read();
    REQUIRE(late);
    CHECK(*late == "late");
  });
}

TEST_CASE("framed connection read_timeout bounds a peer that trickles bytes") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io, {.idle_timeout = 0ms, .read_timeout = 200ms});
    auto trickle = [&peer]() -> asio::awaitable<void> {
      for (int i = 0; i < 10; ++i) {
        co_await send_raw(peer, "x");
        co_await sleep_for(50ms);
      }
    };
    auto result = co_await (conn.read() && trickle());
    CHECK(result.error() == errc::timed_out);
  });
}

TEST_CASE("framed connection read_timeout counts from a message's first byte, not silence") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    // A chat member waits quietly in read() for longer than read_timeout: that is not a
    // trickle, and only the idle timeout may end it.
    auto [conn, peer] = make_pair(io, {.idle_timeout = 0ms, .read_timeout = 100ms});
    auto speak_late = [&peer]() -> asio::awaitable<void> {
      co_await sleep_for(300ms);
      co_await send_raw(peer, "after a long silence\n");
    };
    auto line = co_await (conn.read() && speak_late());
    REQUIRE(line);
    CHECK(*line == "after a long silence");
    // The start of the next message is buffered already: its clock starts with the read() call,
    // and a message that then stalls times out.
    co_await send_raw(peer, "one\ntw");
    auto one = co_await conn.read();
    REQUIRE(one);
    CHECK(*one == "one");
    const auto start = std::chrono::steady_clock::now();
    auto stalled = co_await conn.read();
    CHECK(stalled.error() == errc::timed_out);
    const auto waited = std::chrono::steady_clock::now() - start;
    CHECK(waited >= 100ms);
    CHECK(waited < 250ms);
  });
}

TEST_CASE("framed connection read can be cancelled and the connection goes on") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io);
    auto raced = co_await (conn.read() || sleep_for(20ms));
    CHECK(raced.index() == 1);
    co_await send_raw(peer, "after\n");
    auto after = co_await conn.read();
    REQUIRE(after);
    CHECK(*after == "after");
  });
}

TEST_CASE("send queue policy drop refuses messages past the limit and keeps the connection") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    // The peer never reads and its pipe holds 1 KiB, so the queue fills.
    auto [conn, peer] = make_pair(
        io, {.send_queue_limit = 4096, .queue_policy = coronet::send_queue_policy::drop}, 1024);
    const std::string line(99, 'd');
    int queued = 0;
    int dropped = 0;
    for (int i = 0; i < 1000; ++i) {
      const std::error_code error = co_await conn.write(line);
      if (!error) ++queued;
      if (error == errc::send_queue_full) ++dropped;
      CHECK(conn.queued_bytes() <= 4096 + 100);
    }
    CHECK(queued > 0);
    CHECK(dropped > 0);
    CHECK(queued + dropped == 1000);
    CHECK(conn.is_open());
  });
}

TEST_CASE("send queue policy disconnect drops a slow consumer") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(
        io, {.send_queue_limit = 4096, .queue_policy = coronet::send_queue_policy::disconnect},
        1024);
    std::error_code error;
    for (int i = 0; i < 1000 && !error; ++i)
      error = co_await conn.write(std::string(99, 'x'));
    CHECK(error == errc::slow_consumer);
    CHECK_FALSE(conn.is_open());
    auto after = co_await conn.read();
    CHECK(after.error() == errc::slow_consumer);
  });
}

TEST_CASE("the send queue limit counts only bytes not yet handed to the stream") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    // The peer's pipe takes 1,000 bytes at a time, so a 3,000-byte batch goes out in parts.
    // What the peer has already read must not count against the limit: a reader that keeps up
    // is not a slow consumer (the chat soak found it disconnected under load).
    auto [conn, peer] = make_pair(
        io, {.send_queue_limit = 4096, .queue_policy = coronet::send_queue_policy::disconnect},
        1000);
    const std::error_code first = co_await conn.write(std::string(2999, 'a'));
    CHECK(!first);
    const std::string part = co_await read_raw(peer, 1500);
    CHECK(part == std::string(1500, 'a'));
    co_await sleep_for(10ms);  // The writer refills the pipe: 2,500 bytes handed over.
    CHECK(conn.queued_bytes() == 500);
    const std::error_code second = co_await conn.write(std::string(3499, 'b'));  // 4,000 queued
    CHECK(!second);
    const std::error_code third = co_await conn.write("c");
    CHECK(!third);
    CHECK(conn.is_open());
  });
}

TEST_CASE("send queue policy wait suspends the writer until the peer reads") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io, {.send_queue_limit = 4096}, 1024);
    const std::string line(99, 'w');
    auto writer = [&]() -> asio::awaitable<int> {
      int written = 0;
      for (int i = 0; i < 500; ++i) {
        if (co_await conn.write(line)) break;
        CHECK(conn.queued_bytes() <= 4096 + 100);
        ++written;
      }
      co_await conn.flush();
      co_return written;
    };
    auto reader = [&]() -> asio::awaitable<std::string> {
      co_await sleep_for(50ms);  // Let the queue fill first.
      co_return co_await read_raw(peer, 500 * 100);
    };
    auto [written, received] = co_await (writer() && reader());
    CHECK(written == 500);
    CHECK(received.size() == 500 * 100);
    CHECK(received.substr(0, 100) == line + "\n");
  });
}

TEST_CASE("send queue policy wait gives up after write_timeout when the peer never reads") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io, {.write_timeout = 100ms, .send_queue_limit = 4096}, 1024);
    std::error_code error;
    for (int i = 0; i < 1000 && !error; ++i)
      error = co_await conn.write(std::string(99, 'x'));
    CHECK(error == errc::timed_out);
    CHECK_FALSE(conn.is_open());
  });
}

TEST_CASE("framed connection close_gracefully delivers what is queued, then end of stream") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io);
    for (int i = 0; i < 10; ++i)
      conn.try_write("bye " + std::to_string(i));
    co_await conn.close_gracefully(1s);
    std::string all;
    char chunk[256];
    while (true) {
      auto [error, count] = co_await peer.async_read_some(
          asio::buffer(chunk), asio::experimental::as_tuple(asio::use_awaitable));
      all.append(chunk, count);
      if (error) {
        CHECK(error == asio::error::eof);
        break;
      }
    }
    CHECK(all.starts_with("bye 0\n"));
    CHECK(all.ends_with("bye 9\n"));
  });
}

TEST_CASE("framed connection recv_into returns buffered raw bytes, then reads the stream") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io);
    co_await send_raw(peer, "header\nraw body");
    auto header = co_await conn.read();
    CHECK(*header == "header");
    char body[64];
    auto [error, count] = co_await conn.recv_into(body);
    REQUIRE_FALSE(error);
    CHECK(std::string_view(body, count) == "raw body");
    co_await send_raw(peer, "more");
    auto [error2, count2] = co_await conn.recv_into(body);
    REQUIRE_FALSE(error2);
    CHECK(std::string_view(body, count2) == "more");
  });
}

namespace {

// A line codec without reset(): the connection keeps a fresh copy to restore instead.
struct line_codec_without_reset {
  using message_type = std::string_view;
  coronet::decode_result<std::string_view> decode(std::string_view bytes) {
    return lines.decode(bytes);
  }
  coronet::decode_result<std::string_view> decode_eof(std::string_view bytes) {
    return lines.decode_eof(bytes);
  }
  std::error_code encode(std::string_view line, std::string& out) const {
    return lines.encode(line, out);
  }
  line_codec lines{coronet::line_codec_options{.max_line_length = 8}};
};
static_assert(!coronet::resettable_codec<line_codec_without_reset>);
static_assert(coronet::resettable_codec<line_codec>);

// An over-long line leaves the codec dropping input up to the next '\n'; raw bytes taken by
// recv_into must end that, or the next line would be dropped too.
template <typename Codec>
asio::awaitable<void> check_recv_into_resets_decoding(asio::io_context& io, Codec codec) {
  auto [a, peer] = make_memory_stream_pair(io.get_executor(), 64 * 1024);
  coronet::framed_connection<Codec, memory_stream> conn{
      std::move(a), std::move(codec), {.decode_errors = coronet::decode_error_policy::report}};
  co_await send_raw(peer, "far too long for the limit");
  auto too_long = co_await conn.read();
  CHECK(too_long.error() == errc::frame_too_long);
  co_await send_raw(peer, "raw");
  char raw[16];
  auto [error, count] = co_await conn.recv_into(raw);
  REQUIRE_FALSE(error);
  CHECK(std::string_view(raw, count) == "raw");
  co_await send_raw(peer, "next\n");
  auto next = co_await conn.read();
  REQUIRE(next);
  CHECK(*next == "next");
}

}  // namespace

TEST_CASE(
    "framed connection recv_into returns the codec to a fresh state, with or without "
    "a reset() of its own") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    co_await check_recv_into_resets_decoding(
        io, line_codec{coronet::line_codec_options{.max_line_length = 8}});
    co_await check_recv_into_resets_decoding(io, line_codec_without_reset{});
  });
}

TEST_CASE("framed connection send_file sends a file's bytes between queued messages") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair(io);
    std::FILE* file = std::tmpfile();
    REQUIRE(file != nullptr);
    std::string contents(200 * 1024, '\0');
    for (std::size_t i = 0; i < contents.size(); ++i)
      contents[i] = static_cast<char>('a' + i % 26);
    REQUIRE(std::fwrite(contents.data(), 1, contents.size(), file) == contents.size());
    std::fflush(file);

    conn.try_write("before");
    auto sender = [&]() -> asio::awaitable<std::error_code> {
      const std::error_code error =
          co_await conn.send_file(::fileno(file), 10, contents.size() - 10);
      conn.try_write("after");
      co_await conn.flush();
      co_return error;
    };
    const std::size_t expected_size = 7 + contents.size() - 10 + 6;
    auto [error, received] = co_await (sender() && read_raw(peer, expected_size));
    CHECK_FALSE(error);
    CHECK(received == "before\n" + contents.substr(10) + "after\n");
    std::fclose(file);
  });
}

TEST_CASE("destroying a connection ends its suspended writers and readers with an error") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [a, peer] = make_memory_stream_pair(io.get_executor(), 16);
    auto conn = std::make_unique<line_connection>(std::move(a), line_codec{},
                                                  connection_options{.send_queue_limit = 16});
    conn->try_write(std::string(64, 'x'));  // Fills the queue: the next write() waits.
    std::error_code write_error;
    bool read_done = false;
    auto waiting_writer = [&]() -> asio::awaitable<void> {
      write_error = co_await conn->write("waits");
    };
    auto waiting_reader = [&]() -> asio::awaitable<void> {
      auto result = co_await conn->read();
      CHECK_FALSE(result);
      read_done = true;
    };
    asio::co_spawn(io, waiting_writer(), asio::detached);
    asio::co_spawn(io, waiting_reader(), asio::detached);
    co_await sleep_for(20ms);
    conn.reset();  // Under ASan, a resumption into freed memory fails this test.
    co_await sleep_for(20ms);
    CHECK(write_error == errc::connection_closed);
    CHECK(read_done);
  });
}

TEST_CASE("write_timeout cuts off a stalled peer, not a slow one that keeps reading") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    // The pipe holds 1,000 bytes; the peer reads 500 every 40 ms: the 5,000-byte batch takes
    // about 400 ms in all, four times the write timeout, but never stalls for 100 ms.
    auto [conn, peer] = make_pair(io, {.write_timeout = 100ms}, 1000);
    conn.try_write(std::string(4999, 's'));
    auto slow_reader = [&peer]() -> asio::awaitable<std::size_t> {
      std::size_t received = 0;
      while (received < 5000) {
        co_await sleep_for(40ms);
        received += (co_await read_raw(peer, 500)).size();
      }
      co_return received;
    };
    auto [flushed, received] = co_await (conn.flush() && slow_reader());
    CHECK_FALSE(flushed);
    CHECK(received == 5000);
    CHECK(conn.is_open());
  });
}

TEST_CASE("framed connection options: kept as given, long timeouts and sizes saturate at 32 bits") {
  asio::io_context io;
  connection_options given;
  given.idle_timeout = 90s;
  given.read_timeout = 1500ms;
  given.write_timeout = -5s;  // A negative timeout is off, as zero is.
  given.send_queue_limit = 12345;
  given.queue_policy = coronet::send_queue_policy::drop;
  given.decode_errors = coronet::decode_error_policy::report;
  given.max_read_size = 8192;
  auto [conn, peer] = make_pair(io, given);
  const connection_options kept = conn.options();
  CHECK(kept.idle_timeout == 90s);
  CHECK(kept.read_timeout == 1500ms);
  CHECK(kept.write_timeout == 0ms);
  CHECK(kept.send_queue_limit == 12345);
  CHECK(kept.queue_policy == coronet::send_queue_policy::drop);
  CHECK(kept.decode_errors == coronet::decode_error_policy::report);
  CHECK(kept.max_read_size == 8192);

  connection_options huge;
  huge.idle_timeout = std::chrono::hours{24 * 60};  // 60 days: more than 2^32 - 1 ms.
  huge.send_queue_limit = std::size_t{8} << 30;
  huge.max_read_size = SIZE_MAX;
  auto [big, big_peer] = make_pair(io, huge);
  CHECK(big.options().idle_timeout == std::chrono::milliseconds{0xFFFF'FFFFu});  // 49.7 days
  CHECK(big.options().send_queue_limit == 0xFFFF'FFFFu);
  CHECK(big.options().max_read_size == 0xFFFF'FFFFu);
}
