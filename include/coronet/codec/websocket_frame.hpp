// The vocabulary of RFC 6455 shared by the WebSocket codec, transport and client: opcodes, close
// status codes, the protocol errors (whose values are the close codes they end a connection
// with), the message type, and a frame writer (also for tests that must send frames a
// well-behaved encoder refuses to produce).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>

#include "coronet/owned_message.hpp"

namespace coronet {

/// Frame opcodes (RFC 6455 section 5.2). Other values are reserved and refused.
enum class websocket_opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// Close status codes (RFC 6455 section 7.4.1) the library sends or reports.
namespace websocket_close {
inline constexpr std::uint16_t normal = 1000;            ///< The purpose was fulfilled.
inline constexpr std::uint16_t going_away = 1001;        ///< Server stopping, page left.
inline constexpr std::uint16_t protocol_error = 1002;    ///< A frame broke RFC 6455.
inline constexpr std::uint16_t unsupported_data = 1003;  ///< A kind of data not accepted.
inline constexpr std::uint16_t no_status = 1005;  ///< Reported for a close frame without a code.
inline constexpr std::uint16_t abnormal = 1006;   ///< Reported when no close frame came at all.
inline constexpr std::uint16_t invalid_payload = 1007;   ///< Text that is not UTF-8.
inline constexpr std::uint16_t policy_violation = 1008;  ///< Refused by policy (server full).
inline constexpr std::uint16_t message_too_big = 1009;   ///< Over the maximum message size.
inline constexpr std::uint16_t internal_error = 1011;    ///< The server failed.
}  // namespace websocket_close

/// Whether `code` may appear in a close frame: 1000-1003, 1007-1014, 3000-4999. The others are
/// unassigned, or reserved for reporting only (1005, 1006, 1015), and mean a protocol error.
bool is_valid_close_code(std::uint16_t code) noexcept;

/// WebSocket protocol errors. Each value is the close code the connection ends with.
enum class websocket_errc {
  protocol_error = websocket_close::protocol_error,      ///< Any frame that breaks RFC 6455.
  unsupported_data = websocket_close::unsupported_data,  ///< Binary data to a text handler.
  invalid_utf8 = websocket_close::invalid_payload,       ///< A text message or close reason.
  message_too_big = websocket_close::message_too_big,    ///< Over max_message_size.
};

/// The category of websocket_errc; its name() is "websocket".
const std::error_category& websocket_category() noexcept;

/// Makes an error_code in the "websocket" category (found by ADL).
std::error_code make_error_code(websocket_errc e) noexcept;

/// The close code a connection ending with `error` sends: the websocket_errc value for the
/// protocol's own errors, 1007 for coronet's invalid_utf8, 1009 for frame_too_long, 1011
/// otherwise.
std::uint16_t close_code_for(std::error_code error) noexcept;

/// What a WebSocket message is.
enum class websocket_kind : std::uint8_t { text, binary, ping, pong, close };

/// One WebSocket message: a whole data message (its fragments reassembled) or a control frame.
/// Decoded messages view into the codec's own buffer: valid until the next decode() call.
struct websocket_message {
  websocket_kind kind = websocket_kind::text;
  /// The data; a ping's or pong's application data; a close frame's reason.
  std::string_view payload;
  /// A close frame's status code; websocket_close::no_status when the frame carried none.
  std::uint16_t close_code = 0;

  /// A text message (must be UTF-8 to be encoded).
  static websocket_message text(std::string_view data) noexcept {
    return {websocket_kind::text, data};
  }
  /// A binary message.
  static websocket_message binary(std::string_view data) noexcept {
    return {websocket_kind::binary, data};
  }
  /// A ping (at most 125 bytes of data).
  static websocket_message ping(std::string_view data = {}) noexcept {
    return {websocket_kind::ping, data};
  }
  /// A pong (at most 125 bytes of data).
  static websocket_message pong(std::string_view data = {}) noexcept {
    return {websocket_kind::pong, data};
  }
  /// A close frame with a status code and a reason of at most 123 bytes (no_status: no code).
  static websocket_message close(std::uint16_t code, std::string_view reason = {}) noexcept {
    return {websocket_kind::close, reason, code};
  }

  /// Whether it is a control frame (ping, pong or close).
  bool is_control() const noexcept { return kind >= websocket_kind::ping; }

  friend bool operator==(const websocket_message&, const websocket_message&) = default;
};

/// A websocket_message that owns its payload, for keeping one past the next read.
struct websocket_owned_message {
  websocket_kind kind = websocket_kind::text;
  std::string payload;
  std::uint16_t close_code = 0;

  websocket_owned_message() = default;
  explicit websocket_owned_message(const websocket_message& message)
      : kind{message.kind}, payload{message.payload}, close_code{message.close_code} {}

  /// A view of it, valid while it lives.
  websocket_message view() const noexcept { return {kind, payload, close_code}; }

  friend bool operator==(const websocket_owned_message&, const websocket_owned_message&) = default;
};

template <>
struct owned_message<websocket_message> {
  using type = websocket_owned_message;
};

/// "text", "binary", "ping", "pong" or "close".
std::string_view to_string(websocket_kind kind) noexcept;

/// For test failure reports: kind, close code and payload.
std::ostream& operator<<(std::ostream& out, const websocket_owned_message& message);

/// The fields of a frame header a writer chooses.
struct websocket_frame_header {
  bool fin = true;
  std::uint8_t rsv = 0;     ///< RSV1..3 as bits 2..0; non-zero only for tests of refusals.
  std::uint8_t opcode = 0;  ///< A websocket_opcode value, or a reserved one for such tests.
  std::optional<std::array<std::uint8_t, 4>> mask;  ///< Masking key: client frames have one.
};

/// Appends one frame with `payload` (masked with header.mask if set) to `out`, with the
/// shortest length encoding. Checks nothing: the codec's encode() is the checked way.
void append_websocket_frame(std::string& out, const websocket_frame_header& header,
                            std::string_view payload);

}  // namespace coronet

template <>
struct std::is_error_code_enum<coronet::websocket_errc> : std::true_type {};
