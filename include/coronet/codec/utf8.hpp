// Strict UTF-8 validation (Unicode 15, table 3-7), shared by every text codec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace coronet {

/// Why a byte sequence is not UTF-8.
enum class utf8_fault {
  none,                     ///< Valid.
  invalid_byte,             ///< 0xC0, 0xC1 or 0xF5..0xFF, which never occur in UTF-8.
  unexpected_continuation,  ///< A continuation byte (0x80..0xBF) where a sequence must start.
  truncated_sequence,       ///< A multi-byte sequence cut short (by another byte or the end).
  overlong_encoding,        ///< A code point encoded in more bytes than needed (E0 80.., F0 80..).
  surrogate,                ///< U+D800..U+DFFF, which UTF-8 must not encode (ED A0..).
  out_of_range,             ///< A code point above U+10FFFF (F4 90..).
};

/// Verdict on a byte sequence: valid, or the first fault and the offset of the sequence holding it.
struct utf8_verdict {
  utf8_fault fault = utf8_fault::none;
  std::size_t offset = 0;  ///< Offset of the first byte of the offending sequence.

  bool valid() const noexcept { return fault == utf8_fault::none; }
  explicit operator bool() const noexcept { return valid(); }
};

/// Checks `bytes` strictly. ASCII runs are checked 16 bytes at a time.
utf8_verdict check_utf8(std::string_view bytes) noexcept;

/// Whether `bytes` is strict UTF-8; the same answer as check_utf8(bytes).valid(), faster when
/// the fault's class and offset are not needed.
bool is_valid_utf8(std::string_view bytes) noexcept;

/// A short static description of a fault ("surrogate code point", ...).
std::string_view describe(utf8_fault fault) noexcept;

/// Strict UTF-8 validation of text that arrives in pieces (a WebSocket text message split into
/// fragments and reads): a character may be cut anywhere between two pieces. It fails at the
/// first byte that no valid text can continue (fail fast: an overlong lead is refused before
/// its last byte arrives), with the same automaton as is_valid_utf8.
class utf8_stream_checker {
 public:
  /// Checks the next piece; false once the text fed so far cannot begin valid UTF-8 (and from
  /// then on).
  bool feed(std::string_view piece) noexcept;
  /// Whether the text fed so far is valid UTF-8 that ends on a whole character.
  bool complete() const noexcept;
  /// Whether nothing fed so far was invalid (the text may still end inside a character).
  bool ok() const noexcept;
  /// Back to empty text.
  void reset() noexcept { state_ = 0; }

 private:
  std::uint64_t state_ = 0;  // The automaton's state (see utf8.cpp): 0 is "between characters".
};

}  // namespace coronet
