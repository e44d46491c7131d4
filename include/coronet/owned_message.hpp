// The type in which a message is kept once the buffer it was decoded from is gone: codecs may
// yield views into their input (zero-copy), and whoever holds a message past the next read
// (a datagram handler, a test) needs its owned form.
#pragma once

#include <string>
#include <string_view>

namespace coronet {

/// The owned form of `Message`: std::string for std::string_view, else `Message` itself. A
/// codec whose message type holds views of its own specialises this (with a `type` that is
/// constructible from the message).
template <typename Message>
struct owned_message {
  using type = Message;
};
template <>
struct owned_message<std::string_view> {
  using type = std::string;
};
template <typename Message>
using owned_message_t = typename owned_message<Message>::type;

}  // namespace coronet
