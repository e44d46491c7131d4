// Codec conformance kit: runs any codec (built-in or a user's) through the checks every coronet
// codec must pass — round trips, every split point, random chunkings, byte-at-a-time feeding —
// and reports each difference. It depends on no test framework: assert on report.ok() and print
// report.summary() with whatever framework you use. A failure shows both messages and the split
// that exposed it; a message that views into its decode buffer needs a declared owned form
// (owned_form.hpp) so that the kit can compare it once the buffer is gone.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "coronet/codec/codec_concepts.hpp"
#include "coronet/testing/owned_form.hpp"

namespace coronet::testing {

/// How a decoded message is kept after its buffer is gone: its owned form (see owned_form).
template <typename Message>
using message_snapshot_t = owned_form_t<Message>;

/// One thing a decoder produced: a message or an error.
template <typename Snapshot>
struct decode_event {
  bool is_error = false;
  Snapshot message{};
  std::error_code error{};

  friend bool operator==(const decode_event&, const decode_event&) = default;
};

template <typename C>
using event_for = decode_event<message_snapshot_t<typename C::message_type>>;

/// Where a feeding run produced an event: what failure reports say about the split.
struct event_origin {
  std::size_t offset = 0;   ///< Stream bytes consumed before the decode() call that produced it.
  std::size_t arrived = 0;  ///< Stream bytes handed to the codec by then.
  bool at_end = false;      ///< Produced by decode_eof(), after the whole stream.
};

/// What a feeding run produced, plus facts about how the codec used the caller's buffer.
template <typename C>
struct feed_outcome {
  std::vector<event_for<C>> events;
  std::size_t max_buffered = 0;       ///< Largest caller buffer handed to decode().
  std::vector<std::string> broken;    ///< Contract violations (consumed too much, no progress).
  std::vector<event_origin> origins;  ///< Where each of `events` came from, in the same order.
};

/// Result of a conformance check: empty failures means the codec passed.
struct conformance_report {
  std::size_t runs = 0;               ///< Feeding runs compared against the reference.
  std::vector<std::string> failures;  ///< One line per difference or contract violation.

  bool ok() const noexcept { return failures.empty(); }
  std::string summary() const {
    std::ostringstream out;
    out << runs << " runs, " << failures.size() << " failures";
    for (std::size_t i = 0; i < failures.size() && i < 20; ++i)
      out << "\n  " << failures[i];
    return out.str();
  }
};

/// Knobs of the stream checks; the defaults keep a check under a second for streams of ~100 KB.
struct conformance_options {
  std::size_t max_split_points = 2048;  ///< Two-chunk splits tried (all of them for short streams).
  std::size_t random_chunkings = 64;    ///< Random chunkings tried.
  std::size_t max_random_chunk = 257;   ///< Largest chunk of a random chunking.
  std::uint64_t seed = 0xC0DEC;         ///< Seed of the random chunkings (reproducible).
};

namespace detail {

template <typename Message>
owned_form_t<Message> snapshot(const Message& message) {
  return owned_form<Message>::copy(message);
}

template <typename Message>
std::string describe(const decode_event<owned_form_t<Message>>& event) {
  if (event.is_error) return "error(" + event.error.message() + ")";
  if constexpr (can_format<Message>) {
    return "message(" + format_kept<Message>(event.message) + ")";
  } else {
    return "message (no formatter)";
  }
}

inline std::string describe_origin(const event_origin& origin, std::size_t stream_size) {
  std::string out = " (decoded at stream offset " + std::to_string(origin.offset);
  if (origin.at_end) return out + " by decode_eof)";
  return out + " with " + std::to_string(origin.arrived) + " of " + std::to_string(stream_size) +
         " bytes fed)";
}

// Where `actual` first differs from `expected`: both events, and where the run produced its own
// (`origins`, when known), which names the chunk boundary that exposed the difference.
template <typename Message>
std::string first_difference(const std::vector<decode_event<owned_form_t<Message>>>& expected,
                             const std::vector<decode_event<owned_form_t<Message>>>& actual,
                             const std::vector<event_origin>& origins = {},
                             std::size_t stream_size = 0) {
  auto origin_of = [&](std::size_t i) {
    return i < origins.size() ? describe_origin(origins[i], stream_size) : std::string{};
  };
  const std::size_t common = std::min(expected.size(), actual.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (!(expected[i] == actual[i])) {
      return "event " + std::to_string(i) + ": expected " + describe<Message>(expected[i]) +
             ", got " + describe<Message>(actual[i]) + origin_of(i);
    }
  }
  const std::string counts = "expected " + std::to_string(expected.size()) + " events, got " +
                             std::to_string(actual.size());
  if (expected.size() > common)
    return counts + "; first missing: " + describe<Message>(expected[common]);
  if (actual.size() > common)
    return counts + "; first extra: " + describe<Message>(actual[common]) + origin_of(common);
  return counts;
}

enum class ownership_probe { no_message, owned, borrowed };

// Decodes the start of `bytes` with two fresh codecs from two copies, scrambles the first copy,
// and compares the kept forms of the two messages: they differ when the kept form still views
// into its buffer, and every later comparison would then read freed memory.
template <typename MakeCodec>
ownership_probe probe_ownership(MakeCodec& make_codec, std::string_view bytes) {
  using message = typename std::invoke_result_t<MakeCodec&>::message_type;
  auto codec = make_codec();
  auto twin = make_codec();
  std::string scrambled{bytes};
  const std::string intact{bytes};
  const auto first = codec.decode(std::string_view{scrambled});
  const auto second = twin.decode(std::string_view{intact});
  if (!first.has_message() || !second.has_message()) return ownership_probe::no_message;
  const owned_form_t<message> kept = snapshot(first.message());
  for (char& byte : scrambled)
    byte = static_cast<char>(~byte);
  return kept == snapshot(second.message()) ? ownership_probe::owned : ownership_probe::borrowed;
}

inline const char* borrowed_message_failure() {
  return "the kept form of a message still views into the buffer it was decoded from: declare "
         "coronet::testing::owned_form<message_type> (see docs/codecs.md); nothing else was "
         "checked";
}

// Runs decode (or decode_eof) on `buffer` until it needs more input, dropping consumed bytes the
// way a framed connection does. Returns false once the codec reported an unrecoverable error.
// `fed` is how many stream bytes have been appended to `buffer` so far.
template <typename C, typename Decode>
bool drain(Decode&& decode, std::string& buffer, std::size_t fed, bool at_end,
           feed_outcome<C>& outcome) {
  // Each round must consume a byte or wait for input; this bound catches a codec that loops.
  const std::size_t round_limit = buffer.size() + 2;
  for (std::size_t round = 0; round <= round_limit; ++round) {
    outcome.max_buffered = std::max(outcome.max_buffered, buffer.size());
    auto result = decode(std::string_view{buffer});
    const std::size_t consumed = result.consumed();
    if (consumed > buffer.size()) {
      outcome.broken.push_back("decode consumed " + std::to_string(consumed) + " of " +
                               std::to_string(buffer.size()) + " buffered bytes");
      return false;
    }
    if (result.has_message()) {
      outcome.events.push_back({false, snapshot(result.message()), {}});
    } else if (result.has_error()) {
      outcome.events.push_back({true, {}, result.error()});
    }
    if (result.has_message() || result.has_error())
      outcome.origins.push_back({fed - buffer.size(), fed, at_end});
    buffer.erase(0, consumed);
    if (result.needs_more()) return true;
    if (result.has_error() && !result.recoverable()) return false;
    if (consumed == 0) {
      outcome.broken.push_back("decode produced a result without consuming input");
      return false;
    }
  }
  outcome.broken.push_back("decode did not settle on need_more");
  return false;
}

}  // namespace detail

/// Feeds `stream` to a fresh codec in chunks of the given sizes (the last chunk takes the rest),
/// then signals end of stream, and records every message and error in order.
template <stream_codec C>
feed_outcome<C> feed_in_chunks(C codec, std::string_view stream,
                               const std::vector<std::size_t>& chunk_sizes) {
  feed_outcome<C> outcome;
  std::string buffer;
  auto decode = [&codec](std::string_view bytes) { return codec.decode(bytes); };
  auto decode_eof = [&codec](std::string_view bytes) { return codec.decode_eof(bytes); };
  std::size_t offset = 0;
  std::size_t chunk_index = 0;
  while (offset < stream.size()) {
    std::size_t size =
        chunk_index < chunk_sizes.size() ? chunk_sizes[chunk_index++] : stream.size();
    size = std::clamp<std::size_t>(size, 1, stream.size() - offset);
    buffer.append(stream.substr(offset, size));
    offset += size;
    if (!detail::drain<C>(decode, buffer, offset, false, outcome)) return outcome;
  }
  detail::drain<C>(decode_eof, buffer, offset, true, outcome);
  return outcome;
}

/// Checks that `stream` decodes to the same events however it is split: whole, at every split
/// point (or max_split_points of them), in random chunkings and one byte at a time.
/// `make_codec` returns a fresh codec for each run. `stream` may hold invalid input on purpose.
template <typename MakeCodec>
requires stream_codec<std::invoke_result_t<MakeCodec&>> conformance_report check_stream_splits(
    MakeCodec make_codec, std::string_view stream, const conformance_options& options = {}) {
  using C = std::invoke_result_t<MakeCodec&>;
  using message = typename C::message_type;
  conformance_report report;
  if (detail::probe_ownership(make_codec, stream) == detail::ownership_probe::borrowed) {
    report.failures.push_back(detail::borrowed_message_failure());
    return report;
  }
  const feed_outcome<C> reference = feed_in_chunks(make_codec(), stream, {stream.size()});
  for (const std::string& violation : reference.broken)
    report.failures.push_back(violation);

  auto compare = [&](const std::vector<std::size_t>& chunks, const std::string& how) {
    ++report.runs;
    const feed_outcome<C> run = feed_in_chunks(make_codec(), stream, chunks);
    for (const std::string& violation : run.broken)
      report.failures.push_back(how + ": " + violation);
    if (run.events != reference.events) {
      report.failures.push_back(how + ": " +
                                detail::first_difference<message>(reference.events, run.events,
                                                                  run.origins, stream.size()));
    }
  };

  const std::size_t size = stream.size();
  const std::size_t split_step =
      std::max<std::size_t>(1, size / std::max<std::size_t>(1, options.max_split_points));
  for (std::size_t split = 1; split < size; split += split_step) {
    compare({split, size - split}, "split at " + std::to_string(split));
  }
  std::mt19937_64 random{options.seed};
  std::uniform_int_distribution<std::size_t> chunk_size{
      1, std::max<std::size_t>(1, options.max_random_chunk)};
  for (std::size_t run = 0; run < options.random_chunkings; ++run) {
    std::vector<std::size_t> chunks;
    for (std::size_t covered = 0; covered < size;) {
      chunks.push_back(chunk_size(random));
      covered += chunks.back();
    }
    compare(chunks, "random chunking " + std::to_string(run) + " (seed " +
                        std::to_string(options.seed) + ")");
  }
  compare(std::vector<std::size_t>(size, 1), "byte at a time");
  return report;
}

/// Encodes `messages` back to back, then checks that the stream decodes to exactly those messages
/// however it is split (check_stream_splits). Messages must be valid for the codec.
template <typename MakeCodec, typename Message>
requires stream_codec<std::invoke_result_t<MakeCodec&>> conformance_report
check_stream_round_trip(MakeCodec make_codec, const std::vector<Message>& messages,
                        const conformance_options& options = {}) {
  using C = std::invoke_result_t<MakeCodec&>;
  conformance_report report;
  std::string stream;
  const C encoder = make_codec();
  std::vector<event_for<C>> expected;
  for (const Message& message : messages) {
    if (const std::error_code error = encoder.encode(message, stream)) {
      report.failures.push_back("encode failed: " + error.message());
      return report;
    }
    expected.push_back({false, detail::snapshot(typename C::message_type{message}), {}});
  }
  if (detail::probe_ownership(make_codec, stream) == detail::ownership_probe::borrowed) {
    report.failures.push_back(detail::borrowed_message_failure());
    return report;
  }
  const feed_outcome<C> whole = feed_in_chunks(make_codec(), stream, {stream.size()});
  if (whole.events != expected) {
    report.failures.push_back("round trip: " +
                              detail::first_difference<typename C::message_type>(
                                  expected, whole.events, whole.origins, stream.size()));
  }
  conformance_report splits = check_stream_splits(make_codec, stream, options);
  report.runs = splits.runs + 1;
  report.failures.insert(report.failures.end(), splits.failures.begin(), splits.failures.end());
  return report;
}

/// Checks a datagram codec: each datagram decodes on its own (consumed() is its whole size), the
/// result does not depend on which datagrams came before (a fresh codec, the same codec, reverse
/// order), and every successfully decoded message encodes back to the same bytes.
template <typename MakeCodec>
requires codec<std::invoke_result_t<MakeCodec&>> conformance_report
check_datagrams(MakeCodec make_codec, const std::vector<std::string>& datagrams) {
  using C = std::invoke_result_t<MakeCodec&>;
  using message = typename C::message_type;
  conformance_report report;
  for (const std::string& datagram : datagrams) {
    const detail::ownership_probe probe = detail::probe_ownership(make_codec, datagram);
    if (probe == detail::ownership_probe::no_message) continue;
    if (probe == detail::ownership_probe::borrowed) {
      report.failures.push_back(detail::borrowed_message_failure());
      return report;
    }
    break;
  }
  auto decode_one = [&report](C& codec, const std::string& datagram, std::size_t index) {
    auto result = codec.decode(std::string_view{datagram});
    if (result.needs_more()) {
      report.failures.push_back("datagram " + std::to_string(index) +
                                ": decode asked for more bytes");
    } else if (result.consumed() != datagram.size()) {
      report.failures.push_back("datagram " + std::to_string(index) + ": consumed " +
                                std::to_string(result.consumed()) + " of " +
                                std::to_string(datagram.size()));
    }
    if (result.has_message()) return event_for<C>{false, detail::snapshot(result.message()), {}};
    return event_for<C>{true, {}, result.error()};
  };

  std::vector<event_for<C>> alone;
  for (std::size_t i = 0; i < datagrams.size(); ++i) {
    C fresh = make_codec();
    alone.push_back(decode_one(fresh, datagrams[i], i));
  }
  C shared = make_codec();
  C reversed = make_codec();
  std::vector<event_for<C>> in_order(datagrams.size());
  std::vector<event_for<C>> in_reverse(datagrams.size());
  for (std::size_t i = 0; i < datagrams.size(); ++i)
    in_order[i] = decode_one(shared, datagrams[i], i);
  for (std::size_t i = datagrams.size(); i-- > 0;)
    in_reverse[i] = decode_one(reversed, datagrams[i], i);
  report.runs = 3;
  if (in_order != alone)
    report.failures.push_back("in order: " + detail::first_difference<message>(alone, in_order));
  if (in_reverse != alone)
    report.failures.push_back("reversed: " + detail::first_difference<message>(alone, in_reverse));

  const C encoder = make_codec();
  for (std::size_t i = 0; i < datagrams.size(); ++i) {
    if (alone[i].is_error) continue;
    std::string encoded;
    C decoder = make_codec();
    auto decoded = decoder.decode(std::string_view{datagrams[i]});
    if (const std::error_code error = encoder.encode(decoded.message(), encoded)) {
      report.failures.push_back("datagram " + std::to_string(i) +
                                ": re-encode failed: " + error.message());
    } else if (encoded != datagrams[i]) {
      report.failures.push_back("datagram " + std::to_string(i) + ": re-encoded bytes differ");
    }
  }
  return report;
}

}  // namespace coronet::testing
