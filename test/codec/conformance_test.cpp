// Every built-in codec, and the custom codec of docs/codecs.md, through the conformance kit; and
// proof that the kit catches codecs that break the contract.
#include <algorithm>
#include <catch2/catch.hpp>
#include <coronet/codec.hpp>
#include <coronet/testing/codec_conformance.hpp>
#include <cstdint>
#include <netstring_codec.hpp>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using coronet::testing::check_datagrams;
using coronet::testing::check_stream_round_trip;
using coronet::testing::check_stream_splits;
using namespace std::string_literals;

namespace {

// Text messages of assorted lengths and scripts, deterministic for a given seed.
std::vector<std::string> text_messages(std::size_t count, std::uint64_t seed) {
  const std::string pieces[] = {"a", "hello", " ", "你好", "世界", "😀", "é", "🚀", "0123456789", ""};
  std::mt19937_64 random{seed};
  std::vector<std::string> messages{"", "x", std::string(200, 'L'), "你好，世界 😀"};
  while (messages.size() < count) {
    std::string message;
    const std::size_t parts = random() % 12;
    for (std::size_t i = 0; i < parts; ++i)
      message += pieces[random() % std::size(pieces)];
    messages.push_back(message);
  }
  return messages;
}

// Binary payloads holding every byte value, including '\n' and invalid UTF-8.
std::vector<std::string> binary_messages(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 random{seed};
  std::vector<std::string> messages{"", std::string(1, '\0'), std::string(300, '\xFF')};
  while (messages.size() < count) {
    std::string message(random() % 80, '\0');
    for (char& byte : message)
      byte = static_cast<char>(random() & 0xFF);
    messages.push_back(message);
  }
  return messages;
}

}  // namespace

TEST_CASE("line codec passes the conformance kit") {
  const auto make = [] { return coronet::line_codec{}; };
  const auto round_trip = check_stream_round_trip(make, text_messages(300, 1));
  INFO(round_trip.summary());
  CHECK(round_trip.ok());

  // A stream with every kind of bad line must give the same errors however it is split.
  const auto make_small = [] { return coronet::line_codec{{.max_line_length = 32}}; };
  const std::string hostile = "ok\r\n" + std::string(100, 'x') +
                              "\nnext\n\xC0\xAF\nbad\xED\xA0\x80\n" + std::string(33, 'y') +
                              "\r\n" + std::string(32, 'z') + "\r\n你好\ntail\r";
  const auto splits = check_stream_splits(make_small, hostile);
  INFO(splits.summary());
  CHECK(splits.ok());
}

TEST_CASE("line codec without UTF-8 validation passes the conformance kit") {
  const auto make = [] { return coronet::line_codec{{.validate_utf8 = false}}; };
  auto messages = binary_messages(200, 2);
  for (std::string& message : messages) {
    std::erase(message, '\n');
    if (!message.empty() && message.back() == '\r') message.back() = 'r';
  }
  const auto report = check_stream_round_trip(make, messages);
  INFO(report.summary());
  CHECK(report.ok());
}

TEST_CASE("length-prefixed codec passes the conformance kit in every header layout") {
  for (const std::size_t width : {1, 2, 4, 8}) {
    for (const auto order : {coronet::byte_order::big_endian, coronet::byte_order::little_endian}) {
      for (const bool includes_header : {false, true}) {
        INFO("width " << width << ", little endian "
                      << (order == coronet::byte_order::little_endian) << ", includes header "
                      << includes_header);
        const coronet::length_prefixed_options options{
            .header_width = width, .order = order, .length_includes_header = includes_header};
        const auto make = [options] { return coronet::length_prefixed_codec{options}; };
        auto messages = binary_messages(60, width);
        // A 1-byte header expresses at most 255 bytes (header included, when it counts itself).
        if (width == 1)
          std::erase_if(messages, [](const std::string& m) { return m.size() > 250; });
        const auto report = check_stream_round_trip(make, messages, {.random_chunkings = 16});
        INFO(report.summary());
        CHECK(report.ok());
      }
    }
  }
}

TEST_CASE("length-prefixed codec gives the same fatal error however the stream is split") {
  const auto make = [] { return coronet::length_prefixed_codec{{.max_frame_length = 8}}; };
  const std::string too_long =
      "\x00\x00\x00\x02ok\x00\x00\x00\x09"
      "123456789\x00\x00\x00\x01z"s;
  const auto report = check_stream_splits(make, too_long);
  INFO(report.summary());
  CHECK(report.ok());
  const auto truncated = check_stream_splits(make,
                                             "\x00\x00\x00\x02ok\x00\x00\x00\x05"
                                             "abc"s);
  INFO(truncated.summary());
  CHECK(truncated.ok());
}

TEST_CASE("datagram codec passes the conformance kit") {
  std::vector<std::string> datagrams = text_messages(100, 3);
  datagrams.push_back("\xED\xA0\x80");            // invalid: surrogate
  datagrams.push_back(std::string(65'508, 'o'));  // invalid: oversize
  datagrams.push_back(std::string(65'507, 'm'));  // largest valid
  const auto report = check_datagrams([] { return coronet::datagram_codec{}; }, datagrams);
  INFO(report.summary());
  CHECK(report.ok());
}

TEST_CASE("the documented netstring codec passes the conformance kit") {
  static_assert(coronet::stream_codec<example::netstring_codec>);
  const auto make = [] { return example::netstring_codec{}; };
  const auto report = check_stream_round_trip(make, binary_messages(100, 4));
  INFO(report.summary());
  CHECK(report.ok());
  const auto errors = check_stream_splits(make, "2:hi,3:abcX5:hello,"s);
  INFO(errors.summary());
  CHECK(errors.ok());
}

namespace {

// Broken on purpose: treats whatever is buffered as a message, so the result depends on how the
// stream was split.
struct split_sensitive_codec {
  using message_type = std::string_view;
  coronet::decode_result<std::string_view> decode(std::string_view bytes) {
    if (bytes.empty()) return coronet::decode_result<std::string_view>::need_more();
    return coronet::decode_result<std::string_view>::complete(bytes, bytes.size());
  }
  coronet::decode_result<std::string_view> decode_eof(std::string_view bytes) {
    return decode(bytes);
  }
  std::error_code encode(std::string_view message, std::string& out) const {
    out += message;
    return {};
  }
};

// Broken on purpose: yields a message without consuming any input.
struct stuck_codec : split_sensitive_codec {
  coronet::decode_result<std::string_view> decode(std::string_view) {
    return coronet::decode_result<std::string_view>::complete("again", 0);
  }
  coronet::decode_result<std::string_view> decode_eof(std::string_view bytes) {
    return decode(bytes);
  }
};

}  // namespace

TEST_CASE("the conformance kit reports a codec whose output depends on the split") {
  const auto report = check_stream_splits([] { return split_sensitive_codec{}; }, "hello world");
  CHECK_FALSE(report.ok());
  CHECK(report.summary().find("split at 1") != std::string::npos);
}

TEST_CASE("the conformance kit reports a codec that makes no progress") {
  const auto report = check_stream_splits([] { return stuck_codec{}; }, "abc");
  CHECK_FALSE(report.ok());
  CHECK(report.summary().find("without consuming input") != std::string::npos);
}

namespace {

// A user's zero-copy type-length-value message: one type byte, then a value that views into the
// buffer it was decoded from, as the built-in codecs' std::string_view messages do.
struct tlv_view {
  std::uint8_t type = 0;
  std::string_view value;
  friend bool operator==(const tlv_view&, const tlv_view&) = default;
};

// What the kit keeps a tlv_view as.
struct tlv_record {
  std::uint8_t type = 0;
  std::string value;
  friend bool operator==(const tlv_record&, const tlv_record&) = default;
};

// The same message, with no owned form declared for it.
struct undeclared_tlv_view : tlv_view {
  friend bool operator==(const undeclared_tlv_view&, const undeclared_tlv_view&) = default;
};

// Frames are a type byte, a length byte and up to 255 value bytes. With `truncates_values`
// (broken on purpose) it yields a value cut short when the buffer ends inside it, so what it
// decodes depends on where the stream was split.
template <typename Message, bool truncates_values = false>
struct basic_tlv_codec {
  using message_type = Message;
  using result = coronet::decode_result<Message>;

  result decode(std::string_view bytes) {
    if (bytes.size() < 2) return result::need_more();
    std::size_t length = static_cast<unsigned char>(bytes[1]);
    if (bytes.size() < 2 + length) {
      if (!truncates_values) return result::need_more();
      length = bytes.size() - 2;
    }
    Message message;
    message.type = static_cast<std::uint8_t>(bytes[0]);
    message.value = bytes.substr(2, length);
    return result::complete(message, 2 + length);
  }
  result decode_eof(std::string_view bytes) {
    result decoded = decode(bytes);
    if (!decoded.needs_more() || bytes.empty()) return decoded;
    return result::failure(coronet::errc::truncated_frame, "stream ended inside a TLV frame",
                           bytes.size(), false);
  }
  std::error_code encode(const Message& message, std::string& out) const {
    if (message.value.size() > 255) return coronet::errc::frame_too_long;
    out.push_back(static_cast<char>(message.type));
    out.push_back(static_cast<char>(message.value.size()));
    out += message.value;
    return {};
  }
};

using tlv_codec = basic_tlv_codec<tlv_view>;

// Broken on purpose: yields whatever is buffered, as bytes the kit has no formatter for.
struct greedy_byte_codec {
  using message_type = std::vector<std::uint8_t>;
  using result = coronet::decode_result<message_type>;
  result decode(std::string_view bytes) {
    if (bytes.empty()) return result::need_more();
    return result::complete(message_type(bytes.begin(), bytes.end()), bytes.size());
  }
  result decode_eof(std::string_view bytes) { return decode(bytes); }
  std::error_code encode(const message_type& message, std::string& out) const {
    out.append(message.begin(), message.end());
    return {};
  }
};

}  // namespace

// The declared owned form: the kit keeps a tlv_record, and prints it in failure reports.
template <>
struct coronet::testing::owned_form<tlv_view> {
  using type = tlv_record;
  static tlv_record copy(const tlv_view& message) {
    return {message.type, std::string{message.value}};
  }
  static std::string format(const tlv_record& record) {
    return "tlv{type " + std::to_string(record.type) + ", \"" + record.value + "\"}";
  }
};

TEST_CASE(
    "a type-length-value codec whose message holds a string_view passes the conformance kit") {
  const auto make = [] { return tlv_codec{}; };
  const std::vector<std::string> values = {
      "hello", "", std::string(255, 'v'), "\x00\xff\n"s, "second hello", std::string(100, 'w')};
  std::vector<tlv_view> messages;
  for (std::size_t i = 0; i < values.size(); ++i)
    messages.push_back({static_cast<std::uint8_t>(i + 1), values[i]});
  const auto round_trip = check_stream_round_trip(make, messages);
  INFO(round_trip.summary());
  CHECK(round_trip.ok());

  // A truncated last frame must give the same error however the stream is split.
  const auto truncated = check_stream_splits(make, "\x01\x02hi\x02\x05xyz"s);
  INFO(truncated.summary());
  CHECK(truncated.ok());

  const auto datagrams = check_datagrams(make, {"\x01\x05hello"s, "\x02\x00"s, "\x03\x03xyz"s});
  INFO(datagrams.summary());
  CHECK(datagrams.ok());
}

TEST_CASE("a conformance failure shows both messages and the split that exposed it") {
  const auto make = [] { return basic_tlv_codec<tlv_view, true>{}; };
  const auto report = check_stream_splits(make, "\x01\x05hello\x02\x02ok"s);
  REQUIRE_FALSE(report.ok());
  INFO(report.summary());
  const std::string split_at_4 =
      "split at 4: event 0: expected message(tlv{type 1, \"hello\"}), got message(tlv{type 1, "
      "\"he\"}) (decoded at stream offset 0 with 4 of 11 bytes fed)";
  CHECK(std::find(report.failures.begin(), report.failures.end(), split_at_4) !=
        report.failures.end());
}

TEST_CASE("a conformance failure shows messages that have no formatter as bytes in hex") {
  const auto report = check_stream_splits([] { return greedy_byte_codec{}; }, "\x01\x02\xff"s);
  REQUIRE_FALSE(report.ok());
  INFO(report.summary());
  CHECK(report.failures.front() ==
        "split at 1: event 0: expected message(bytes 01 02 ff), got message(bytes 01) (decoded at "
        "stream offset 0 with 1 of 3 bytes fed)");
}

TEST_CASE("the conformance kit reports a message that still views into its buffer once kept") {
  const auto make = [] { return basic_tlv_codec<undeclared_tlv_view>{}; };
  const auto splits = check_stream_splits(make, "\x01\x05hello\x02\x02ok"s);
  CHECK_FALSE(splits.ok());
  CHECK(splits.summary().find("still views into the buffer") != std::string::npos);
  const auto datagrams = check_datagrams(make, {"\x01\x05hello"s});
  CHECK_FALSE(datagrams.ok());
  CHECK(datagrams.summary().find("still views into the buffer") != std::string::npos);
}
