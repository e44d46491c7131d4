// line_codec: messages are lines ending in '\n' (a '\r' before it is dropped, so CRLF peers work),
// UTF-8 validated and length-bounded by default.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

#include "coronet/codec/decode_result.hpp"

namespace coronet {

/// Limits and checks of a line_codec. Every limit is on by default.
struct line_codec_options {
  /// Longest accepted line in bytes, not counting "\n" or "\r\n". Default 64 KiB. 4 GiB - 1
  /// or more means no limit.
  std::size_t max_line_length = 64 * 1024;
  /// Reject lines that are not strict UTF-8. Default on; turn off for binary-ish lines.
  bool validate_utf8 = true;
};

/// Newline-delimited text.
///
/// Decoding yields each line without its terminator, as a view into the caller's buffer.
/// Errors are recoverable: the bad line is dropped and the next line decodes normally.
/// - A line longer than max_line_length yields errc::frame_too_long once; the codec then drops
///   input up to the next '\n' itself, so the caller never buffers more than the limit (+2 bytes
///   and one read).
/// - A line that is not UTF-8 yields errc::invalid_utf8 (reason() names the fault class).
/// Encoding appends the line and '\n'; a line containing '\n', ending in '\r', longer than the
/// limit or not UTF-8 (when validating) is refused rather than sent corrupted.
class line_codec {
 public:
  using message_type = std::string_view;

  line_codec() = default;
  explicit line_codec(line_codec_options options)
      : max_line_length_{static_cast<std::uint32_t>(
            std::min<std::size_t>(options.max_line_length, no_limit))},
        validate_utf8_{options.validate_utf8} {}

  /// Decodes the next complete line from `buffered` (see stream_codec for the buffer contract).
  decode_result<std::string_view> decode(std::string_view buffered);

  /// Like decode(), but at end of stream a final line without '\n' is a message too.
  decode_result<std::string_view> decode_eof(std::string_view buffered);

  /// Appends `line` and '\n' to `out`, or returns why the line cannot be sent as one line.
  std::error_code encode(std::string_view line, std::string& out) const;

  /// encode() of a line this codec decoded, sent on unchanged (see reencoding_codec): decode()
  /// checked its length, UTF-8 and that it holds no '\n'; only a trailing '\r' (from "x\r\r\n")
  /// is still refused.
  std::error_code encode_decoded(std::string_view line, std::string& out) const;

  /// The options this codec was made with.
  line_codec_options options() const noexcept {
    return {.max_line_length = max_line_length(), .validate_utf8 = validate_utf8_};
  }

  /// Forgets any partly decoded line: the codec is as freshly constructed with options().
  void reset() noexcept {
    scanned_ = 0;
    discarding_ = false;
  }

 private:
  decode_result<std::string_view> finish_line(std::string_view line, std::size_t consumed) const;

  static constexpr std::uint32_t no_limit = std::numeric_limits<std::uint32_t>::max();
  std::size_t max_line_length() const noexcept {
    return max_line_length_ == no_limit ? std::numeric_limits<std::size_t>::max()
                                        : max_line_length_;
  }

  // The options are kept field by field and in 32 bits, so that the codec takes 12 bytes
  // instead of 32 (every connection holds its codec).
  std::uint32_t max_line_length_ = line_codec_options{}.max_line_length;
  // Leading bytes of the buffered input already known to hold no '\n' (a hint: saturated at
  // 4 GiB - 1, past which the scan repeats).
  std::uint32_t scanned_ = 0;
  bool validate_utf8_ = line_codec_options{}.validate_utf8;
  bool discarding_ = false;  // Inside an over-long line: input is dropped up to its '\n'.
};

}  // namespace coronet
