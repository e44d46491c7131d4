// Handler code written the way docs/handlers.md ("Compiler pitfalls") asks, to work around
// compiler bugs, checked over the in-memory stream pair by the bytes the peer receives. The
// crashing forms themselves are not compiled here: they would take the test binary down.
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <coronet/codec.hpp>
#include <coronet/stream/framed_connection.hpp>
#include <coronet/testing/memory_stream.hpp>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <system_error>

#include "../support/async_test.hpp"
#include "../support/raw_bytes.hpp"

using coronet::line_codec;
using coronet::testing::make_memory_stream_pair;
using coronet::testing::memory_stream;
using coronet_test::read_raw;
using coronet_test::run_async;
using coronet_test::send_raw;

namespace {

using line_connection = coronet::framed_connection<line_codec, memory_stream>;
using store = std::map<std::string, std::string, std::less<>>;

// Answers one lookup: "NIL" for an unknown key, else "VAL " and the value. g++ 12 double-frees
// the std::string temporaries of a conditional expression written inside co_await
// (co_await conn.write(missing ? std::string{"NIL"} : "VAL " + value)), so the reply is named
// first.
asio::awaitable<std::error_code> answer_lookup(line_connection& conn, const store& values,
                                               std::string_view key) {
  const auto found = values.find(key);
  const bool missing = found == values.end();
  std::string reply = missing ? std::string{"NIL"} : "VAL " + found->second;
  co_return co_await conn.write(reply);
}

}  // namespace

TEST_CASE("a reply chosen by a conditional expression and named before co_await reaches the peer") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [local, peer] = make_memory_stream_pair(io.get_executor());
    line_connection conn{std::move(local), line_codec{}};
    // Longer than the small-string buffer, so that the "VAL " branch allocates.
    const std::string value = "a value long enough to live on the heap, not in the string";
    const store values{{"present", value}};

    co_await send_raw(peer, "absent\npresent\nabsent\n");
    for (int lookup = 0; lookup < 3; ++lookup) {
      auto key = co_await conn.read();
      REQUIRE(key);
      const std::error_code error = co_await answer_lookup(conn, values, *key);
      REQUIRE_FALSE(error);
    }
    const std::error_code flushed = co_await conn.flush();
    REQUIRE_FALSE(flushed);

    const std::string expected = "NIL\nVAL " + value + "\nNIL\n";
    const std::string received = co_await read_raw(peer, expected.size());
    CHECK(received == expected);
  });
}
