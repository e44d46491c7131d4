// Test data and benchmark loops shared by bench/codec_bench.cpp and bench/utf8_prototype_bench.cpp:
// deterministic buffers of 64-byte lines (ASCII or multi-byte UTF-8) and of length-prefixed
// frames, the memchr baseline, and the caller loop of the stream_codec contract.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <random>
#include <string>
#include <string_view>

#include "coronet/codec.hpp"

namespace coronet_bench {

inline constexpr std::size_t line_size = 64;  // Bytes per line, '\n' included.
inline constexpr std::size_t stream_size = 16 * 1024 * 1024;
inline constexpr std::size_t utf8_buffer_size = 1024 * 1024;

// `size` bytes of lines of exactly line_size bytes: printable ASCII, then '\n'.
inline std::string make_ascii_lines(std::size_t size) {
  std::mt19937 random{42};
  std::uniform_int_distribution<int> printable{0x20, 0x7E};
  std::string text;
  text.reserve(size);
  while (text.size() + line_size <= size) {
    for (std::size_t i = 0; i + 1 < line_size; ++i)
      text.push_back(static_cast<char>(printable(random)));
    text.push_back('\n');
  }
  return text;
}

// `size` bytes of lines of exactly line_size bytes mixing Chinese (3-byte), emoji (4-byte) and
// ASCII characters, about a third of each by count, then '\n'.
inline std::string make_multibyte_lines(std::size_t size) {
  static constexpr std::string_view pieces[] = {"中", "文", "字", "😀", "🚀", "🎉", "a", "Z", " "};
  std::mt19937 random{42};
  std::uniform_int_distribution<std::size_t> pick{0, std::size(pieces) - 1};
  std::string text;
  text.reserve(size);
  while (text.size() + line_size <= size) {
    std::size_t left = line_size - 1;
    while (left > 0) {
      const std::string_view piece = pieces[pick(random)];
      if (piece.size() > left) continue;  // Keep every line exactly line_size bytes.
      text.append(piece);
      left -= piece.size();
    }
    text.push_back('\n');
  }
  return text;
}

// Frames of a 4-byte big-endian header and a 64-byte binary payload, filling about `size` bytes.
inline std::string make_length_prefixed_frames(std::size_t size) {
  std::mt19937 random{42};
  std::uniform_int_distribution<int> byte{0, 255};
  coronet::length_prefixed_codec codec;
  std::string payload(64, '\0');
  std::string text;
  text.reserve(size);
  while (text.size() + 4 + payload.size() <= size) {
    for (char& c : payload)
      c = static_cast<char>(byte(random));
    codec.encode(payload, text);
  }
  return text;
}

inline const std::string& ascii_lines() {
  static const std::string text = make_ascii_lines(stream_size);
  return text;
}

inline const std::string& multibyte_lines() {
  static const std::string text = make_multibyte_lines(stream_size);
  return text;
}

// The caller loop of the stream_codec contract over one complete buffer: decode, drop
// consumed() bytes, until the codec needs more. Returns the number of messages.
template <typename Codec>
std::size_t decode_all(Codec& codec, std::string_view buffered, benchmark::State& state) {
  std::size_t messages = 0;
  while (true) {
    auto decoded = codec.decode(buffered);
    if (decoded.has_error()) {
      state.SkipWithError("unexpected decode error");
      return messages;
    }
    if (decoded.needs_more()) return messages;
    benchmark::DoNotOptimize(decoded.message());
    buffered.remove_prefix(decoded.consumed());
    ++messages;
  }
}

inline void check_message_count(benchmark::State& state, std::size_t messages,
                                std::size_t expected) {
  if (messages != expected) state.SkipWithError("wrong number of messages decoded");
}

// The baseline: every line of `text` found with memchr, and nothing else.
inline void run_memchr_newline_scan(benchmark::State& state, const std::string& text) {
  for (auto _ : state) {
    const char* position = text.data();
    const char* const end = text.data() + text.size();
    while (const void* found =
               std::memchr(position, '\n', static_cast<std::size_t>(end - position))) {
      const auto* newline = static_cast<const char*>(found);
      std::string_view line{position, static_cast<std::size_t>(newline - position)};
      benchmark::DoNotOptimize(line);
      position = newline + 1;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

// Every line of `text` through a line_codec in one buffer.
inline void run_line_decode(benchmark::State& state, const std::string& text, bool validate_utf8) {
  for (auto _ : state) {
    coronet::line_codec codec{{.validate_utf8 = validate_utf8}};
    check_message_count(state, decode_all(codec, text, state), text.size() / line_size);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

// `is_valid(text)` on the whole of `text`, which must be valid UTF-8.
template <typename Check>
void run_utf8_check(benchmark::State& state, const std::string& text, Check is_valid) {
  for (auto _ : state) {
    const bool valid = is_valid(text);
    benchmark::DoNotOptimize(valid);
    if (!valid) state.SkipWithError("benchmark text is not valid UTF-8");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

}  // namespace coronet_bench
