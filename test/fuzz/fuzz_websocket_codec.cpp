// websocket_codec: any split decodes the same events, the caller never buffers more than a frame
// header and one chunk, every message obeys RFC 6455 and the options, and every decoded message
// re-encodes (by the peer's role) to a stream that decodes back to the same messages.
//
// Input layout: [max][flags][chunk a][chunk b] then the stream.
//   max:     max_message_size: 0 = default (1 MiB), 255 = no limit (SIZE_MAX), else 1..64
//   flags:   bit 0 set = client role (reads unmasked frames); bits 1..4 = max_fragments - 1
//            when bit 5 is set, else the default
//   chunk a, chunk b: the chunked run feeds 1 + a, 1 + b, 1 + a, ... bytes at a time
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/codec/utf8.hpp"
#include "coronet/codec/websocket_codec.hpp"
#include "coronet/testing/codec_conformance.hpp"
#include "fuzz_support.hpp"

namespace {

using coronet::websocket_codec;
using coronet::websocket_codec_options;
using coronet::websocket_kind;
using coronet::websocket_role;
using events = std::vector<coronet::testing::event_for<websocket_codec>>;

coronet::testing::feed_outcome<websocket_codec> feed(const websocket_codec_options& options,
                                                     std::string_view stream,
                                                     const std::vector<std::size_t>& chunks) {
  auto outcome = coronet::testing::feed_in_chunks(websocket_codec{options}, stream, chunks);
  FUZZ_CHECK(outcome.broken.empty());
  return outcome;
}

void check_messages_obey_rules(const events& decoded, const websocket_codec_options& options) {
  for (const auto& event : decoded) {
    if (event.is_error) continue;
    const auto& message = event.message;
    switch (message.kind) {
      case websocket_kind::text:
        FUZZ_CHECK(coronet::fuzz::reference_check_utf8(message.payload).valid());
        [[fallthrough]];
      case websocket_kind::binary:
        FUZZ_CHECK(message.payload.size() <= options.max_message_size);
        break;
      case websocket_kind::close:
        FUZZ_CHECK(message.close_code == coronet::websocket_close::no_status ||
                   coronet::is_valid_close_code(message.close_code));
        FUZZ_CHECK(coronet::fuzz::reference_check_utf8(message.payload).valid());
        FUZZ_CHECK(message.payload.size() <= 123);
        break;
      case websocket_kind::ping:
      case websocket_kind::pong:
        FUZZ_CHECK(message.payload.size() <= 125);
        break;
    }
  }
}

// The peer's encoder writes every decoded message so that this side decodes it back.
void check_round_trip(const events& decoded, const websocket_codec_options& options,
                      const std::vector<std::size_t>& chunks) {
  websocket_codec_options peer = options;
  peer.role =
      options.role == websocket_role::server ? websocket_role::client : websocket_role::server;
  const websocket_codec encoder{peer};
  std::string stream;
  events expected;
  for (const auto& event : decoded) {
    if (event.is_error) continue;
    FUZZ_CHECK(!encoder.encode(event.message.view(), stream));
    expected.push_back(event);
  }
  FUZZ_CHECK(feed(options, stream, {stream.size()}).events == expected);
  FUZZ_CHECK(feed(options, stream, chunks).events == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  coronet::fuzz::input_reader input{data, size};
  websocket_codec_options options;
  options.max_message_size =
      coronet::fuzz::limit_from_byte(input.take_byte(), options.max_message_size);
  const std::uint8_t flags = input.take_byte();
  if ((flags & 1U) != 0) options.role = websocket_role::client;
  if ((flags & 0x20U) != 0) options.max_fragments = 1U + ((flags >> 1) & 0x0FU);
  const std::size_t chunk_a = 1U + input.take_byte();
  const std::size_t chunk_b = 1U + input.take_byte();
  const std::string_view stream = input.rest();

  const auto whole = feed(options, stream, {stream.size()});
  const std::vector<std::size_t> chunks =
      coronet::fuzz::alternating_chunks(stream.size(), chunk_a, chunk_b);
  const auto chunked = feed(options, stream, chunks);
  FUZZ_CHECK(chunked.events == whole.events);
  // Payload is consumed as it arrives: the caller holds at most a frame header (14 bytes) and
  // the chunk just read.
  const std::size_t largest_chunk = std::min(stream.size(), std::max(chunk_a, chunk_b));
  FUZZ_CHECK(chunked.max_buffered <= 14 + largest_chunk);

  const auto byte_at_a_time = feed(options, stream, std::vector<std::size_t>(stream.size(), 1));
  FUZZ_CHECK(byte_at_a_time.events == whole.events);
  FUZZ_CHECK(byte_at_a_time.max_buffered <= 14);

  check_messages_obey_rules(whole.events, options);
  check_round_trip(whole.events, options, chunks);
  return 0;
}
