// encoded_message: a message framed once, to be queued on many connections (a chat broadcast,
// a fan-out). Writing it appends its bytes: no encode, no UTF-8 check, no delimiter scan per
// recipient.
#pragma once

#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "coronet/codec/codec_concepts.hpp"

namespace coronet {

/// The bytes `Codec` frames a message into. Write it to any framed_connection whose codec is a
/// `Codec` with the same framing options (the bytes were framed by `codec`, not by theirs).
template <codec Codec>
class encoded_message {
 public:
  using codec_type = Codec;

  /// Encodes `message` with `codec`. If the codec refuses it, error() says why and writing it
  /// fails with that error.
  encoded_message(Codec codec, const outgoing_message_t<Codec>& message) {
    error_ = codec.encode(message, bytes_);
    if (error_) bytes_.clear();
  }

  /// Whether the message could be framed.
  explicit operator bool() const noexcept { return !error_; }
  /// Why the codec refused the message (empty if it did not).
  std::error_code error() const noexcept { return error_; }
  /// The framed bytes, delimiter or header included.
  std::string_view bytes() const noexcept { return bytes_; }

 private:
  std::string bytes_;
  std::error_code error_;
};

}  // namespace coronet
