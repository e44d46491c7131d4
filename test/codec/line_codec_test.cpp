// line_codec behaviour: terminators, limits and resynchronisation, UTF-8, end of stream, encoding.
#include <catch2/catch.hpp>
#include <coronet/codec/line_codec.hpp>
#include <coronet/error.hpp>
#include <coronet/testing/codec_conformance.hpp>
#include <cstdint>
#include <string>
#include <vector>

using coronet::errc;
using coronet::line_codec;
using coronet::line_codec_options;
using coronet::testing::feed_in_chunks;

namespace {

using events = std::vector<coronet::testing::event_for<line_codec>>;

coronet::testing::event_for<line_codec> line(std::string text) {
  return {false, std::move(text), {}};
}
coronet::testing::event_for<line_codec> error(errc e) {
  return {true, {}, make_error_code(e)};
}

events decode_all(line_codec codec, std::string_view stream) {
  return feed_in_chunks(std::move(codec), stream, {stream.size()}).events;
}

line_codec with_max(std::size_t max_line_length) {
  return line_codec{line_codec_options{.max_line_length = max_line_length}};
}

}  // namespace

TEST_CASE("line codec decodes LF and CRLF lines and keeps empty lines") {
  CHECK(decode_all({}, "one\ntwo\r\n\n\r\nthree\n") ==
        events{line("one"), line("two"), line(""), line(""), line("three")});
}

TEST_CASE("line codec strips only one carriage return before the newline") {
  CHECK(decode_all({}, "a\r\r\nb\rc\n") == events{line("a\r"), line("b\rc")});
}

TEST_CASE("line codec reports the bytes a line used, terminator included") {
  line_codec codec;
  auto result = codec.decode("hi\r\nrest");
  REQUIRE(result.has_message());
  CHECK(result.message() == "hi");
  CHECK(result.consumed() == 4);
  CHECK(codec.decode("rest").needs_more());
}

TEST_CASE("line codec accepts a line of exactly max_line_length with LF or CRLF") {
  const std::string full(16, 'x');
  CHECK(decode_all(with_max(16), full + "\n" + full + "\r\n") == events{line(full), line(full)});
  // Fed in pieces, the pending '\r' must not be mistaken for a 17th byte of content.
  CHECK(feed_in_chunks(with_max(16), full + "\r\n", {17, 1}).events == events{line(full)});
}

TEST_CASE("line codec rejects a line longer than max_line_length once, then resynchronises") {
  const std::string stream = std::string(40, 'x') + "\nnext\n" + std::string(17, 'y') + "\nlast\n";
  const events expected{error(errc::frame_too_long), line("next"), error(errc::frame_too_long),
                        line("last")};
  CHECK(decode_all(with_max(16), stream) == expected);
  CHECK(feed_in_chunks(with_max(16), stream, std::vector<std::size_t>(stream.size(), 1)).events ==
        expected);
}

TEST_CASE("line codec never buffers more than max_line_length + 2 bytes of an over-long line") {
  const std::size_t max = 1024;
  const std::string stream = std::string(1024 * 1024, 'z') + "\nafter\n";
  const auto outcome =
      feed_in_chunks(with_max(max), stream, std::vector<std::size_t>(stream.size(), 1));
  CHECK(outcome.events == events{error(errc::frame_too_long), line("after")});
  CHECK(outcome.max_buffered <= max + 2);

  // With 64 KiB reads the buffer holds at most the limit plus one read.
  const auto chunked = feed_in_chunks(with_max(max), stream, std::vector<std::size_t>(100, 65536));
  CHECK(chunked.events == events{error(errc::frame_too_long), line("after")});
  CHECK(chunked.max_buffered <= max + 2 + 65536);
}

TEST_CASE("line codec reset() forgets an over-long line being dropped, and keeps its options") {
  line_codec codec = with_max(8);
  CHECK(codec.decode("far too long, no newline yet").error() == errc::frame_too_long);
  line_codec still_dropping = codec;
  CHECK_FALSE(still_dropping.decode("fine\n").has_message());  // The long line's end, to it.
  codec.reset();
  const auto line_after = codec.decode("fine\n");
  REQUIRE(line_after.has_message());
  CHECK(line_after.message() == "fine");
  CHECK(codec.decode("nine byte\n").error() == errc::frame_too_long);  // Still max 8.
}

TEST_CASE("line codec error results are recoverable and name the problem") {
  line_codec codec{line_codec_options{.max_line_length = 4}};
  auto too_long = codec.decode("123456\nok\n");
  REQUIRE(too_long.has_error());
  CHECK(too_long.error() == errc::frame_too_long);
  CHECK(too_long.recoverable());
  CHECK(too_long.consumed() == 7);
  CHECK(too_long.reason() == "line longer than max_line_length");

  auto bad_text = codec.decode("\xED\xA0\x80\n");
  REQUIRE(bad_text.has_error());
  CHECK(bad_text.error() == errc::invalid_utf8);
  CHECK(bad_text.error().message() == "invalid UTF-8");
  CHECK(bad_text.reason() == "surrogate code point (U+D800..U+DFFF)");
  CHECK(bad_text.recoverable());
}

TEST_CASE("line codec rejects invalid UTF-8 lines and keeps decoding the next ones") {
  CHECK(decode_all({}, "good\nbad \xC0\xAF\n你好\n\xF4\x90\x80\x80\n😀\n") ==
        events{line("good"), error(errc::invalid_utf8), line("你好"), error(errc::invalid_utf8),
               line("😀")});
}

TEST_CASE("line codec passes arbitrary bytes when UTF-8 validation is off") {
  line_codec binary{line_codec_options{.validate_utf8 = false}};
  CHECK(decode_all(binary, std::string("\xFF\x00\xC0\n", 4)) ==
        events{line(std::string("\xFF\x00\xC0", 3))});
}

TEST_CASE("line codec yields a final unterminated line only at end of stream") {
  line_codec codec;
  CHECK(codec.decode("tail\r").needs_more());
  auto last = codec.decode_eof("tail\r");
  REQUIRE(last.has_message());
  CHECK(last.message() == "tail");
  CHECK(last.consumed() == 5);
  CHECK(codec.decode_eof("").needs_more());

  CHECK(decode_all({}, "a\nb") == events{line("a"), line("b")});
  CHECK(decode_all(with_max(4), "a\nbbbbbbbbbbbb") ==
        events{line("a"), error(errc::frame_too_long)});
  CHECK(decode_all({}, "a\n\xC3") == events{line("a"), error(errc::invalid_utf8)});
}

TEST_CASE("line codec encodes a line with a newline and refuses lines it cannot frame") {
  line_codec codec{line_codec_options{.max_line_length = 8}};
  std::string out = "x\n";
  CHECK_FALSE(codec.encode("你好", out));
  CHECK_FALSE(codec.encode("", out));
  CHECK(out == "x\n你好\n\n");

  CHECK(codec.encode("a\nb", out) == errc::delimiter_in_message);
  CHECK(codec.encode("cr\r", out) == errc::delimiter_in_message);
  CHECK(codec.encode("\xED\xA0\x80", out) == errc::invalid_utf8);
  CHECK(codec.encode("123456789", out) == errc::frame_too_long);
  CHECK(out == "x\n你好\n\n");  // Refused lines leave the output untouched.
}

TEST_CASE("line codec with no practical limit (SIZE_MAX) still waits for the newline") {
  // Found by fuzz_line_codec: max_line_length + 1 used to wrap to 0.
  line_codec unlimited{line_codec_options{.max_line_length = SIZE_MAX}};
  CHECK(unlimited.decode("abc").needs_more());
  auto last = unlimited.decode_eof("abc");
  REQUIRE(last.has_message());
  CHECK(last.message() == "abc");
}

TEST_CASE("line codec options: limits of 4 GiB - 1 or more mean no limit, smaller ones are kept") {
  // The codec keeps its limit in 32 bits (every connection holds one).
  CHECK(with_max(100).options().max_line_length == 100);
  CHECK(with_max(0xFFFF'FFFEu).options().max_line_length == 0xFFFF'FFFEu);
  CHECK(with_max(0xFFFF'FFFFu).options().max_line_length == SIZE_MAX);
  CHECK(with_max(std::size_t{8} << 30).options().max_line_length == SIZE_MAX);
  CHECK(with_max(SIZE_MAX).options().max_line_length == SIZE_MAX);
  CHECK(with_max(3).options().validate_utf8);
}
