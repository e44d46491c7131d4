// datagram_codec: one datagram is one message, size-bounded and optionally UTF-8 validated.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "coronet/codec/decode_result.hpp"

namespace coronet {

/// Limits and checks of a datagram_codec. Every limit is on by default.
struct datagram_codec_options {
  /// Largest accepted datagram in bytes. Default 65,507 (the largest UDP payload over IPv4).
  std::size_t max_datagram_size = 65'507;
  /// Reject datagrams that are not strict UTF-8. Default on; turn off for binary payloads.
  bool validate_utf8 = true;
};

/// Message-per-datagram framing for UDP and Unix datagram sockets.
///
/// decode() is called once per received datagram with the whole datagram; it never waits for
/// more bytes. An empty datagram is an empty message. A datagram over max_datagram_size yields
/// errc::frame_too_long, invalid text errc::invalid_utf8; both concern that datagram only.
class datagram_codec {
 public:
  using message_type = std::string_view;

  datagram_codec() = default;
  explicit datagram_codec(datagram_codec_options options) : options_{options} {}

  /// Checks one whole datagram; the message is a view of it. consumed() is its size.
  decode_result<std::string_view> decode(std::string_view datagram) const;

  /// Appends the datagram's bytes to `out` (which should be empty: one datagram per buffer).
  std::error_code encode(std::string_view message, std::string& out) const;

  const datagram_codec_options& options() const noexcept { return options_; }

 private:
  datagram_codec_options options_;
};

}  // namespace coronet
