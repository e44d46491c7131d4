// What a read returns, on every transport: the next message, or why there is none (framed
// connections return it from read(); datagram endpoints extend it with the sender).
#pragma once

#include <cstddef>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

#include <asio/error.hpp>

namespace coronet {

/// The next message, or why there is none: end of stream (asio::error::eof), a timeout
/// (errc::timed_out), a codec error (errc::frame_too_long, errc::invalid_utf8, ...) or a socket
/// error. Converts to true when it holds a message, so `while (auto m = co_await conn.read())`
/// reads until the first of those.
template <typename Message>
class read_result {
 public:
  static read_result of(Message message) {
    read_result result;
    result.content_.template emplace<message_index>(std::move(message));
    return result;
  }
  static read_result failure(std::error_code error, std::string_view reason = {},
                             bool recoverable = false) {
    read_result result;
    result.error_category_ = &error.category();
    result.error_value_ = error.value();
    result.content_.template emplace<reason_index>(reason);
    result.recoverable_ = recoverable;
    return result;
  }
  /// The codec rejected the input: `error` is the codec's (coronet's category or the codec's
  /// own), `reason` its explanation.
  static read_result decode_failure(std::error_code error, std::string_view reason,
                                    bool recoverable) {
    read_result result = failure(error, reason, recoverable);
    result.decode_error_ = true;
    return result;
  }

  explicit operator bool() const noexcept { return has_message(); }
  bool has_message() const noexcept { return content_.index() == message_index; }

  /// The message (only when has_message()). A view stays valid until the next read().
  Message& operator*() & { return *std::get_if<message_index>(&content_); }
  const Message& operator*() const& { return *std::get_if<message_index>(&content_); }
  Message* operator->() { return std::get_if<message_index>(&content_); }
  const Message* operator->() const { return std::get_if<message_index>(&content_); }

  /// Why there is no message; empty when there is one.
  std::error_code error() const noexcept { return {error_value_, *error_category_}; }
  /// A specific explanation for codec errors ("surrogate code point", ...); may be empty.
  std::string_view reason() const noexcept {
    const std::string_view* reason = std::get_if<reason_index>(&content_);
    return reason ? *reason : std::string_view{};
  }
  /// True for a codec error that spoiled one message only: the next read() goes on.
  bool recoverable() const noexcept { return recoverable_; }
  /// True when the codec rejected the input (whatever the error's category: a user codec may
  /// report errors of its own), false for a transport error, a timeout or the end.
  bool decode_error() const noexcept { return decode_error_; }
  /// True when the peer ended the stream cleanly and every message has been read.
  bool at_end() const noexcept { return error() == asio::error::eof; }

 private:
  read_result() = default;

  static constexpr std::size_t reason_index = 0;
  static constexpr std::size_t message_index = 1;

  // Small on purpose: every coroutine that reads holds a read_result in its frame, and every
  // idle connection's handler reads. The message and a failure's reason never coexist, so they
  // share their room; the error code is kept in its two parts so that the flags fit in its
  // padding (40 bytes for a string_view message, where an optional and a separate reason took
  // 56).
  std::variant<std::string_view, Message> content_;  // A failure's reason, or the message.
  const std::error_category* error_category_ = &std::system_category();
  int error_value_ = 0;
  bool recoverable_ = false;
  bool decode_error_ = false;
};

}  // namespace coronet
