// length_prefixed_codec: splits decode like a reference parser, within limits; re-encoding exact.
//
// Input layout: [flags][max][chunk a][chunk b] then the stream.
//   flags: bits 0-1 header width 1/2/4/8, bit 2 little endian, bit 3 length includes header
//   max:   max_frame_length: 0 = default (16 MiB), 255 = no limit (SIZE_MAX), else 1..64
//   chunk a, chunk b: the chunked run feeds 1 + a, 1 + b, 1 + a, ... bytes at a time
// The stream is fed whole, in those chunks and one byte at a time; all three runs must produce
// the reference's events exactly.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "coronet/codec/length_prefixed_codec.hpp"
#include "coronet/error.hpp"
#include "coronet/testing/codec_conformance.hpp"
#include "fuzz_support.hpp"

namespace {

using coronet::byte_order;
using coronet::errc;
using coronet::length_prefixed_codec;
using coronet::length_prefixed_options;
using events = std::vector<coronet::testing::event_for<length_prefixed_codec>>;

std::uint64_t header_value(std::string_view header, byte_order order) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::size_t shift = 8 * (order == byte_order::big_endian ? header.size() - 1 - i : i);
    value |= std::uint64_t{static_cast<unsigned char>(header[i])} << shift;
  }
  return value;
}

// The documented format, frame by frame. The first error ends the stream (framing is lost).
// Returns how many leading bytes the complete frames span.
std::size_t reference_events(std::string_view stream, const length_prefixed_options& options,
                             events& expected) {
  const std::size_t width = options.header_width;
  std::size_t framed = 0;
  while (framed < stream.size()) {
    const std::string_view rest = stream.substr(framed);
    if (rest.size() < width) {
      expected.push_back({true, {}, make_error_code(errc::truncated_frame)});
      break;
    }
    std::uint64_t length = header_value(rest.substr(0, width), options.order);
    if (options.length_includes_header) {
      if (length < width) {
        expected.push_back({true, {}, make_error_code(errc::bad_length)});
        break;
      }
      length -= width;
    }
    if (length > options.max_frame_length) {
      expected.push_back({true, {}, make_error_code(errc::frame_too_long)});
      break;
    }
    if (length > rest.size() - width) {
      expected.push_back({true, {}, make_error_code(errc::truncated_frame)});
      break;
    }
    expected.push_back({false, std::string{rest.substr(width, length)}, {}});
    framed += width + length;
  }
  return framed;
}

coronet::testing::feed_outcome<length_prefixed_codec> feed(const length_prefixed_options& options,
                                                           std::string_view stream,
                                                           const std::vector<std::size_t>& chunks) {
  auto outcome = coronet::testing::feed_in_chunks(length_prefixed_codec{options}, stream, chunks);
  FUZZ_CHECK(outcome.broken.empty());
  return outcome;
}

// encode() refuses a payload over the limit or beyond the header's range, leaving `out` alone.
void check_encode(const length_prefixed_codec& codec, std::string_view payload) {
  const length_prefixed_options& options = codec.options();
  const std::size_t width = options.header_width;
  const std::uint64_t largest = width == 8 ? std::numeric_limits<std::uint64_t>::max()
                                           : (std::uint64_t{1} << (8 * width)) - 1;
  const std::uint64_t length = payload.size() + (options.length_includes_header ? width : 0);
  const bool fits = payload.size() <= options.max_frame_length && length <= largest;

  std::string out = "x";
  const std::error_code error = codec.encode(payload, out);
  if (!fits) {
    FUZZ_CHECK(error == errc::frame_too_long);
    FUZZ_CHECK(out == "x");
    return;
  }
  FUZZ_CHECK(!error);
  FUZZ_CHECK(out.size() == 1 + width + payload.size());
  FUZZ_CHECK(header_value(std::string_view{out}.substr(1, width), options.order) == length);
  FUZZ_CHECK(std::string_view{out}.substr(1 + width) == payload);
}

// Only the widths 1, 2, 4 and 8 are accepted; checked once per process.
void check_constructor_rejects_bad_widths() {
  static bool checked = false;
  if (checked) return;
  checked = true;
  for (std::size_t width = 0; width <= 17; ++width) {
    bool threw = false;
    try {
      length_prefixed_codec codec{length_prefixed_options{.header_width = width}};
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    FUZZ_CHECK(threw == !(width == 1 || width == 2 || width == 4 || width == 8));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_constructor_rejects_bad_widths();
  coronet::fuzz::input_reader input{data, size};
  const std::uint8_t flags = input.take_byte();
  length_prefixed_options options;
  options.header_width = std::size_t{1} << (flags & 3U);
  options.order = (flags & 4U) != 0 ? byte_order::little_endian : byte_order::big_endian;
  options.length_includes_header = (flags & 8U) != 0;
  options.max_frame_length =
      coronet::fuzz::limit_from_byte(input.take_byte(), options.max_frame_length);
  const std::size_t chunk_a = 1U + input.take_byte();
  const std::size_t chunk_b = 1U + input.take_byte();
  const std::string_view stream = input.rest();

  events expected;
  const std::size_t framed = reference_events(stream, options, expected);
  const auto whole = feed(options, stream, {stream.size()});
  FUZZ_CHECK(whole.events == expected);

  const std::vector<std::size_t> chunks =
      coronet::fuzz::alternating_chunks(stream.size(), chunk_a, chunk_b);
  const auto chunked = feed(options, stream, chunks);
  FUZZ_CHECK(chunked.events == whole.events);
  // The caller never holds more than one incomplete frame plus the chunk just read.
  const std::size_t largest_chunk = std::min(stream.size(), std::max(chunk_a, chunk_b));
  FUZZ_CHECK(chunked.max_buffered <=
             coronet::fuzz::saturating_add(options.max_frame_length,
                                           options.header_width + largest_chunk));

  const auto byte_at_a_time = feed(options, stream, std::vector<std::size_t>(stream.size(), 1));
  FUZZ_CHECK(byte_at_a_time.events == whole.events);

  // Every message is within the limit, and encoding the messages rebuilds the framed bytes.
  const length_prefixed_codec encoder{options};
  std::string reencoded;
  events messages;
  for (const auto& event : whole.events) {
    if (event.is_error) continue;
    FUZZ_CHECK(event.message.size() <= options.max_frame_length);
    check_encode(encoder, event.message);
    FUZZ_CHECK(!encoder.encode(event.message, reencoded));
    messages.push_back(event);
  }
  FUZZ_CHECK(reencoded == stream.substr(0, framed));
  FUZZ_CHECK(feed(options, reencoded, chunks).events == messages);
  check_encode(encoder, stream);
  return 0;
}
