// The resp codec's own error codes (category "resp"): what was wrong with a RESP byte stream or
// with a value that cannot be encoded. Every decode error loses the framing: the connection must
// be closed (a Redis client reconnects).
#pragma once

#include <system_error>

namespace coronet {

/// Errors of the resp codec. Values start at 1 so that 0 keeps meaning "no error".
enum class resp_errc {
  unknown_type = 1,   ///< A value starts with a byte that is no RESP type prefix.
  missing_crlf,       ///< A line or bulk payload is not followed by "\r\n".
  bad_length,         ///< A length or element count is malformed (or -1 where not allowed).
  bad_scalar,         ///< A malformed integer, double, boolean, big number or null.
  bulk_too_long,      ///< A bulk string or line is longer than max_bulk_length.
  too_deep,           ///< Aggregates nested deeper than max_depth.
  too_many_elements,  ///< One message holds more than max_elements values.
  message_too_long,   ///< One message is longer than max_message_size bytes.
  truncated,          ///< The stream ended inside a value.
  unencodable,        ///< encode(): the value cannot be sent faithfully (CR/LF in a line, ...).
};

/// The category of every resp_errc value; its name() is "resp".
const std::error_category& resp_category() noexcept;

/// Makes an error_code in the resp category (found by ADL, so `ec == resp_errc::x` works).
std::error_code make_error_code(resp_errc e) noexcept;

}  // namespace coronet

template <>
struct std::is_error_code_enum<coronet::resp_errc> : std::true_type {};
