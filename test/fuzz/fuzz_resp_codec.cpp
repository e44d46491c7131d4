// resp_codec: any split decodes like the whole stream, decoded values stay within the limits,
// and every decoded value encodes to bytes that decode back to the same value.
//
// Input layout: [bulk][depth][elements][chunk a][chunk b] then the stream.
//   bulk, elements: max_bulk_length / max_elements: 0 = default, 255 = no limit, else 1..64
//   depth: max_depth: 0 = default (16), else 1 + byte % 40
//   chunk a, chunk b: the chunked run feeds 1 + a, 1 + b, 1 + a, ... bytes at a time
// max_message_size stays at its default except when bulk is small (then 4 KiB), so the
// message bound is exercised too.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/codec/resp_codec.hpp"
#include "coronet/testing/codec_conformance.hpp"
#include "fuzz_support.hpp"

namespace {

using coronet::resp_codec;
using coronet::resp_codec_options;
using coronet::resp_type;
using coronet::resp_value;

coronet::testing::feed_outcome<resp_codec> feed(const resp_codec_options& options,
                                                std::string_view stream,
                                                const std::vector<std::size_t>& chunks) {
  auto outcome = coronet::testing::feed_in_chunks(resp_codec{options}, stream, chunks);
  FUZZ_CHECK(outcome.broken.empty());
  return outcome;
}

// Depth and string lengths of a decoded value are within the options.
void check_limits(const resp_value& value, const resp_codec_options& options, std::size_t depth) {
  FUZZ_CHECK(value.text.size() <= options.max_bulk_length);
  if (value.is_aggregate()) {
    FUZZ_CHECK(depth + 1 <= options.max_depth);
    FUZZ_CHECK(value.elements.size() <= options.max_elements);
    if (value.type == resp_type::map) FUZZ_CHECK(value.elements.size() % 2 == 0);
    for (const resp_value& element : value.elements)
      check_limits(element, options, depth + 1);
  } else {
    FUZZ_CHECK(value.elements.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  coronet::fuzz::input_reader input{data, size};
  resp_codec_options options;
  const std::uint8_t bulk = input.take_byte();
  options.max_bulk_length = coronet::fuzz::limit_from_byte(bulk, options.max_bulk_length);
  if (bulk != 0 && bulk != 255) options.max_message_size = 4096;
  const std::uint8_t depth = input.take_byte();
  if (depth != 0) options.max_depth = 1 + depth % 40U;
  options.max_elements = coronet::fuzz::limit_from_byte(input.take_byte(), options.max_elements);
  const std::size_t chunk_a = 1U + input.take_byte();
  const std::size_t chunk_b = 1U + input.take_byte();
  const std::string_view stream = input.rest();

  const auto whole = feed(options, stream, {stream.size()});
  const std::vector<std::size_t> chunks =
      coronet::fuzz::alternating_chunks(stream.size(), chunk_a, chunk_b);
  const auto chunked = feed(options, stream, chunks);
  FUZZ_CHECK(chunked.events == whole.events);
  // The caller never holds more than one message (bounded) plus the chunk just read.
  const std::size_t largest_chunk = std::min(stream.size(), std::max(chunk_a, chunk_b));
  FUZZ_CHECK(chunked.max_buffered <=
             coronet::fuzz::saturating_add(options.max_message_size, largest_chunk + 2));
  const auto byte_at_a_time = feed(options, stream, std::vector<std::size_t>(stream.size(), 1));
  FUZZ_CHECK(byte_at_a_time.events == whole.events);

  // Only the last event can be an error: every error loses the framing.
  for (std::size_t i = 0; i + 1 < whole.events.size(); ++i)
    FUZZ_CHECK(!whole.events[i].is_error);

  const resp_codec encoder{options};
  std::string reencoded;
  std::vector<coronet::testing::event_for<resp_codec>> messages;
  for (const auto& event : whole.events) {
    if (event.is_error) {
      FUZZ_CHECK(event.error.category() == coronet::resp_category());
      continue;
    }
    check_limits(event.message, options, 0);
    FUZZ_CHECK(!encoder.encode(event.message, reencoded));
    messages.push_back(event);
  }
  FUZZ_CHECK(feed(options, reencoded, chunks).events == messages);
  return 0;
}
