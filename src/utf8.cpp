// Strict UTF-8 validation with an ASCII fast path.
#include "coronet/codec/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace coronet {
namespace {

constexpr std::uint64_t high_bits = 0x8080808080808080ULL;

bool is_continuation(unsigned char byte) noexcept {
  return (byte & 0xC0U) == 0x80U;
}

// Index of the first non-ASCII byte at or after `from`; whole 16-byte blocks are tested with two
// 64-bit loads, which gcc keeps in registers (text is mostly ASCII, so this loop does the work).
std::size_t skip_ascii(const unsigned char* data, std::size_t size, std::size_t from) noexcept {
  std::size_t i = from;
  while (i + 16 <= size) {
    std::uint64_t first;
    std::uint64_t second;
    std::memcpy(&first, data + i, 8);
    std::memcpy(&second, data + i + 8, 8);
    if (((first | second) & high_bits) != 0) break;
    i += 16;
  }
  while (i < size && data[i] < 0x80U)
    ++i;
  return i;
}

// Checks the multi-byte sequence starting at data[i] (a byte >= 0x80). On success stores its
// length in `length` and returns none.
utf8_fault check_sequence(const unsigned char* data, std::size_t size, std::size_t i,
                          std::size_t& length) noexcept {
  const unsigned char lead = data[i];
  if (lead < 0xC0U) return utf8_fault::unexpected_continuation;
  if (lead < 0xC2U || lead > 0xF4U) return utf8_fault::invalid_byte;
  length = lead < 0xE0U ? 2 : lead < 0xF0U ? 3 : 4;
  // Count the continuation bytes actually present, so a cut sequence reads as truncated.
  for (std::size_t k = 1; k < length; ++k) {
    if (i + k >= size || !is_continuation(data[i + k])) return utf8_fault::truncated_sequence;
  }
  // The second byte's range decides overlongs, surrogates and the U+10FFFF ceiling.
  const unsigned char second = data[i + 1];
  if (lead == 0xE0U && second < 0xA0U) return utf8_fault::overlong_encoding;
  if (lead == 0xEDU && second > 0x9FU) return utf8_fault::surrogate;
  if (lead == 0xF0U && second < 0x90U) return utf8_fault::overlong_encoding;
  if (lead == 0xF4U && second > 0x8FU) return utf8_fault::out_of_range;
  return utf8_fault::none;
}

}  // namespace

utf8_verdict check_utf8(std::string_view bytes) noexcept {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t size = bytes.size();
  std::size_t i = 0;
  while (true) {
    i = skip_ascii(data, size, i);
    if (i == size) return {};
    std::size_t length = 0;
    if (const utf8_fault fault = check_sequence(data, size, i, length); fault != utf8_fault::none) {
      return {fault, i};
    }
    i += length;
  }
}

std::string_view describe(utf8_fault fault) noexcept {
  switch (fault) {
    case utf8_fault::none:
      return "valid UTF-8";
    case utf8_fault::invalid_byte:
      return "byte that never occurs in UTF-8 (C0, C1, F5..FF)";
    case utf8_fault::unexpected_continuation:
      return "continuation byte without a lead byte";
    case utf8_fault::truncated_sequence:
      return "truncated multi-byte sequence";
    case utf8_fault::overlong_encoding:
      return "overlong encoding";
    case utf8_fault::surrogate:
      return "surrogate code point (U+D800..U+DFFF)";
    case utf8_fault::out_of_range:
      return "code point above U+10FFFF";
  }
  return "unknown UTF-8 fault";
}

}  // namespace coronet
