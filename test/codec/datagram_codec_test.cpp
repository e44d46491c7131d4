// datagram_codec behaviour: one datagram is one message, with size and UTF-8 checks.
#include <catch2/catch.hpp>
#include <coronet/codec/datagram_codec.hpp>
#include <coronet/error.hpp>
#include <string>

using coronet::datagram_codec;
using coronet::errc;

TEST_CASE("datagram codec yields each datagram whole, including an empty one") {
  datagram_codec codec;
  auto hello = codec.decode("hello\nworld");
  REQUIRE(hello.has_message());
  CHECK(hello.message() == "hello\nworld");
  CHECK(hello.consumed() == 11);
  auto empty = codec.decode("");
  REQUIRE(empty.has_message());
  CHECK(empty.message().empty());
}

TEST_CASE("datagram codec rejects a datagram over max_datagram_size, default 65507") {
  datagram_codec codec;
  CHECK(codec.decode(std::string(65'507, 'a')).has_message());
  auto oversize = codec.decode(std::string(65'508, 'a'));
  REQUIRE(oversize.has_error());
  CHECK(oversize.error() == errc::frame_too_long);
  CHECK(oversize.recoverable());
  CHECK(oversize.consumed() == 65'508);
  std::string out;
  CHECK(codec.encode(std::string(65'508, 'a'), out) == errc::frame_too_long);
  CHECK(out.empty());
}

TEST_CASE("datagram codec rejects invalid UTF-8 unless validation is off") {
  datagram_codec text;
  auto bad = text.decode("\xF0\x9F\x98");
  REQUIRE(bad.has_error());
  CHECK(bad.error() == errc::invalid_utf8);
  CHECK(bad.reason() == "truncated multi-byte sequence");
  CHECK(text.decode("😀 ok").has_message());

  datagram_codec binary{{.validate_utf8 = false}};
  CHECK(binary.decode("\xF0\x9F\x98").has_message());
  std::string out;
  CHECK_FALSE(binary.encode("\xFF", out));
  CHECK(out == "\xFF");
}
