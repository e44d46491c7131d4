// websocket_codec behaviour, one RFC 6455 rule per test: masking by role, fragmentation and
// interleaved control frames, the size and fragment limits, UTF-8 (also across fragments), close
// codes, length encodings, and the conformance kit over mixed streams.
#include <catch2/catch.hpp>
#include <coronet/codec/websocket_codec.hpp>
#include <coronet/error.hpp>
#include <coronet/testing/codec_conformance.hpp>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

using coronet::errc;
using coronet::websocket_codec;
using coronet::websocket_codec_options;
using coronet::websocket_errc;
using coronet::websocket_frame_header;
using coronet::websocket_kind;
using coronet::websocket_message;
using coronet::websocket_opcode;
using coronet::websocket_owned_message;
using coronet::websocket_role;
using coronet::testing::feed_in_chunks;
namespace close_code = coronet::websocket_close;

namespace {

using event = coronet::testing::event_for<websocket_codec>;
using events = std::vector<event>;

constexpr std::array<std::uint8_t, 4> test_key{0x37, 0xfa, 0x21, 0x3d};

// A frame as a client sends it (masked), with any opcode, FIN and RSV bits.
std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin = true,
                         std::uint8_t rsv = 0) {
  std::string out;
  coronet::append_websocket_frame(out, websocket_frame_header{fin, rsv, opcode, test_key}, payload);
  return out;
}
std::string client_frame(websocket_opcode opcode, std::string_view payload, bool fin = true) {
  return client_frame(static_cast<std::uint8_t>(opcode), payload, fin);
}
std::string server_frame(websocket_opcode opcode, std::string_view payload, bool fin = true) {
  std::string out;
  coronet::append_websocket_frame(
      out, websocket_frame_header{fin, 0, static_cast<std::uint8_t>(opcode), std::nullopt},
      payload);
  return out;
}
std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
  std::string payload{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  return payload.append(reason);
}

event message(websocket_message m) {
  return {false, websocket_owned_message{m}, {}};
}
event error(std::error_code e) {
  return {true, {}, e};
}

websocket_codec server(std::size_t max_message_size = 1024 * 1024,
                       std::size_t max_fragments = 4096) {
  return websocket_codec{
      websocket_codec_options{websocket_role::server, max_message_size, max_fragments}};
}
websocket_codec client() {
  return websocket_codec{websocket_codec_options{.role = websocket_role::client}};
}

events decode_all(websocket_codec codec, std::string_view stream) {
  return feed_in_chunks(std::move(codec), stream, {stream.size()}).events;
}

// The one error a stream decodes to (after any messages before it).
std::error_code last_error(websocket_codec codec, std::string_view stream) {
  const events decoded = decode_all(std::move(codec), stream);
  if (decoded.empty() || !decoded.back().is_error) return {};
  return decoded.back().error;
}

}  // namespace

TEST_CASE("websocket codec decodes the masked Hello of RFC 6455 section 5.7") {
  const std::string frame = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  CHECK(decode_all(server(), frame) == events{message(websocket_message::text("Hello"))});
}

TEST_CASE("websocket codec in the server role encodes unmasked frames as in RFC 6455 section 5.7") {
  std::string out;
  REQUIRE(!server().encode(websocket_message::text("Hello"), out));
  CHECK(out == "\x81\x05Hello");
  out.clear();
  REQUIRE(!server().encode(websocket_message::ping("Hello"), out));
  CHECK(out == "\x89\x05Hello");
}

TEST_CASE("websocket codec reassembles fragments with a ping between them") {
  const std::string stream = client_frame(websocket_opcode::text, "Hel", false) +
                             client_frame(websocket_opcode::ping, "are you there") +
                             client_frame(websocket_opcode::continuation, "lo", false) +
                             client_frame(websocket_opcode::continuation, ", world");
  CHECK(decode_all(server(), stream) == events{message(websocket_message::ping("are you there")),
                                               message(websocket_message::text("Hello, world"))});
}

TEST_CASE("websocket codec decodes binary messages empty frames and pongs") {
  const std::string binary{"\x00\xff\x80", 3};
  const std::string stream = client_frame(websocket_opcode::binary, binary) +
                             client_frame(websocket_opcode::text, "") +
                             client_frame(websocket_opcode::pong, "");
  CHECK(decode_all(server(), stream) == events{message(websocket_message::binary(binary)),
                                               message(websocket_message::text("")),
                                               message(websocket_message::pong(""))});
}

TEST_CASE("websocket codec in the server role refuses an unmasked client frame with 1002") {
  CHECK(last_error(server(), server_frame(websocket_opcode::text, "hi")) ==
        websocket_errc::protocol_error);
}

TEST_CASE("websocket codec in the client role refuses a masked server frame with 1002") {
  CHECK(last_error(client(), client_frame(websocket_opcode::text, "hi")) ==
        websocket_errc::protocol_error);
  CHECK(decode_all(client(), server_frame(websocket_opcode::text, "hi")) ==
        events{message(websocket_message::text("hi"))});
}

TEST_CASE("websocket codec in the client role masks every frame with a fresh key") {
  const websocket_codec encoder = client();
  std::string first;
  std::string second;
  REQUIRE(!encoder.encode(websocket_message::text("same text"), first));
  REQUIRE(!encoder.encode(websocket_message::text("same text"), second));
  CHECK((static_cast<unsigned char>(first[1]) & 0x80U) != 0);
  CHECK(first != second);
  CHECK(first.find("same text") == std::string::npos);
  CHECK(decode_all(server(), first + second) ==
        events{message(websocket_message::text("same text")),
               message(websocket_message::text("same text"))});
}

TEST_CASE("websocket codec refuses RSV bits without an extension with 1002") {
  for (std::uint8_t rsv : {1, 2, 4}) {
    CHECK(last_error(server(), client_frame(0x1, "hi", true, rsv)) ==
          websocket_errc::protocol_error);
  }
}

TEST_CASE("websocket codec refuses reserved opcodes with 1002") {
  for (std::uint8_t opcode : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    CHECK(last_error(server(), client_frame(opcode, "")) == websocket_errc::protocol_error);
  }
}

TEST_CASE("websocket codec refuses control frames over 125 bytes or fragmented with 1002") {
  CHECK(decode_all(server(), client_frame(websocket_opcode::ping, std::string(125, 'p'))) ==
        events{message(websocket_message::ping(std::string(125, 'p')))});
  CHECK(last_error(server(), client_frame(websocket_opcode::ping, std::string(126, 'p'))) ==
        websocket_errc::protocol_error);
  CHECK(last_error(server(), client_frame(websocket_opcode::pong, "x", false)) ==
        websocket_errc::protocol_error);
  CHECK(last_error(server(), client_frame(websocket_opcode::close, "", false)) ==
        websocket_errc::protocol_error);
}

TEST_CASE("websocket codec refuses a continuation without a message and a message inside one") {
  CHECK(last_error(server(), client_frame(websocket_opcode::continuation, "x")) ==
        websocket_errc::protocol_error);
  const std::string nested = client_frame(websocket_opcode::text, "a", false) +
                             client_frame(websocket_opcode::binary, "b");
  CHECK(last_error(server(), nested) == websocket_errc::protocol_error);
}

TEST_CASE("websocket codec refuses a text message that is not UTF-8 with 1007") {
  CHECK(last_error(server(), client_frame(websocket_opcode::text, "ok \xff")) ==
        websocket_errc::invalid_utf8);
  CHECK(last_error(server(), client_frame(websocket_opcode::text, "\xed\xa0\x80")) ==
        websocket_errc::invalid_utf8);
  // Binary messages carry any bytes.
  CHECK(decode_all(server(), client_frame(websocket_opcode::binary, "\xff")) ==
        events{message(websocket_message::binary("\xff"))});
}

TEST_CASE("websocket codec accepts a character split across fragments") {
  const std::string stream = client_frame(websocket_opcode::text, "price \xe2", false) +
                             client_frame(websocket_opcode::continuation, "\x82", false) +
                             client_frame(websocket_opcode::continuation, "\xac 5");
  CHECK(decode_all(server(), stream) ==
        events{message(websocket_message::text("price \xe2\x82\xac 5"))});
}

TEST_CASE("websocket codec refuses invalid UTF-8 across fragments before the message ends") {
  // E0 80 can never start a valid character (overlong): the second fragment fails at once,
  // while the message is still open.
  websocket_codec codec = server();
  const std::string first = client_frame(websocket_opcode::text, "a\xe0", false);
  const std::string second = client_frame(websocket_opcode::continuation, "\x80", false);
  CHECK(codec.decode(first).needs_more());
  const auto result = codec.decode(second);
  REQUIRE(result.has_error());
  CHECK(result.error() == websocket_errc::invalid_utf8);
  CHECK_FALSE(result.recoverable());
}

TEST_CASE("websocket codec refuses a text message that ends inside a character with 1007") {
  const std::string stream = client_frame(websocket_opcode::text, "a\xe2\x82", false) +
                             client_frame(websocket_opcode::continuation, "");
  CHECK(last_error(server(), stream) == websocket_errc::invalid_utf8);
}

TEST_CASE("websocket codec refuses a frame over max_message_size with 1009 before its payload") {
  websocket_codec codec = server(1000);
  std::string frame = client_frame(websocket_opcode::binary, std::string(1001, 'x'));
  frame.resize(8);  // Only the header (2 + 2 length bytes + 4 key bytes) has arrived.
  const auto result = codec.decode(frame);
  REQUIRE(result.has_error());
  CHECK(result.error() == websocket_errc::message_too_big);
  CHECK(decode_all(server(1000), client_frame(websocket_opcode::binary, std::string(1000, 'x')))
            .front()
            .is_error == false);
}

TEST_CASE("websocket codec refuses fragments that add up to more than max_message_size") {
  std::string stream = client_frame(websocket_opcode::text, std::string(600, 'a'), false);
  stream += client_frame(websocket_opcode::continuation, std::string(400, 'b'), false);
  stream += client_frame(websocket_opcode::continuation, "c");
  CHECK(last_error(server(1000), stream) == websocket_errc::message_too_big);
}

TEST_CASE("websocket codec refuses a message split into more than max_fragments frames") {
  std::string stream = client_frame(websocket_opcode::text, "", false);
  for (int i = 0; i < 10; ++i)
    stream += client_frame(websocket_opcode::continuation, "", false);
  CHECK(last_error(server(1024, 10), stream) == websocket_errc::message_too_big);
  websocket_codec eleven_allowed = server(1024, 11);
  CHECK(eleven_allowed.decode(stream).needs_more());
}

TEST_CASE("websocket codec refuses a 64-bit length with the most significant bit set") {
  std::string frame = "\x82\xff";
  frame += std::string{"\x80\x00\x00\x00\x00\x00\x00\x01", 8};
  frame += "\x01\x02\x03\x04";
  CHECK(last_error(server(SIZE_MAX), frame) == websocket_errc::protocol_error);
}

TEST_CASE("websocket codec refuses lengths that are not in their shortest form") {
  std::string two_byte{"\x82\xfe\x00\x05\x01\x02\x03\x04hello", 13};
  CHECK(last_error(server(), two_byte) == websocket_errc::protocol_error);
  std::string eight_byte{"\x82\xff\x00\x00\x00\x00\x00\x00\xff\xff\x01\x02\x03\x04", 14};
  CHECK(last_error(server(), eight_byte) == websocket_errc::protocol_error);
}

TEST_CASE("websocket codec decodes the 7-bit 16-bit and 64-bit length encodings at their edges") {
  for (std::size_t size : {0, 125, 126, 127, 65535, 65536, 70000}) {
    const std::string payload(size, 'z');
    CHECK(decode_all(server(), client_frame(websocket_opcode::binary, payload)) ==
          events{message(websocket_message::binary(payload))});
  }
}

TEST_CASE("websocket codec decodes close frames with a code a reason or neither") {
  const std::string stream = client_frame(websocket_opcode::close, close_payload(1000, "bye")) +
                             client_frame(websocket_opcode::close, close_payload(4999)) +
                             client_frame(websocket_opcode::close, "");
  CHECK(decode_all(server(), stream) ==
        events{message(websocket_message::close(1000, "bye")),
               message(websocket_message::close(4999)),
               message(websocket_message::close(close_code::no_status))});
}

TEST_CASE("websocket codec refuses reserved and unassigned close codes with 1002") {
  for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
    INFO("close code " << code);
    CHECK(last_error(server(), client_frame(websocket_opcode::close, close_payload(code))) ==
          websocket_errc::protocol_error);
  }
  for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1014, 3000}) {
    INFO("close code " << code);
    CHECK(last_error(server(), client_frame(websocket_opcode::close, close_payload(code))) ==
          std::error_code{});
  }
}

TEST_CASE("websocket codec refuses a one-byte close payload with 1002 and a bad reason with 1007") {
  CHECK(last_error(server(), client_frame(websocket_opcode::close, "\x03")) ==
        websocket_errc::protocol_error);
  CHECK(last_error(server(), client_frame(websocket_opcode::close, close_payload(1000, "\xc0"))) ==
        websocket_errc::invalid_utf8);
}

TEST_CASE("websocket codec reports a stream that ends inside a frame or message as truncated") {
  const std::string frame = client_frame(websocket_opcode::text, "hello");
  CHECK(last_error(server(), frame.substr(0, 1)) == errc::truncated_frame);
  CHECK(last_error(server(), frame.substr(0, 8)) == errc::truncated_frame);
  CHECK(last_error(server(), client_frame(websocket_opcode::text, "a", false)) ==
        errc::truncated_frame);
  CHECK(decode_all(server(), frame) == events{message(websocket_message::text("hello"))});
}

TEST_CASE("websocket codec consumes payload as it arrives so the caller buffers one read") {
  const std::string payload(300 * 1024, 'p');
  const std::string frame = client_frame(websocket_opcode::binary, payload);
  const auto outcome = feed_in_chunks(server(), frame, std::vector<std::size_t>(400, 1024));
  REQUIRE(outcome.events == events{message(websocket_message::binary(payload))});
  CHECK(outcome.max_buffered <= 1024 + 14);
}

TEST_CASE("websocket codec refuses to encode what a peer would refuse") {
  const websocket_codec codec = server(16);
  std::string out = "kept";
  CHECK(codec.encode(websocket_message::text("\xff"), out) == errc::invalid_utf8);
  CHECK(codec.encode(websocket_message::binary(std::string(17, 'x')), out) == errc::frame_too_long);
  CHECK(codec.encode(websocket_message::ping(std::string(126, 'x')), out) == errc::frame_too_long);
  CHECK(codec.encode(websocket_message::close(1005, ""), out) == std::error_code{});
  out = "kept";
  CHECK(codec.encode(websocket_message::close(1006), out) == websocket_errc::protocol_error);
  CHECK(codec.encode(websocket_message::close(1000, std::string(124, 'r')), out) ==
        errc::frame_too_long);
  CHECK(codec.encode(websocket_message::close(close_code::no_status, "why"), out) ==
        websocket_errc::protocol_error);
  CHECK(out == "kept");
}

TEST_CASE("websocket codec errors name the close code the connection ends with") {
  CHECK(coronet::close_code_for(websocket_errc::protocol_error) == 1002);
  CHECK(coronet::close_code_for(websocket_errc::invalid_utf8) == 1007);
  CHECK(coronet::close_code_for(websocket_errc::message_too_big) == 1009);
  CHECK(coronet::close_code_for(errc::timed_out) == 1011);
}

TEST_CASE("websocket codec decodes a client's mixed stream the same however it is split") {
  const websocket_codec encoder = client();
  std::string stream;
  const std::string ones(200, '\x01');
  const std::string long_text(70000, 'L');
  const std::vector<websocket_message> sent = {websocket_message::text("first"),
                                               websocket_message::ping("p"),
                                               websocket_message::binary(ones),
                                               websocket_message::text("\xf0\x9f\x98\x80 emoji"),
                                               websocket_message::pong(""),
                                               websocket_message::text(long_text),
                                               websocket_message::close(1001, "going")};
  events expected;
  for (const websocket_message& m : sent) {
    REQUIRE(!encoder.encode(m, stream));
    expected.push_back(message(m));
  }
  // A fragmented message with a control frame inside, as a client may send it.
  stream += client_frame(websocket_opcode::text, "frag", false);
  stream += client_frame(websocket_opcode::pong, "between");
  stream += client_frame(websocket_opcode::continuation, "mented \xc3", false);
  stream += client_frame(websocket_opcode::continuation, "\xa9");
  expected.push_back(message(websocket_message::pong("between")));
  expected.push_back(message(websocket_message::text("fragmented \xc3\xa9")));

  REQUIRE(decode_all(server(), stream) == expected);
  coronet::testing::conformance_options options;
  options.max_split_points = 256;
  options.random_chunkings = 16;
  const auto report =
      coronet::testing::check_stream_splits([] { return server(); }, stream, options);
  INFO(report.summary());
  CHECK(report.ok());
}

TEST_CASE("websocket codec reports a hostile stream the same however it is split") {
  std::string stream = client_frame(websocket_opcode::text, "ok");
  stream += client_frame(websocket_opcode::text, "bad \xe2\x82", false);
  stream += client_frame(websocket_opcode::ping, "mid");
  stream += client_frame(websocket_opcode::continuation, "\x41");
  const auto report =
      coronet::testing::check_stream_splits([] { return server(); }, std::string_view{stream});
  INFO(report.summary());
  CHECK(report.ok());
  CHECK(decode_all(server(), stream) == events{message(websocket_message::text("ok")),
                                               message(websocket_message::ping("mid")),
                                               error(websocket_errc::invalid_utf8)});
}

TEST_CASE("websocket codec in the client role round-trips a server's messages") {
  const websocket_codec encoder = server();
  std::string stream;
  std::vector<websocket_message> sent = {websocket_message::text("one"),
                                         websocket_message::binary("two"),
                                         websocket_message::close(1000)};
  events expected;
  for (const websocket_message& m : sent) {
    REQUIRE(!encoder.encode(m, stream));
    expected.push_back(message(m));
  }
  CHECK(decode_all(client(), stream) == expected);
  const auto report = coronet::testing::check_stream_splits([] { return client(); }, stream);
  INFO(report.summary());
  CHECK(report.ok());
}

TEST_CASE("a websocket message prints its payload unambiguously and cut after 40 bytes") {
  websocket_owned_message message;
  message.kind = websocket_kind::close;
  message.close_code = 1000;
  message.payload = "bye \"x\"\\\n";
  std::ostringstream printed;
  printed << message;
  CHECK(printed.str() == R"(close 1000 "bye \x22x\x22\x5c\x0a")");

  message.kind = websocket_kind::binary;
  message.payload = std::string(41, 'a');
  std::ostringstream long_one;
  long_one << message;
  CHECK(long_one.str() == "binary \"" + std::string(40, 'a') + "...(41 bytes)\"");
}
