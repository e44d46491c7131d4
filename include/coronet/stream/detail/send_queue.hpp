// The buffers of a connection's bounded send queue: what encoders append to (pending) and the
// batch the single writer is handing to the stream (sending). Queued bytes stop counting against
// the limit as soon as the stream takes them, so a peer that reads a large batch in parts, as
// fast as it can, is not a slow consumer.
//
// The two buffers live in a block of their own, made by the first write and freed with the
// buffers when the connection goes quiet: an idle connection holds one pointer here instead of
// two strings (64 bytes less per connection). A block whose strings are small goes, storage and
// all, to this thread's cache, where the next burst's block comes from (see thread_buffer_cache):
// its strings need not grow again from nothing.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <asio/buffer.hpp>

#include "coronet/stream/detail/thread_buffer_cache.hpp"

namespace coronet::detail {

class send_queue {
 public:
  /// Bytes queued and not yet taken by the stream.
  std::size_t queued_bytes() const noexcept {
    return buffers_ ? buffers_->pending.size() + buffers_->sending.size() - buffers_->handed_over
                    : 0;
  }
  /// Whether one more message may be queued under `limit` (an empty queue always takes one).
  bool has_room(std::size_t limit) const noexcept {
    const std::size_t queued = queued_bytes();
    return queued == 0 || queued < limit;
  }

  /// Where encoders append the next messages.
  std::string& pending() {
    if (!buffers_) {
      buffers_ = cache::take();
      if (!buffers_) buffers_ = std::make_unique<buffers>();
    }
    return buffers_->pending;
  }
  bool has_pending() const noexcept { return buffers_ && !buffers_->pending.empty(); }
  /// Drops what is queued and not yet in a batch (the connection closed).
  void discard_pending() noexcept {
    if (buffers_) buffers_->pending.clear();
  }

  /// The writer takes everything pending as its next batch (only when has_pending()).
  void begin_batch() noexcept {
    buffers_->sending.swap(buffers_->pending);
    buffers_->handed_over = 0;
  }
  /// The part of the batch the stream has not taken yet.
  asio::const_buffer unsent() const noexcept {
    return asio::buffer(buffers_->sending.data() + buffers_->handed_over,
                        buffers_->sending.size() - buffers_->handed_over);
  }
  /// The stream took `count` more bytes; returns whether the whole batch is taken.
  bool hand_over(std::size_t count) noexcept {
    buffers_->handed_over += count;
    return buffers_->handed_over == buffers_->sending.size();
  }
  /// The batch is done (sent or abandoned). A batch buffer larger than `keep_limit` is freed:
  /// a burst should not pin its memory for the connection's lifetime.
  void end_batch(std::size_t keep_limit) noexcept {
    if (!buffers_) return;
    buffers_->sending.clear();
    buffers_->handed_over = 0;
    if (buffers_->sending.capacity() > keep_limit) std::string{}.swap(buffers_->sending);
  }

  /// Heap bytes both buffers hold (not what they contain; the block itself not counted).
  std::size_t capacity() const noexcept {
    return buffers_ ? heap(buffers_->pending) + heap(buffers_->sending) : 0;
  }
  bool holds_more_than(std::size_t size) const noexcept {
    return buffers_ && (buffers_->pending.capacity() > size || buffers_->sending.capacity() > size);
  }
  /// Gives the buffers up (those up to `size` only, unless `any_size`), and their block once
  /// neither holds memory; only while nothing is queued or being sent. A block whose buffers
  /// are both small goes to this thread's cache unless `any_size`.
  void release(std::size_t size, bool any_size) noexcept {
    if (!buffers_) return;
    if (!any_size && !holds_more_than(size)) {
      buffers_->pending.clear();
      buffers_->sending.clear();
      buffers_->handed_over = 0;
      cache::keep(std::move(buffers_));
      return;
    }
    if (any_size || buffers_->pending.capacity() <= size) std::string{}.swap(buffers_->pending);
    if (any_size || buffers_->sending.capacity() <= size) std::string{}.swap(buffers_->sending);
    if (capacity() == 0) buffers_.reset();
  }

 private:
  struct buffers;

 public:
  /// Where quiet queues' blocks wait for the next burst on the thread: at most 64, each with
  /// two strings of up to 4 KiB (the connection's limit), so 512 KiB per thread at most.
  using cache = thread_buffer_cache<std::unique_ptr<buffers>, 64>;

 private:
  static std::size_t heap(const std::string& text) noexcept {
    return text.capacity() > std::string{}.capacity() ? text.capacity() : 0;
  }

  struct buffers {
    std::string pending;          // Encoded, waiting for the current batch to finish.
    std::string sending;          // The batch being written; untouched until it completes.
    std::size_t handed_over = 0;  // Bytes of `sending` the stream has taken so far.
  };
  std::unique_ptr<buffers> buffers_;  // Null until the first write, and again when quiet.
};

}  // namespace coronet::detail
