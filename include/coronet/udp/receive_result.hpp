// What a datagram endpoint's receive calls return: the decoded message and its sender, or why
// there is none (receive_from); the byte count and sender (receive_from_into).
#pragma once

#include <cstddef>
#include <string_view>
#include <system_error>
#include <utility>

#include "coronet/read_result.hpp"

namespace coronet {

/// A read_result (message or error, reason(), recoverable()) plus the datagram's sender.
///
/// Errors: errc::frame_too_long (the datagram was larger than the limit; it is dropped whole,
/// never cut), errc::invalid_utf8 and other codec errors, errc::timed_out, operation_aborted
/// (the caller was cancelled), a socket error (connection_refused on a connected UDP endpoint
/// whose peer's port is closed), or errc::connection_closed. recoverable() is true for every
/// error after which the next receive works: all of them except errc::connection_closed.
/// sender() is known for codec errors (who sent the bad datagram) and empty otherwise.
template <typename Message, typename Endpoint>
class receive_result : public read_result<Message> {
 public:
  receive_result(read_result<Message> result, Endpoint sender)
      : read_result<Message>{std::move(result)}, sender_{std::move(sender)} {}

  /// A decoded message from `sender`.
  static receive_result of(Message message, Endpoint sender) {
    return {read_result<Message>::of(std::move(message)), std::move(sender)};
  }
  /// The codec (or the size limit) rejected the datagram `sender` sent.
  static receive_result decode_failure(std::error_code error, std::string_view reason,
                                       Endpoint sender) {
    return {read_result<Message>::decode_failure(error, reason, true), std::move(sender)};
  }
  /// No message: `error` (and a static `reason` for codec errors).
  static receive_result failure(std::error_code error, std::string_view reason = {},
                                bool recoverable = true, Endpoint sender = {}) {
    return {read_result<Message>::failure(error, reason, recoverable), std::move(sender)};
  }

  /// Who sent the datagram (for UDP, IP and port; for Unix sockets, the sender's bound path).
  const Endpoint& sender() const noexcept { return sender_; }

 private:
  Endpoint sender_;
};

/// What receive_from_into() returns: how many bytes were stored and who sent them, or why none
/// were. Converts to true when a whole datagram was stored.
template <typename Endpoint>
struct receive_into_result {
  /// Empty on success. errc::frame_too_long when the datagram did not fit: the buffer then
  /// holds its first `size` bytes and datagram_size tells the full size. Otherwise as for
  /// receive_result (timed_out, operation_aborted, a socket error, connection_closed).
  std::error_code error;
  /// Bytes written to the caller's buffer.
  std::size_t size = 0;
  /// The datagram's full size; larger than `size` when it was cut.
  std::size_t datagram_size = 0;
  /// Who sent it.
  Endpoint sender;

  explicit operator bool() const noexcept { return !error; }
};

}  // namespace coronet
