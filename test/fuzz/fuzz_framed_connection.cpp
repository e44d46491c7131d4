// framed_connection fed through coronet::testing::memory_stream: whatever the bytes, the chunking,
// the pipe size, the queue policy and the way the stream ends, the connection decodes what the
// codec alone decodes, echoes whole messages, keeps its send queue bounded and finishes.
//
// Input layout: [flags][codec a][codec b][pipe][queue][read size][seed][end at] then the stream.
//   flags:     bit 0 codec (0 line_codec, 1 length_prefixed_codec); bits 1-2 how it ends:
//              0/3 the peer closes (end of stream), 1 the peer resets, 2 the server closes;
//              bits 3-4 send_queue_policy (wait, drop, disconnect, wait); bit 5 echo with
//              try_write instead of write
//   codec a:   line: max_line_length (0 = default, 255 = no limit, else 1..64);
//              length: bits 0-1 header width 1/2/4/8, bit 2 little endian, bit 3 length
//              includes header
//   codec b:   line: bit 0 set = validate_utf8 off; length: max_frame_length as codec a above
//   pipe:      bytes each direction of the memory stream holds: 1 + pipe (0 = 64 KiB)
//   queue:     send_queue_limit: 16 * queue bytes (0: one message at a time)
//   read size: max_read_size: 1 + 64 * read size
//   seed:      chunk sizes of the peer's writes and reads (1..64, from a xorshift generator)
//   end at:    for a reset or a server close: after this many chunks / messages
// Properties: every event (message or codec error) is the next one the codec yields when fed
// the whole stream; the peer's echo decodes to a prefix of the messages write() accepted; the
// queue never holds more than its limit plus one message; the io_context finishes in a bounded
// number of poll() rounds (no timers are involved: every timeout is off).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "coronet/codec/length_prefixed_codec.hpp"
#include "coronet/codec/line_codec.hpp"
#include "coronet/codec/utf8.hpp"
#include "coronet/error.hpp"
#include "coronet/stream/framed_connection.hpp"
#include "coronet/testing/codec_conformance.hpp"
#include "coronet/testing/memory_stream.hpp"
#include "fuzz_support.hpp"

namespace {

using coronet::errc;
using coronet::testing::memory_stream;
constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

enum class ending { peer_closes, peer_resets, server_closes };

struct plan {
  ending end = ending::peer_closes;
  bool use_try_write = false;
  std::size_t pipe_capacity = 64 * 1024;
  coronet::connection_options options;
  std::uint32_t seed = 1;
  std::size_t end_at = 0;
};

// Chunk sizes 1..64 from a xorshift generator: deterministic for a given input.
struct chunker {
  std::uint32_t state;
  std::size_t next() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return 1 + state % 64;
  }
};

bool is_codec_error(std::error_code error) {
  return error == errc::frame_too_long || error == errc::invalid_utf8 ||
         error == errc::bad_length || error == errc::truncated_frame;
}

template <typename Codec>
struct run_state {
  std::vector<coronet::testing::event_for<Codec>> events;  // What read() yielded.
  std::vector<std::string> accepted;                       // Messages write() queued.
  std::string echoed;                                      // What the peer read back.
  bool ended_at_eof = false;
  bool server_done = false;
  bool writer_done = false;
  bool reader_done = false;
};

// What any message of `codec` must look like.
void check_message(const coronet::line_codec& codec, std::string_view line) {
  FUZZ_CHECK(line.size() <= codec.options().max_line_length);
  FUZZ_CHECK(line.find('\n') == std::string_view::npos);
  if (codec.options().validate_utf8) FUZZ_CHECK(coronet::check_utf8(line).valid());
}
void check_message(const coronet::length_prefixed_codec& codec, std::string_view payload) {
  FUZZ_CHECK(payload.size() <= codec.options().max_frame_length);
}

template <typename Codec>
asio::awaitable<void> serve(coronet::framed_connection<Codec, memory_stream>& conn,
                            const Codec& codec, const plan& how, run_state<Codec>& state) {
  const std::size_t limit = how.options.send_queue_limit;
  std::size_t largest_frame = 0;  // What one message may add to a queue under its limit.
  while (true) {
    auto result = co_await conn.read();
    if (!result) {
      if (result.at_end()) state.ended_at_eof = true;
      if (!is_codec_error(result.error())) break;  // A transport error or the end.
      state.events.push_back({true, {}, result.error()});
      if (!result.recoverable()) break;
      continue;
    }
    const std::string message{*result};
    check_message(codec, message);
    state.events.push_back({false, message, {}});

    std::string framed;
    const bool encodable = !codec.encode(message, framed);
    largest_frame = std::max(largest_frame, framed.size());
    const std::error_code error =
        how.use_try_write ? conn.try_write(message) : co_await conn.write(message);
    if (!error) state.accepted.push_back(message);
    FUZZ_CHECK(!error || !encodable || error == errc::send_queue_full ||
               error == errc::slow_consumer || !conn.is_open());
    FUZZ_CHECK(conn.queued_bytes() <= std::max<std::size_t>(limit, 1) - 1 + largest_frame);
    if (how.end == ending::server_closes && state.events.size() >= how.end_at) conn.close();
  }
  co_await conn.close_gracefully(std::chrono::seconds{1});
  state.server_done = true;
}

template <typename Codec>
asio::awaitable<void> write_stream(memory_stream& peer, std::string_view stream, const plan& how,
                                   run_state<Codec>& state) {
  chunker chunks{how.seed};
  std::size_t offset = 0;
  for (std::size_t index = 0; offset < stream.size(); ++index) {
    if (how.end == ending::peer_resets && index == how.end_at) {
      peer.reset();
      state.writer_done = true;
      co_return;
    }
    const std::size_t size = std::min(chunks.next(), stream.size() - offset);
    auto [error, written] = co_await asio::async_write(
        peer, asio::buffer(stream.data() + offset, size), tuple_awaitable);
    if (error) break;
    offset += written;
  }
  // Let the server take everything and the peer's reader collect the echoes, then close: a
  // memory_stream has no half-close, closing ends this end's reads too.
  const auto executor = peer.get_executor();
  for (int round = 0; round < 64 || (peer.unread_by_peer() > 0 && !state.server_done); ++round) {
    co_await asio::post(executor, asio::use_awaitable);
  }
  if (how.end == ending::peer_resets) {
    peer.reset();
  } else {
    peer.close();
  }
  state.writer_done = true;
}

template <typename Codec>
asio::awaitable<void> read_echoes(memory_stream& peer, const plan& how, run_state<Codec>& state) {
  chunker chunks{how.seed ^ 0x9E3779B9U};
  char buffer[64];
  const auto executor = peer.get_executor();
  while (true) {
    // A reader that sometimes lags: the server's queue fills and its policy comes into play.
    for (std::size_t lag = chunks.next() % 8; lag > 0; --lag) {
      co_await asio::post(executor, asio::use_awaitable);
    }
    auto [error, count] =
        co_await peer.async_read_some(asio::buffer(buffer, chunks.next()), tuple_awaitable);
    state.echoed.append(buffer, count);
    if (error) break;
  }
  state.reader_done = true;
}

// The echo, decoded by a fresh codec without end of stream (a closed connection may have cut the
// last frame), must be a prefix of the accepted messages.
template <typename Codec>
void check_echo(const Codec& fresh, const run_state<Codec>& state) {
  Codec codec = fresh;
  std::string_view rest = state.echoed;
  std::size_t index = 0;
  while (true) {
    auto result = codec.decode(rest);
    if (!result.has_message()) {
      FUZZ_CHECK(!result.has_error());  // We only ever sent frames the codec made.
      break;
    }
    FUZZ_CHECK(index < state.accepted.size());
    FUZZ_CHECK(std::string_view{result.message()} == state.accepted[index]);
    ++index;
    rest.remove_prefix(result.consumed());
  }
}

template <typename Codec>
void run(const Codec& codec, std::string_view stream, const plan& how) {
  const auto expected = coronet::testing::feed_in_chunks(codec, stream, {stream.size()}).events;

  asio::io_context io;
  auto [server_side, client_side] =
      coronet::testing::make_memory_stream_pair(io.get_executor(), how.pipe_capacity);
  coronet::framed_connection<Codec, memory_stream> conn{std::move(server_side), codec, how.options};
  memory_stream peer = std::move(client_side);
  run_state<Codec> state;
  asio::co_spawn(io, serve(conn, codec, how, state), asio::detached);
  asio::co_spawn(io, write_stream(peer, stream, how, state), asio::detached);
  asio::co_spawn(io, read_echoes(peer, how, state), asio::detached);

  // No timer is armed (every timeout is off), so each round makes progress or everything is
  // done; a round count far past the input's size means something spins or hangs.
  const std::size_t round_limit = 1000 + 64 * stream.size();
  std::size_t rounds = 0;
  while (!(state.server_done && state.writer_done && state.reader_done)) {
    FUZZ_CHECK(++rounds <= round_limit);
    io.poll();
    io.restart();
  }

  FUZZ_CHECK(state.events.size() <= expected.size());
  FUZZ_CHECK(std::equal(state.events.begin(), state.events.end(), expected.begin()));
  if (state.ended_at_eof) FUZZ_CHECK(state.events == expected);
  check_echo(codec, state);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  coronet::fuzz::input_reader input{data, size};
  const std::uint8_t flags = input.take_byte();
  const std::uint8_t codec_a = input.take_byte();
  const std::uint8_t codec_b = input.take_byte();
  const std::uint8_t pipe = input.take_byte();
  const std::uint8_t queue = input.take_byte();
  const std::uint8_t read_size = input.take_byte();
  const std::uint8_t seed = input.take_byte();
  const std::uint8_t end_at = input.take_byte();
  const std::string_view stream = input.rest();

  plan how;
  const unsigned end_bits = (flags >> 1) & 3U;
  how.end = end_bits == 1   ? ending::peer_resets
            : end_bits == 2 ? ending::server_closes
                            : ending::peer_closes;
  const unsigned policy_bits = (flags >> 3) & 3U;
  how.options.queue_policy = policy_bits == 1   ? coronet::send_queue_policy::drop
                             : policy_bits == 2 ? coronet::send_queue_policy::disconnect
                                                : coronet::send_queue_policy::wait;
  how.use_try_write = (flags & 0x20U) != 0;
  how.pipe_capacity = pipe == 0 ? 64 * 1024 : 1U + pipe;
  how.options.send_queue_limit = 16U * queue;
  how.options.max_read_size = 1U + 64U * read_size;
  // The oracle compares every decode error with the codec's own: have read() return them.
  how.options.decode_errors = coronet::decode_error_policy::report;
  how.options.idle_timeout = std::chrono::milliseconds{0};
  how.options.read_timeout = std::chrono::milliseconds{0};
  how.options.write_timeout = std::chrono::milliseconds{0};
  how.seed = 0x2545F491U ^ (std::uint32_t{seed} << 8 | seed);
  how.end_at = end_at;

  if ((flags & 1U) == 0) {
    coronet::line_codec_options options;
    options.max_line_length = coronet::fuzz::limit_from_byte(codec_a, options.max_line_length);
    options.validate_utf8 = (codec_b & 1U) == 0;
    run(coronet::line_codec{options}, stream, how);
  } else {
    coronet::length_prefixed_options options;
    constexpr std::size_t widths[] = {1, 2, 4, 8};
    options.header_width = widths[codec_a & 3U];
    options.order =
        (codec_a & 4U) != 0 ? coronet::byte_order::little_endian : coronet::byte_order::big_endian;
    options.length_includes_header = (codec_a & 8U) != 0;
    options.max_frame_length = coronet::fuzz::limit_from_byte(codec_b, options.max_frame_length);
    run(coronet::length_prefixed_codec{options}, stream, how);
  }
  return 0;
}
