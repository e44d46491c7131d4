// Helpers shared by the fuzz targets: loud property checks, reading options from the first input
// bytes, chunk plans for feed_in_chunks and an independent reference UTF-8 decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/codec/utf8.hpp"

namespace coronet::fuzz {

/// Prints the violated property and traps, so that libFuzzer saves the input as a crash.
[[noreturn]] inline void fail(const char* property) {
  std::fprintf(stderr, "coronet fuzz: property violated: %s\n", property);
  std::fflush(stderr);
  __builtin_trap();
}

#define CORONET_FUZZ_STRINGIFY_LINE(line) #line
#define CORONET_FUZZ_LINE(line) CORONET_FUZZ_STRINGIFY_LINE(line)
/// Checks a property in every build mode (assert() would vanish under NDEBUG).
#define FUZZ_CHECK(condition) \
  ((condition)                \
       ? void()               \
       : ::coronet::fuzz::fail(#condition " at " __FILE__ ":" CORONET_FUZZ_LINE(__LINE__)))

/// Hands out the fuzz input: a few option bytes first (0 once the input runs out), then the rest.
class input_reader {
 public:
  input_reader(const std::uint8_t* data, std::size_t size)
      : rest_{reinterpret_cast<const char*>(data), size} {}

  std::uint8_t take_byte() noexcept {
    if (rest_.empty()) return 0;
    const auto byte = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return byte;
  }

  std::string_view rest() const noexcept { return rest_; }

 private:
  std::string_view rest_;
};

/// Sentinel for "no limit" (a user disabling a limit would write exactly this).
inline constexpr std::size_t no_limit = std::numeric_limits<std::size_t>::max();

/// A codec limit chosen by one byte: 0 = the codec's default, 255 = no limit, else 1..64.
inline std::size_t limit_from_byte(std::uint8_t byte, std::size_t default_limit) noexcept {
  if (byte == 0) return default_limit;
  if (byte == 255) return no_limit;
  return 1 + (byte - 1U) % 64U;
}

/// a + b, or no_limit if that overflows.
inline std::size_t saturating_add(std::size_t a, std::size_t b) noexcept {
  return a > no_limit - b ? no_limit : a + b;
}

/// Chunk sizes first, second, first, ... covering `stream_size` bytes (for feed_in_chunks).
inline std::vector<std::size_t> alternating_chunks(std::size_t stream_size, std::size_t first,
                                                   std::size_t second) {
  std::vector<std::size_t> chunks;
  for (std::size_t covered = 0; covered < stream_size;) {
    chunks.push_back(chunks.size() % 2 == 0 ? first : second);
    covered += chunks.back();
  }
  return chunks;
}

/// Reference UTF-8 validation, written for obviousness rather than speed: decode each code point
/// from its bits, then apply Unicode table 3-7 to the value. A sequence whose continuation bytes
/// are missing is truncated (whatever its value would have been); otherwise its value decides
/// overlong / surrogate / out of range. Returns the first fault and its sequence's offset.
inline utf8_verdict reference_check_utf8(std::string_view bytes) noexcept {
  auto at = [bytes](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  std::size_t i = 0;
  while (i < bytes.size()) {
    const unsigned char lead = at(i);
    if (lead <= 0x7F) {
      ++i;
      continue;
    }
    if (lead <= 0xBF) return {utf8_fault::unexpected_continuation, i};
    if (lead == 0xC0 || lead == 0xC1 || lead >= 0xF5) return {utf8_fault::invalid_byte, i};

    std::size_t length = 4;
    char32_t code_point = lead & 0x07U;
    char32_t smallest = 0x10000;
    if (lead <= 0xDF) {
      length = 2;
      code_point = lead & 0x1FU;
      smallest = 0x80;
    } else if (lead <= 0xEF) {
      length = 3;
      code_point = lead & 0x0FU;
      smallest = 0x800;
    }
    for (std::size_t k = 1; k < length; ++k) {
      if (i + k >= bytes.size() || (at(i + k) & 0xC0U) != 0x80U) {
        return {utf8_fault::truncated_sequence, i};
      }
      code_point = (code_point << 6) | (at(i + k) & 0x3FU);
    }
    if (code_point < smallest) return {utf8_fault::overlong_encoding, i};
    if (code_point >= 0xD800 && code_point <= 0xDFFF) return {utf8_fault::surrogate, i};
    if (code_point > 0x10FFFF) return {utf8_fault::out_of_range, i};
    i += length;
  }
  return {};
}

/// Appends the shortest UTF-8 encoding of a scalar value (not a surrogate, at most U+10FFFF).
inline void reference_encode_utf8(char32_t code_point, std::string& out) {
  auto put = [&out](unsigned value) { out.push_back(static_cast<char>(value)); };
  if (code_point < 0x80) {
    put(code_point);
  } else if (code_point < 0x800) {
    put(0xC0 | (code_point >> 6));
    put(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    put(0xE0 | (code_point >> 12));
    put(0x80 | ((code_point >> 6) & 0x3F));
    put(0x80 | (code_point & 0x3F));
  } else {
    put(0xF0 | (code_point >> 18));
    put(0x80 | ((code_point >> 12) & 0x3F));
    put(0x80 | ((code_point >> 6) & 0x3F));
    put(0x80 | (code_point & 0x3F));
  }
}

}  // namespace coronet::fuzz
