// Which message a read last returned on this thread, so that writing that same view back (an
// echo, a relay) can skip the checks its decoding already made (see reencoding_codec).
//
// A view is recognised by its codec object, address and size: the bytes it views belong to that
// connection's read buffer and stay as decoded until its next read, before which the view is
// valid by read()'s contract. A copy, a part of it or a view read on another thread is encoded
// with every check. Thread-local rather than a field of the connection: every idle connection
// would pay for a field, and the check is for the write that follows the read at once.
#pragma once

#include <cstddef>
#include <string_view>

namespace coronet::detail {

struct decoded_view {
  const void* codec = nullptr;
  const char* data = nullptr;
  std::size_t size = 0;
};

inline thread_local decoded_view last_decoded_view;

/// Records `message` as the view `codec` decoded last on this thread.
inline void remember_decoded(const void* codec, std::string_view message) noexcept {
  last_decoded_view = {codec, message.data(), message.size()};
}

/// Forgets the view `codec` decoded last on this thread, if it is the last one recorded: the
/// bytes it views are about to change (the connection's next read drops them).
inline void forget_decoded(const void* codec) noexcept {
  if (last_decoded_view.codec == codec) last_decoded_view = {};
}

/// Whether `message` is exactly the view `codec` decoded last on this thread.
inline bool is_last_decoded(const void* codec, std::string_view message) noexcept {
  const decoded_view& last = last_decoded_view;
  return last.codec == codec && last.data == message.data() && last.size == message.size();
}

}  // namespace coronet::detail
