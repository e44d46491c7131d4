// line_codec: any split decodes like a reference line splitter, within limits, and round-trips.
//
// Input layout: [max][flags][chunk a][chunk b] then the stream.
//   max:     max_line_length: 0 = default (64 KiB), 255 = no limit (SIZE_MAX), else 1..64
//   flags:   bit 0 set = validate_utf8 off
//   chunk a, chunk b: the chunked run feeds 1 + a, 1 + b, 1 + a, ... bytes at a time
// The stream is fed whole, in those chunks and one byte at a time; all three runs must produce
// the reference's events exactly, then every decoded line is encoded and decoded again.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "coronet/codec/line_codec.hpp"
#include "coronet/error.hpp"
#include "coronet/testing/codec_conformance.hpp"
#include "fuzz_support.hpp"

namespace {

using coronet::errc;
using coronet::line_codec;
using coronet::line_codec_options;
using coronet::fuzz::reference_check_utf8;
using events = std::vector<coronet::testing::event_for<line_codec>>;

// What the documentation promises, one line at a time: split at '\n', drop one '\r' before it,
// then too long or invalid UTF-8 is an error, anything else a message. A final line without '\n'
// counts at end of stream.
events reference_events(std::string_view stream, const line_codec_options& options) {
  events expected;
  while (!stream.empty()) {
    const std::size_t newline = stream.find('\n');
    std::string_view line = stream.substr(0, newline);
    stream.remove_prefix(newline == std::string_view::npos ? stream.size() : newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > options.max_line_length) {
      expected.push_back({true, {}, make_error_code(errc::frame_too_long)});
    } else if (options.validate_utf8 && !reference_check_utf8(line).valid()) {
      expected.push_back({true, {}, make_error_code(errc::invalid_utf8)});
    } else {
      expected.push_back({false, std::string{line}, {}});
    }
  }
  return expected;
}

coronet::testing::feed_outcome<line_codec> feed(const line_codec_options& options,
                                                std::string_view stream,
                                                const std::vector<std::size_t>& chunks) {
  auto outcome = coronet::testing::feed_in_chunks(line_codec{options}, stream, chunks);
  FUZZ_CHECK(outcome.broken.empty());
  return outcome;
}

void check_messages_obey_options(const events& decoded, const line_codec_options& options) {
  for (const auto& event : decoded) {
    if (event.is_error) continue;
    FUZZ_CHECK(event.message.size() <= options.max_line_length);
    FUZZ_CHECK(event.message.find('\n') == std::string::npos);
    if (options.validate_utf8) FUZZ_CHECK(reference_check_utf8(event.message).valid());
  }
}

// encode() refuses exactly the lines it cannot send faithfully, and leaves `out` alone then.
void check_encode(const line_codec& codec, std::string_view line) {
  const line_codec_options& options = codec.options();
  const bool too_long = line.size() > options.max_line_length;
  const bool has_delimiter =
      line.find('\n') != std::string_view::npos || (!line.empty() && line.back() == '\r');
  const bool bad_text = options.validate_utf8 && !reference_check_utf8(line).valid();

  std::string out = "x";
  const std::error_code error = codec.encode(line, out);
  if (!too_long && !has_delimiter && !bad_text) {
    FUZZ_CHECK(!error);
    FUZZ_CHECK(out == "x" + std::string{line} + "\n");
    return;
  }
  FUZZ_CHECK((error == errc::frame_too_long && too_long) ||
             (error == errc::delimiter_in_message && has_delimiter) ||
             (error == errc::invalid_utf8 && bad_text));
  FUZZ_CHECK(out == "x");
}

// Every decoded line that can be sent (not ending in '\r') decodes back to itself.
void check_round_trip(const events& decoded, const line_codec_options& options,
                      const std::vector<std::size_t>& chunks) {
  const line_codec encoder{options};
  std::string stream;
  events expected;
  for (const auto& event : decoded) {
    if (event.is_error) continue;
    check_encode(encoder, event.message);
    if (!event.message.empty() && event.message.back() == '\r') continue;
    FUZZ_CHECK(!encoder.encode(event.message, stream));
    expected.push_back(event);
  }
  FUZZ_CHECK(feed(options, stream, {stream.size()}).events == expected);
  FUZZ_CHECK(feed(options, stream, chunks).events == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  coronet::fuzz::input_reader input{data, size};
  line_codec_options options;
  options.max_line_length =
      coronet::fuzz::limit_from_byte(input.take_byte(), options.max_line_length);
  options.validate_utf8 = (input.take_byte() & 1U) == 0;
  const std::size_t chunk_a = 1U + input.take_byte();
  const std::size_t chunk_b = 1U + input.take_byte();
  const std::string_view stream = input.rest();

  const events expected = reference_events(stream, options);
  const auto whole = feed(options, stream, {stream.size()});
  FUZZ_CHECK(whole.events == expected);

  const std::vector<std::size_t> chunks =
      coronet::fuzz::alternating_chunks(stream.size(), chunk_a, chunk_b);
  const auto chunked = feed(options, stream, chunks);
  FUZZ_CHECK(chunked.events == whole.events);
  // The codec drops an over-long line itself: the caller holds at most the limit, "\r\n" and
  // the chunk just read.
  const std::size_t largest_chunk = std::min(stream.size(), std::max(chunk_a, chunk_b));
  FUZZ_CHECK(chunked.max_buffered <=
             coronet::fuzz::saturating_add(options.max_line_length, 2 + largest_chunk));

  const auto byte_at_a_time = feed(options, stream, std::vector<std::size_t>(stream.size(), 1));
  FUZZ_CHECK(byte_at_a_time.events == whole.events);
  FUZZ_CHECK(byte_at_a_time.max_buffered <=
             coronet::fuzz::saturating_add(options.max_line_length, 3));

  check_messages_obey_options(whole.events, options);
  check_encode(line_codec{options}, stream);
  check_round_trip(whole.events, options, chunks);
  return 0;
}
