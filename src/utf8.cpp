// Strict UTF-8 validation. The common case, valid text, is answered by a fast check: ASCII 16
// bytes at a time, other text by a branch-free state machine (one table load and one shift per
// byte; branching on sequence lengths mispredicts on mixed-script text). Only when that check
// fails does a second, branching pass find the fault class and its offset.
#include "coronet/codec/utf8.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace coronet {
namespace {

constexpr std::uint64_t high_bits = 0x8080808080808080ULL;

bool is_ascii_block(const unsigned char* data) noexcept {
  std::uint64_t first;
  std::uint64_t second;
  std::memcpy(&first, data, 8);
  std::memcpy(&second, data + 8, 8);
  return ((first | second) & high_bits) == 0;
}

// The states of the validating automaton (Unicode table 3-7). A state is stored as its bit
// offset (6 * index) inside a 64-bit transition word, so one step is `table[byte] >> state`.
enum dfa_state : unsigned {
  dfa_accept,      // Between characters.
  dfa_need_one,    // One more continuation byte.
  dfa_need_two,    // Two more.
  dfa_need_three,  // Three more.
  dfa_after_e0,    // A0..BF, then one more (no overlongs).
  dfa_after_ed,    // 80..9F, then one more (no surrogates).
  dfa_after_f0,    // 90..BF, then two more (no overlongs).
  dfa_after_f4,    // 80..8F, then two more (nothing above U+10FFFF).
  dfa_failed,      // Sticky.
  dfa_state_count,
};

constexpr unsigned dfa_next(unsigned from, unsigned byte) {
  const auto in = [byte](unsigned low, unsigned high) { return byte >= low && byte <= high; };
  const bool continuation = in(0x80, 0xBF);
  switch (from) {
    case dfa_accept:
      if (byte < 0x80) return dfa_accept;
      if (in(0xC2, 0xDF)) return dfa_need_one;
      if (byte == 0xE0) return dfa_after_e0;
      if (byte == 0xED) return dfa_after_ed;
      if (in(0xE1, 0xEF)) return dfa_need_two;
      if (byte == 0xF0) return dfa_after_f0;
      if (byte == 0xF4) return dfa_after_f4;
      if (in(0xF1, 0xF3)) return dfa_need_three;
      return dfa_failed;
    case dfa_need_one:
      return continuation ? dfa_accept : dfa_failed;
    case dfa_need_two:
      return continuation ? dfa_need_one : dfa_failed;
    case dfa_need_three:
      return continuation ? dfa_need_two : dfa_failed;
    case dfa_after_e0:
      return in(0xA0, 0xBF) ? dfa_need_one : dfa_failed;
    case dfa_after_ed:
      return in(0x80, 0x9F) ? dfa_need_one : dfa_failed;
    case dfa_after_f0:
      return in(0x90, 0xBF) ? dfa_need_two : dfa_failed;
    case dfa_after_f4:
      return in(0x80, 0x8F) ? dfa_need_two : dfa_failed;
    default:
      return dfa_failed;
  }
}

constexpr std::array<std::uint64_t, 256> make_dfa_table() {
  std::array<std::uint64_t, 256> table{};
  for (unsigned byte = 0; byte < 256; ++byte) {
    for (unsigned from = 0; from < dfa_state_count; ++from) {
      table[byte] |= std::uint64_t{6 * dfa_next(from, byte)} << (6 * from);
    }
  }
  return table;
}

constexpr std::array<std::uint64_t, 256> dfa_table = make_dfa_table();

// Runs the automaton from `state` over the bytes; returns the state after them (6 * dfa_failed
// as soon as a byte fails, without looking further).
std::uint64_t advance(std::uint64_t state, const unsigned char* data, std::size_t size) noexcept {
  std::size_t i = 0;
  while (i < size) {
    if ((state & 63) == 6 * dfa_accept) {
      while (i + 16 <= size && is_ascii_block(data + i))
        i += 16;
      // A tail shorter than a block: test the last 16 bytes at once (they overlap bytes already
      // checked) rather than byte by byte.
      if (size - i < 16 && size >= 16 && is_ascii_block(data + size - 16)) return 6 * dfa_accept;
    }
    const std::size_t end = size - i < 16 ? size : i + 16;
    for (; i < end; ++i)
      state = dfa_table[data[i]] >> (state & 63);
    if ((state & 63) == 6 * dfa_failed) return 6 * dfa_failed;
  }
  return state & 63;
}

// The fast yes/no answer.
bool is_valid_fast(const unsigned char* data, std::size_t size) noexcept {
  return advance(6 * dfa_accept, data, size) == 6 * dfa_accept;
}

// Index of the first non-ASCII byte at or after `from` (the diagnosing pass).
std::size_t skip_ascii(const unsigned char* data, std::size_t size, std::size_t from) noexcept {
  std::size_t i = from;
  while (i + 16 <= size && is_ascii_block(data + i))
    i += 16;
  while (i < size && data[i] < 0x80U)
    ++i;
  return i;
}

bool is_continuation(unsigned char byte) noexcept {
  return (byte & 0xC0U) == 0x80U;
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
  if (is_valid_fast(data, size)) return {};
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

bool is_valid_utf8(std::string_view bytes) noexcept {
  return is_valid_fast(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

bool utf8_stream_checker::feed(std::string_view piece) noexcept {
  if (state_ == 6 * dfa_failed) return false;
  state_ = advance(state_, reinterpret_cast<const unsigned char*>(piece.data()), piece.size());
  return state_ != 6 * dfa_failed;
}

bool utf8_stream_checker::complete() const noexcept {
  return state_ == 6 * dfa_accept;
}

bool utf8_stream_checker::ok() const noexcept {
  return state_ != 6 * dfa_failed;
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
