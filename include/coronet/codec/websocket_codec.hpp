// websocket_codec: RFC 6455 frames after the opening handshake, as a pure stream codec. It
// reassembles fragmented data messages within a size limit, unmasks client frames, validates
// text incrementally, and yields control frames (ping, pong, close) as messages of their own so
// that the transport above it answers pings and runs the close handshake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "coronet/codec/decode_result.hpp"
#include "coronet/codec/utf8.hpp"
#include "coronet/codec/websocket_frame.hpp"

namespace coronet {

/// Which end of the connection a codec is: a server reads masked frames and writes unmasked
/// ones, a client the opposite (RFC 6455 section 5.3).
enum class websocket_role { server, client };

/// Limits and role of a websocket_codec. Every limit is on by default.
struct websocket_codec_options {
  /// Server (default) or client.
  websocket_role role = websocket_role::server;
  /// Largest data message, its fragments together, in bytes. Larger ones fail with 1009 as soon
  /// as a frame header announces them, before their payload is read. Default 1 MiB.
  std::size_t max_message_size = 1024 * 1024;
  /// Most frames one data message may be split into: a peer sending empty fragments forever
  /// fails with 1009 instead of holding the connection. Default 4096.
  std::size_t max_fragments = 4096;
};

/// RFC 6455 frames: decode() yields whole data messages (text or binary) and control frames;
/// encode() writes one unfragmented frame per message (masked with a fresh random key in the
/// client role).
///
/// Every decode error ends the stream (unrecoverable), with a websocket_errc whose value is the
/// close code to send: 1002 for frames that break the protocol (an unmasked client frame, RSV
/// bits without an extension, a reserved opcode, a fragmented or over-long control frame, a
/// continuation without a message, a 64-bit length with its top bit set, a non-minimal length,
/// a bad close code or a one-byte close payload), 1007 for text (or a close reason) that is not
/// UTF-8, checked as it arrives so a bad byte fails at once even mid-fragment, 1009 for a
/// message over max_message_size or max_fragments. decode() consumes payload bytes as they
/// arrive, so the caller buffers at most one frame header and one read; the message itself is
/// kept in the codec, bounded by max_message_size.
class websocket_codec {
 public:
  using message_type = websocket_message;
  /// A peer that breaks the protocol is answered with a close frame carrying the error's code
  /// before the stream closes (see answering_codec).
  static constexpr bool answers_fatal_errors = true;

  websocket_codec() = default;
  explicit websocket_codec(websocket_codec_options options) : options_{options} {}

  /// Decodes the next message from `buffered` (see stream_codec for the buffer contract).
  decode_result<websocket_message> decode(std::string_view buffered);

  /// Like decode(); at end of stream a partial frame or message is errc::truncated_frame.
  decode_result<websocket_message> decode_eof(std::string_view buffered);

  /// Appends `message` as one frame, or returns why it cannot be sent: errc::invalid_utf8 for
  /// text that is not UTF-8, errc::frame_too_long for data over max_message_size or control
  /// data over 125 bytes (123 for a close reason), websocket_errc::protocol_error for a close
  /// code that may not be sent.
  std::error_code encode(const websocket_message& message, std::string& out) const;

  const websocket_codec_options& options() const noexcept { return options_; }

  /// Forgets any partly decoded frame or message.
  void reset() noexcept;

 private:
  using result = decode_result<websocket_message>;

  std::optional<result> read_header(std::string_view buffered, std::size_t& used);
  std::optional<result> finish_frame(std::size_t used);
  result finish_close(std::size_t used);
  void read_payload(std::string_view bytes);

  websocket_codec_options options_;

  // The frame being read.
  bool in_payload_ = false;  // The header has been read; payload bytes are due.
  bool fin_ = false;
  websocket_opcode opcode_ = websocket_opcode::continuation;
  bool masked_ = false;
  std::uint8_t mask_[4] = {};
  std::size_t mask_offset_ = 0;  // Payload bytes of this frame unmasked so far, modulo 4.
  std::uint64_t remaining_ = 0;  // Payload bytes of this frame still to come.

  // The data message being reassembled (or the one just delivered, until the next call).
  bool in_message_ = false;
  bool delivered_ = false;  // message_ was handed out: clear it at the next decode().
  websocket_kind message_kind_ = websocket_kind::text;
  std::size_t fragments_ = 0;
  std::string message_;
  utf8_stream_checker text_check_;

  std::string control_;  // A control frame's payload: at most 125 bytes, apart from message_.

  mutable std::uint64_t mask_seed_ = 0;  // Client role: the masking key generator's state.
};

}  // namespace coronet
