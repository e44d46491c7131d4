// Micro-benchmarks of the codec layer: decoding throughput of each codec and of UTF-8 validation,
// against a bare memchr newline scan (the least any line decoder must do). Every benchmark
// reports bytes processed, so Google Benchmark prints bytes/second. See docs/performance.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec_bench_common.hpp"
#include "coronet/codec.hpp"

namespace {

using namespace coronet_bench;

void BM_memchr_newline_scan(benchmark::State& state) {
  run_memchr_newline_scan(state, ascii_lines());
}
BENCHMARK(BM_memchr_newline_scan);

void BM_line_decode_validated(benchmark::State& state) {
  run_line_decode(state, ascii_lines(), true);
}
BENCHMARK(BM_line_decode_validated);

void BM_line_decode_unvalidated(benchmark::State& state) {
  run_line_decode(state, ascii_lines(), false);
}
BENCHMARK(BM_line_decode_unvalidated);

void BM_line_decode_multibyte(benchmark::State& state) {
  run_line_decode(state, multibyte_lines(), true);
}
BENCHMARK(BM_line_decode_multibyte);

// The ASCII stream arriving in reads of state.range(0) bytes, through a caller-side buffer:
// append the read, decode every complete line, erase the consumed prefix.
void BM_line_decode_chunked(benchmark::State& state) {
  const std::string& text = ascii_lines();
  const auto chunk = static_cast<std::size_t>(state.range(0));
  std::string buffer;
  for (auto _ : state) {
    coronet::line_codec codec;
    buffer.clear();
    std::size_t messages = 0;
    for (std::size_t offset = 0; offset < text.size(); offset += chunk) {
      buffer.append(text, offset, chunk);
      std::string_view buffered = buffer;
      while (true) {
        auto decoded = codec.decode(buffered);
        buffered.remove_prefix(decoded.consumed());
        if (decoded.needs_more()) break;
        benchmark::DoNotOptimize(decoded.message());
        ++messages;
      }
      buffer.erase(0, buffer.size() - buffered.size());
    }
    check_message_count(state, messages, text.size() / line_size);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_line_decode_chunked)->Arg(1500)->Arg(64 * 1024);

// One line of state.range(0) bytes (plus '\n') arriving one byte per read into a growing buffer:
// a decoder that rescanned its buffer would cost O(L) per byte, so bytes/second would fall with L.
void BM_line_decode_byte_at_a_time(benchmark::State& state) {
  const auto length = static_cast<std::size_t>(state.range(0));
  std::string line = make_ascii_lines(((length + line_size) / line_size) * line_size);
  line.resize(length);
  std::replace(line.begin(), line.end(), '\n', 'x');
  line.push_back('\n');
  std::string buffer;
  for (auto _ : state) {
    coronet::line_codec codec;
    buffer.clear();
    buffer.shrink_to_fit();  // Grow from empty each time, as a fresh connection's buffer does.
    std::size_t messages = 0;
    for (const char byte : line) {
      buffer.push_back(byte);
      auto decoded = codec.decode(buffer);
      if (decoded.has_message()) {
        benchmark::DoNotOptimize(decoded.message());
        ++messages;
      }
    }
    check_message_count(state, messages, 1);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * line.size()));
}
BENCHMARK(BM_line_decode_byte_at_a_time)->Arg(1024)->Arg(8 * 1024)->Arg(64 * 1024 - 1);

void BM_length_prefixed_decode(benchmark::State& state) {
  static const std::string text = make_length_prefixed_frames(stream_size);
  for (auto _ : state) {
    coronet::length_prefixed_codec codec;
    check_message_count(state, decode_all(codec, text, state), text.size() / (4 + 64));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_length_prefixed_decode);

void BM_utf8_check_ascii(benchmark::State& state) {
  static const std::string text = make_ascii_lines(utf8_buffer_size);
  run_utf8_check(state, text, coronet::is_valid_utf8);
}
BENCHMARK(BM_utf8_check_ascii);

void BM_utf8_check_multibyte(benchmark::State& state) {
  static const std::string text = make_multibyte_lines(utf8_buffer_size);
  run_utf8_check(state, text, coronet::is_valid_utf8);
}
BENCHMARK(BM_utf8_check_multibyte);

}  // namespace
