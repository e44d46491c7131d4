// length_prefixed_codec: each frame is a fixed-width length header followed by that many bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "coronet/codec/decode_result.hpp"

namespace coronet {

/// Byte order of a length header.
enum class byte_order { big_endian, little_endian };

/// Header layout and limits of a length_prefixed_codec. Every limit is on by default.
struct length_prefixed_options {
  /// Width of the length header in bytes: 1, 2, 4 or 8. Default 4.
  std::size_t header_width = 4;
  /// Byte order of the header. Default big endian (network order).
  byte_order order = byte_order::big_endian;
  /// Whether the header's value counts the header itself. Default false (payload only).
  bool length_includes_header = false;
  /// Longest accepted payload in bytes. Default 16 MiB.
  std::size_t max_frame_length = 16 * 1024 * 1024;
};

/// Binary frames with a length header. Zero-length frames are allowed.
///
/// Decoding yields each payload as a view into the caller's buffer. A header announcing more than
/// max_frame_length yields errc::frame_too_long, one smaller than its own header (when the length
/// includes the header) errc::bad_length; both are unrecoverable: the stream has lost framing and
/// the caller must close it (every later decode repeats the error). End of stream inside a frame
/// is errc::truncated_frame.
class length_prefixed_codec {
 public:
  using message_type = std::string_view;

  length_prefixed_codec() = default;
  /// Throws std::invalid_argument if header_width is not 1, 2, 4 or 8.
  explicit length_prefixed_codec(length_prefixed_options options);

  /// Decodes the next complete frame from `buffered` (see stream_codec for the buffer contract).
  decode_result<std::string_view> decode(std::string_view buffered);

  /// Like decode(), but leftover bytes at end of stream are errc::truncated_frame.
  decode_result<std::string_view> decode_eof(std::string_view buffered);

  /// Appends header and payload to `out`; errc::frame_too_long if the payload exceeds
  /// max_frame_length or does not fit the header.
  std::error_code encode(std::string_view payload, std::string& out) const;

  const length_prefixed_options& options() const noexcept { return options_; }

  /// Forgets a lost framing: the codec is as freshly constructed with options().
  void reset() noexcept {
    failure_ = {};
    failure_reason_ = {};
  }

 private:
  decode_result<std::string_view> fail(std::error_code error, std::string_view reason,
                                       std::size_t consumed);

  length_prefixed_options options_;
  std::error_code failure_;  // Set once framing is lost; every later decode repeats it.
  std::string_view failure_reason_;
};

}  // namespace coronet
