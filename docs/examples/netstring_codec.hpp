// A custom codec for netstrings ("5:hello,"), the example of docs/codecs.md. It satisfies
// coronet::stream_codec, so it runs through the conformance kit and on any coronet stream.
#pragma once

#include <coronet/codec/decode_result.hpp>
#include <coronet/error.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace example {

class netstring_codec {
 public:
  using message_type = std::string_view;
  using result = coronet::decode_result<std::string_view>;

  /// Longest accepted payload. Default 1 MiB: limits are on by default.
  explicit netstring_codec(std::size_t max_length = 1024 * 1024) : max_length_{max_length} {}

  result decode(std::string_view buffered) {
    // Parse "<digits>:" afresh on each call: at most a few bytes, so any split stays O(n).
    std::size_t length = 0;
    std::size_t i = 0;
    for (; i < buffered.size() && buffered[i] != ':'; ++i) {
      const char c = buffered[i];
      if (c < '0' || c > '9') return fail(coronet::errc::bad_length, "non-digit in length");
      length = length * 10 + static_cast<std::size_t>(c - '0');
      if (length > max_length_) return fail(coronet::errc::frame_too_long, "netstring too long");
    }
    if (i == buffered.size()) return result::need_more();
    if (i == 0) return fail(coronet::errc::bad_length, "empty length");
    const std::size_t total = i + 1 + length + 1;  // digits, ':', payload, ','
    if (buffered.size() < total) return result::need_more();
    if (buffered[total - 1] != ',') return fail(coronet::errc::bad_length, "missing ','");
    return result::complete(buffered.substr(i + 1, length), total);
  }

  result decode_eof(std::string_view buffered) {
    result decoded = decode(buffered);
    if (!decoded.needs_more() || buffered.empty()) return decoded;
    return fail(coronet::errc::truncated_frame, "stream ended inside a netstring");
  }

  std::error_code encode(std::string_view payload, std::string& out) const {
    if (payload.size() > max_length_) return coronet::errc::frame_too_long;
    out += std::to_string(payload.size());
    out += ':';
    out += payload;
    out += ',';
    return {};
  }

 private:
  // A bad header loses framing for good: the caller must close the stream (recoverable = false).
  static result fail(coronet::errc error, std::string_view reason) {
    return result::failure(error, reason, 0, false);
  }

  std::size_t max_length_;
};

}  // namespace example
