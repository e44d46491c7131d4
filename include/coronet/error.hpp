// coronet's error codes: expected protocol and network events are reported as std::error_code
// values in the "coronet" category, never as exceptions. A codec of your own may report errors
// of its own category instead: everything that carries a codec's error (decode_result,
// read_result::decode_error(), the observer) takes any std::error_code.
#pragma once

#include <string>
#include <system_error>

namespace coronet {

/// Error conditions reported by coronet. Values start at 1 so that 0 keeps meaning "no error".
enum class errc {
  frame_too_long = 1,    ///< A line, frame or datagram is longer than the codec's limit.
  invalid_utf8,          ///< Text that must be UTF-8 is not (see utf8.hpp for the classes).
  bad_length,            ///< A length header holds a value the codec cannot accept.
  delimiter_in_message,  ///< A message to encode contains its codec's delimiter (e.g. '\n').
  truncated_frame,       ///< The stream ended inside a frame.
  timed_out,             ///< A read, write, connect or idle timeout expired.
  send_queue_full,       ///< The send queue is at its limit; the message was not queued.
  slow_consumer,         ///< The peer did not read fast enough; the connection was dropped.
  connection_closed,     ///< The connection is closed (by us, the peer, or an earlier error).
  /// Not a failure: the transport's handshake answered the peer itself (a page or a health
  /// check on a WebSocket port) and closed; no session follows.
  answered_without_session,
};

/// The category of every coronet::errc value; its name() is "coronet".
const std::error_category& error_category() noexcept;

/// Makes an error_code in coronet's category (found by ADL, so `ec == errc::x` works).
std::error_code make_error_code(errc e) noexcept;

}  // namespace coronet

template <>
struct std::is_error_code_enum<coronet::errc> : std::true_type {};
