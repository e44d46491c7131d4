// Writing back the very line a read returned (an echo) skips the checks its decoding made; any
// other line, a copy or a part of it included, is checked in full.
#include <catch2/catch.hpp>
#include <coronet/codec.hpp>
#include <coronet/stream/framed_connection.hpp>
#include <coronet/testing/memory_stream.hpp>
#include <string>
#include <string_view>

#include "../support/async_test.hpp"
#include "../support/raw_bytes.hpp"

using coronet::errc;
using coronet::testing::make_memory_stream_pair;
using coronet::testing::memory_stream;
using coronet_test::read_raw;
using coronet_test::run_async;
using coronet_test::send_raw;

namespace {

// line_codec, counting which of its two encoders the connection calls.
struct counting_line_codec : coronet::line_codec {
  inline static int full_encodes = 0;
  inline static int decoded_encodes = 0;

  std::error_code encode(std::string_view line, std::string& out) const {
    ++full_encodes;
    return line_codec::encode(line, out);
  }
  std::error_code encode_decoded(std::string_view line, std::string& out) const {
    ++decoded_encodes;
    return line_codec::encode_decoded(line, out);
  }
};
static_assert(coronet::reencoding_codec<counting_line_codec>);
static_assert(coronet::reencoding_codec<coronet::line_codec>);
static_assert(!coronet::reencoding_codec<coronet::length_prefixed_codec>);

template <typename Codec>
auto make_pair(asio::io_context& io) {
  auto [local, peer] = make_memory_stream_pair(io.get_executor(), 64 * 1024);
  return std::pair{coronet::framed_connection<Codec, memory_stream>{std::move(local), Codec{}},
                   std::move(peer)};
}

}  // namespace

TEST_CASE("a line written back as read skips the second check, a copy of it does not") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair<counting_line_codec>(io);
    counting_line_codec::full_encodes = 0;
    counting_line_codec::decoded_encodes = 0;
    co_await send_raw(peer, "h\xC3\xA9llo\n");
    auto line = co_await conn.read();
    REQUIRE(line);

    const auto echoed = co_await conn.write(*line);
    CHECK(!echoed);
    CHECK(counting_line_codec::decoded_encodes == 1);
    CHECK(counting_line_codec::full_encodes == 0);

    const std::string copy{*line};
    const auto copied = co_await conn.write(copy);
    CHECK(!copied);
    const auto part = co_await conn.write(line->substr(0, 1));
    CHECK(!part);
    CHECK(counting_line_codec::decoded_encodes == 1);
    CHECK(counting_line_codec::full_encodes == 2);
    const auto received = co_await read_raw(peer, 16);
    CHECK(received == "h\xC3\xA9llo\nh\xC3\xA9llo\nh\n");
  });
}

TEST_CASE("a part of a decoded line that splits a UTF-8 character is refused") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair<coronet::line_codec>(io);
    co_await send_raw(peer, "h\xC3\xA9\n");
    auto line = co_await conn.read();
    REQUIRE(line);
    // It views the very bytes that were checked, but it is not the line that was decoded.
    const auto split = co_await conn.write(line->substr(0, 2));
    CHECK(split == errc::invalid_utf8);
    const auto whole = co_await conn.write(*line);
    CHECK(!whole);
    const auto received = co_await read_raw(peer, 4);
    CHECK(received == "h\xC3\xA9\n");
  });
}

TEST_CASE("a decoded line ending in a carriage return is still refused when written back") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair<coronet::line_codec>(io);
    co_await send_raw(peer, "x\r\r\nok\n");
    auto line = co_await conn.read();
    REQUIRE(line);
    CHECK(*line == "x\r");  // The decoder dropped one '\r': a second would not survive.
    const auto echoed = co_await conn.write(*line);
    CHECK(echoed == errc::delimiter_in_message);
    CHECK(conn.queued_bytes() == 0);
    auto next = co_await conn.read();
    REQUIRE(next);
    const auto next_echoed = co_await conn.write(*next);
    CHECK(!next_echoed);
    const auto received = co_await read_raw(peer, 3);
    CHECK(received == "ok\n");
  });
}

TEST_CASE("a decoded line kept past the next read is checked in full if written back") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair<coronet::line_codec>(io);
    co_await send_raw(peer, "ok\n");
    auto line = co_await conn.read();
    REQUIRE(line);
    const std::string_view stale = *line;  // Valid only until the next read: kept anyway.
    // The raw read drops the line's bytes and reads new ones into the same place.
    co_await send_raw(peer, "\xFF\xFF");
    char raw[2];
    const auto [raw_error, raw_count] = co_await conn.recv_into(raw);
    REQUIRE(!raw_error);
    REQUIRE(raw_count == 2);
    REQUIRE(stale == "\xFF\xFF");  // What the kept view shows now.
    const auto written = co_await conn.write(stale);
    CHECK(written == errc::invalid_utf8);
    CHECK(conn.queued_bytes() == 0);
  });
}

TEST_CASE("a line taken by try_read and written back skips the second check too") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [conn, peer] = make_pair<counting_line_codec>(io);
    counting_line_codec::full_encodes = 0;
    counting_line_codec::decoded_encodes = 0;
    co_await send_raw(peer, "first\nsecond\n");
    auto first = co_await conn.read();
    REQUIRE(first);
    const std::string kept{*first};
    auto second = conn.try_read();
    REQUIRE(second);
    CHECK(!conn.try_write(*second));
    CHECK(counting_line_codec::decoded_encodes == 1);
    // The first line's record went with its bytes: the kept copy is checked in full.
    CHECK(!conn.try_write(kept));
    CHECK(counting_line_codec::full_encodes == 1);
    const auto received = co_await read_raw(peer, 13);
    CHECK(received == "second\nfirst\n");
  });
}
