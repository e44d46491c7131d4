// length_prefixed_codec behaviour: header layouts, zero-length frames, limits, lost framing.
#include <catch2/catch.hpp>
#include <coronet/codec/length_prefixed_codec.hpp>
#include <coronet/error.hpp>
#include <coronet/testing/codec_conformance.hpp>
#include <stdexcept>
#include <string>
#include <vector>

using coronet::byte_order;
using coronet::errc;
using coronet::length_prefixed_codec;
using coronet::length_prefixed_options;
using namespace std::string_literals;

namespace {

using events = std::vector<coronet::testing::event_for<length_prefixed_codec>>;

coronet::testing::event_for<length_prefixed_codec> frame(std::string payload) {
  return {false, std::move(payload), {}};
}
coronet::testing::event_for<length_prefixed_codec> error(errc e) {
  return {true, {}, make_error_code(e)};
}

events decode_all(length_prefixed_codec codec, std::string_view stream) {
  return coronet::testing::feed_in_chunks(std::move(codec), stream, {stream.size()}).events;
}

}  // namespace

TEST_CASE("length-prefixed codec writes the header in the configured width and byte order") {
  struct layout {
    length_prefixed_options options;
    std::string header_for_3_bytes;
  };
  const layout layouts[] = {
      {{.header_width = 1}, "\x03"s},
      {{.header_width = 2}, "\x00\x03"s},
      {{.header_width = 2, .order = byte_order::little_endian}, "\x03\x00"s},
      {{.header_width = 4}, "\x00\x00\x00\x03"s},
      {{.header_width = 4, .order = byte_order::little_endian}, "\x03\x00\x00\x00"s},
      {{.header_width = 8}, "\x00\x00\x00\x00\x00\x00\x00\x03"s},
      {{.header_width = 8, .order = byte_order::little_endian},
       "\x03\x00\x00\x00\x00\x00\x00\x00"s},
      {{.header_width = 2, .length_includes_header = true}, "\x00\x05"s},
  };
  for (const layout& l : layouts) {
    INFO("width " << l.options.header_width);
    length_prefixed_codec codec{l.options};
    std::string out;
    REQUIRE_FALSE(codec.encode("abc", out));
    CHECK(out == l.header_for_3_bytes + "abc");
    CHECK(decode_all(codec, out + out) == events{frame("abc"), frame("abc")});
  }
}

TEST_CASE("length-prefixed codec carries zero-length and binary frames") {
  length_prefixed_codec codec;
  std::string out;
  REQUIRE_FALSE(codec.encode("", out));
  REQUIRE_FALSE(codec.encode("\x00\xFF\n"s, out));
  CHECK(out == "\x00\x00\x00\x00\x00\x00\x00\x03\x00\xFF\n"s);
  CHECK(decode_all(codec, out) == events{frame(""), frame("\x00\xFF\n"s)});
}

TEST_CASE("length-prefixed codec waits for the whole header and payload") {
  length_prefixed_codec codec;
  CHECK(codec.decode("\x00\x00"s).needs_more());
  CHECK(codec.decode("\x00\x00\x00\x05hel"s).needs_more());
  const std::string buffered = "\x00\x00\x00\x05hello!"s;  // The message views into it.
  auto result = codec.decode(buffered);
  REQUIRE(result.has_message());
  CHECK(result.message() == "hello");
  CHECK(result.consumed() == 9);
}

TEST_CASE("length-prefixed codec rejects a length over max_frame_length at the header") {
  length_prefixed_codec codec{{.max_frame_length = 1024}};
  // The header announces 1 GiB: rejected as soon as the header is in, without waiting for data.
  auto result = codec.decode("\x40\x00\x00\x00xx"s);
  REQUIRE(result.has_error());
  CHECK(result.error() == errc::frame_too_long);
  CHECK_FALSE(result.recoverable());
  CHECK(result.consumed() == 6);
  // Framing is lost for good: later input, even a valid frame, repeats the error.
  auto later = codec.decode("\x00\x00\x00\x01x"s);
  CHECK(later.has_error());
  CHECK(later.error() == errc::frame_too_long);
}

TEST_CASE("length-prefixed codec reset() forgets lost framing, and keeps its options") {
  length_prefixed_codec codec{{.max_frame_length = 1024}};
  CHECK(codec.decode("\x40\x00\x00\x00xx"s).error() == errc::frame_too_long);
  codec.reset();
  const std::string valid_frame = "\x00\x00\x00\x01x"s;  // The message views into it.
  auto frame_after = codec.decode(valid_frame);
  REQUIRE(frame_after.has_message());
  CHECK(frame_after.message() == "x");
  CHECK(codec.decode("\x00\x00\x04\x01"s).error() == errc::frame_too_long);  // Still 1024.
}

TEST_CASE("length-prefixed codec accepts exactly max_frame_length") {
  length_prefixed_codec codec{{.header_width = 2, .max_frame_length = 300}};
  std::string out;
  REQUIRE_FALSE(codec.encode(std::string(300, 'p'), out));
  CHECK(decode_all(codec, out) == events{frame(std::string(300, 'p'))});
  CHECK(codec.encode(std::string(301, 'p'), out) == errc::frame_too_long);
}

TEST_CASE("length-prefixed codec rejects a header smaller than itself when it counts itself") {
  length_prefixed_codec codec{{.header_width = 4, .length_includes_header = true}};
  auto result = codec.decode("\x00\x00\x00\x03"s);
  REQUIRE(result.has_error());
  CHECK(result.error() == errc::bad_length);
  CHECK_FALSE(result.recoverable());
  // A header of exactly its own width is a zero-length frame.
  length_prefixed_codec fresh{{.header_width = 4, .length_includes_header = true}};
  CHECK(decode_all(fresh, "\x00\x00\x00\x04"s) == events{frame("")});
}

TEST_CASE("length-prefixed codec reports a stream that ends inside a frame") {
  CHECK(decode_all({}, "\x00\x00\x00\x02hi\x00\x00\x00\x09partial"s) ==
        events{frame("hi"), error(errc::truncated_frame)});
  CHECK(decode_all({}, "\x00\x00"s) == events{error(errc::truncated_frame)});
}

TEST_CASE("length-prefixed codec refuses a payload its header cannot express") {
  length_prefixed_codec one_byte{{.header_width = 1}};
  std::string out;
  CHECK_FALSE(one_byte.encode(std::string(255, 'a'), out));
  CHECK(one_byte.encode(std::string(256, 'a'), out) == errc::frame_too_long);
  length_prefixed_codec counts_itself{{.header_width = 1, .length_includes_header = true}};
  CHECK(counts_itself.encode(std::string(255, 'a'), out) == errc::frame_too_long);
}

TEST_CASE("length-prefixed codec refuses a header width other than 1, 2, 4 or 8") {
  CHECK_THROWS_AS(length_prefixed_codec({.header_width = 3}), std::invalid_argument);
  CHECK_THROWS_AS(length_prefixed_codec({.header_width = 0}), std::invalid_argument);
}
