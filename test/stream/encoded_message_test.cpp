// encoded_message: a message framed once and queued on several connections (a broadcast).
#include <asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <coronet/codec.hpp>
#include <coronet/stream/encoded_message.hpp>
#include <coronet/stream/framed_connection.hpp>
#include <coronet/testing/memory_stream.hpp>
#include <string>
#include <vector>

#include "../support/async_test.hpp"
#include "../support/raw_bytes.hpp"

using coronet::errc;
using coronet::line_codec;
using coronet::testing::make_memory_stream_pair;
using coronet::testing::memory_stream;
using coronet_test::read_raw;
using coronet_test::run_async;

TEST_CASE("an encoded message goes byte-exact to every connection it is written to") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    using connection = coronet::framed_connection<line_codec, memory_stream>;
    std::vector<connection> senders;
    std::vector<memory_stream> peers;
    for (int i = 0; i < 3; ++i) {
      auto [a, b] = make_memory_stream_pair(io.get_executor());
      senders.emplace_back(std::move(a));
      peers.push_back(std::move(b));
    }
    const coronet::encoded_message<line_codec> message{line_codec{}, "hello 你好 😀"};
    REQUIRE(message);
    CHECK(message.bytes() == "hello 你好 😀\n");
    const std::error_code queued = senders[0].try_write(message);
    CHECK_FALSE(queued);
    const std::error_code written = co_await senders[1].write(message);
    CHECK_FALSE(written);
    co_await senders[2].write("before");  // Interleaves with ordinary writes, in order.
    co_await senders[2].write(message);
    for (std::size_t i = 0; i < 2; ++i) {
      const std::string received = co_await read_raw(peers[i], message.bytes().size());
      CHECK(received == message.bytes());
    }
    const std::string third = co_await read_raw(peers[2], 7 + message.bytes().size());
    CHECK(third == "before\n" + std::string{message.bytes()});
  });
}

TEST_CASE("an encoded message the codec refuses carries the error, and writing it queues nothing") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    const coronet::encoded_message<line_codec> bad{line_codec{}, "two\nlines"};
    CHECK_FALSE(bad);
    CHECK(bad.error() == errc::delimiter_in_message);
    CHECK(bad.bytes().empty());

    auto [a, b] = make_memory_stream_pair(io.get_executor());
    coronet::framed_connection<line_codec, memory_stream> conn{std::move(a)};
    const std::error_code refused = conn.try_write(bad);
    CHECK(refused == errc::delimiter_in_message);
    CHECK(conn.queued_bytes() == 0);
    CHECK(conn.is_open());  // Refusing one message does not end the connection.
    co_return;
  });
}

TEST_CASE("an encoded message keeps its codec's framing: a length-prefixed frame") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    const coronet::encoded_message<coronet::length_prefixed_codec> frame{
        coronet::length_prefixed_codec{}, "abc"};
    REQUIRE(frame);
    CHECK(frame.bytes() == std::string_view{"\0\0\0\3abc", 7});
    auto [a, b] = make_memory_stream_pair(io.get_executor());
    coronet::framed_connection<coronet::length_prefixed_codec, memory_stream> sender{std::move(a)};
    coronet::framed_connection<coronet::length_prefixed_codec, memory_stream> receiver{
        std::move(b)};
    co_await sender.write(frame);
    auto received = co_await receiver.read();
    REQUIRE(received);
    CHECK(std::string{*received} == "abc");
  });
}
