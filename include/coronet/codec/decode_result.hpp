// What one call to a codec's decode() tells its caller: a complete message, a request for more
// bytes, or a protocol error — always together with how many input bytes the call used up.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

namespace coronet {

/// The three outcomes of a decode call.
enum class decode_status {
  message,    ///< A complete message was decoded.
  need_more,  ///< No complete message yet: append more input and call again.
  error,      ///< The input breaks the protocol; see error() and reason().
};

/// Result of `codec.decode(bytes)`. The caller must drop consumed() bytes from the front of its
/// buffer before the next call, whatever the status. A message may view into the input buffer,
/// so use it before dropping those bytes.
template <typename Message>
class decode_result {
 public:
  /// No complete message; `consumed` bytes (input the codec discarded) may still be dropped.
  static decode_result need_more(std::size_t consumed = 0) noexcept {
    return decode_result{decode_status::need_more, consumed};
  }

  /// A complete message that used `consumed` bytes of input (framing included).
  static decode_result complete(Message message, std::size_t consumed) {
    decode_result result{decode_status::message, consumed};
    result.message_.emplace(std::move(message));
    return result;
  }

  /// A protocol error. `reason` must be a string with static storage (no allocation on errors).
  /// `recoverable` says whether the codec can go on decoding the same stream after dropping
  /// `consumed` bytes (a line codec can; a length-prefixed codec that lost sync cannot).
  static decode_result failure(std::error_code error, std::string_view reason, std::size_t consumed,
                               bool recoverable) noexcept {
    decode_result result{decode_status::error, consumed};
    result.error_ = error;
    result.reason_ = reason;
    result.recoverable_ = recoverable;
    return result;
  }

  decode_status status() const noexcept { return status_; }
  bool has_message() const noexcept { return status_ == decode_status::message; }
  bool needs_more() const noexcept { return status_ == decode_status::need_more; }
  bool has_error() const noexcept { return status_ == decode_status::error; }

  /// Input bytes this call used up (message framing, discarded bytes, or the bad input).
  std::size_t consumed() const noexcept { return consumed_; }

  /// The decoded message; only valid when has_message().
  Message& message() & { return *message_; }
  const Message& message() const& { return *message_; }
  Message&& message() && { return std::move(*message_); }

  /// The error; empty unless has_error().
  std::error_code error() const noexcept { return error_; }
  /// A short, specific explanation of the error ("surrogate code point", ...); empty otherwise.
  std::string_view reason() const noexcept { return reason_; }
  /// After an error: true if the stream can still be decoded (after dropping consumed() bytes).
  bool recoverable() const noexcept { return recoverable_; }

 private:
  decode_result(decode_status status, std::size_t consumed) noexcept
      : status_{status}, consumed_{consumed} {}

  decode_status status_;
  std::size_t consumed_;
  std::optional<Message> message_;
  std::error_code error_;
  std::string_view reason_;
  bool recoverable_ = true;
};

}  // namespace coronet
