// A connection's read buffer: bytes kept in order across growth and compaction, and a clear
// refusal (not a wrapped 32-bit size) when asked for more than it can hold.
#include "coronet/stream/detail/read_buffer.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

using coronet::detail::read_buffer;

namespace {

void append(read_buffer& buffer, std::string_view bytes) {
  const auto space = buffer.prepare(bytes.size());
  REQUIRE(space.size() >= bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  buffer.commit(bytes.size());
}

}  // namespace

TEST_CASE("read buffer keeps unconsumed bytes in order while it grows and compacts") {
  read_buffer buffer;
  append(buffer, "hello ");
  buffer.consume(2);
  const std::string large(100'000, 'x');  // More than any first buffer: it grows.
  append(buffer, large);
  CHECK(buffer.readable() == "llo " + large);
  CHECK(buffer.capacity() >= large.size() + 4);
  buffer.consume(4 + large.size() - 3);
  CHECK(buffer.readable() == "xxx");
  append(buffer, "!");
  CHECK(buffer.readable() == "xxx!");
  buffer.consume(100);  // More than is there: all of it.
  CHECK(buffer.empty());
}

TEST_CASE("read buffer refuses to hold 4 GiB, and keeps what it held") {
  read_buffer buffer;
  append(buffer, "kept");
  CHECK_THROWS_AS(buffer.prepare(std::size_t{UINT32_MAX}), std::length_error);
  CHECK_THROWS_AS(buffer.prepare(SIZE_MAX), std::length_error);
  CHECK(buffer.readable() == "kept");
  append(buffer, " and more");
  CHECK(buffer.readable() == "kept and more");
}
