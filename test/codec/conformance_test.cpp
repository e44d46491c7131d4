// Every built-in codec, and the custom codec of docs/codecs.md, through the conformance kit; and
// proof that the kit catches codecs that break the contract.
#include <catch2/catch.hpp>
#include <coronet/codec.hpp>
#include <coronet/testing/codec_conformance.hpp>
#include <netstring_codec.hpp>
#include <random>
#include <string>
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
