// A few buffers a connection gave back when it went quiet, kept per thread for the next
// connection that needs one, instead of freeing them and allocating them again.
//
// An idle connection holds no buffers (see read_buffer and send_queue): each burst allocates its
// read buffer, its send queue's block and the queue's string as it grows, and frees them when it
// has been answered. Under echo-style traffic that is about ten allocations per burst, most of
// them past the sizes glibc keeps per thread (its tcache stops at 1,032 bytes). Netty keeps
// per-thread caches of pooled buffers for the same reason.
//
// Bounded: at most `Slots` entries per thread per kind; what does not fit is freed as before.
// Only small buffers are given back (callers decide: the connection's 4 KiB threshold). With
// the connection's 64 slots per kind a thread holds at most 256 KiB of read buffers and 512 KiB
// of send blocks here, and only as many as were busy at once (under W2, 50 connections: one
// block of each per connection). Thread-local, so no locking: a buffer released on one thread
// may be taken on another, which only moves memory between the caches.
#pragma once

#include <array>
#include <cstddef>
#include <utility>

namespace coronet::detail {

template <typename Buffer, std::size_t Slots>
class thread_buffer_cache {
 public:
  /// The most recently kept buffer, or an empty (default-constructed) one if none is kept.
  static Buffer take() noexcept {
    auto& cache = local();
    if (cache.count == 0) return Buffer{};
    return std::move(cache.slots[--cache.count]);
  }

  /// Keeps `buffer` for the next take() on this thread; frees it if this thread's cache is full.
  static void keep(Buffer&& buffer) noexcept {
    auto& cache = local();
    if (cache.count == Slots) {
      Buffer dropped = std::move(buffer);  // Freed here, as without the cache.
      return;
    }
    cache.slots[cache.count++] = std::move(buffer);
  }

  /// Buffers kept on this thread (for tests).
  static std::size_t kept() noexcept { return local().count; }

 private:
  struct slots_of_thread {
    std::array<Buffer, Slots> slots{};
    std::size_t count = 0;
  };
  static slots_of_thread& local() noexcept {
    static thread_local slots_of_thread cache;
    return cache;
  }
};

}  // namespace coronet::detail
