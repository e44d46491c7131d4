// The buffers of a connection's bounded send queue: what encoders append to (pending) and the
// batch the single writer is handing to the stream (sending). Queued bytes stop counting against
// the limit as soon as the stream takes them, so a peer that reads a large batch in parts, as
// fast as it can, is not a slow consumer.
#pragma once

#include <cstddef>
#include <string>

#include <asio/buffer.hpp>

namespace coronet::detail {

class send_queue {
 public:
  /// Bytes queued and not yet taken by the stream.
  std::size_t queued_bytes() const noexcept {
    return pending_.size() + sending_.size() - handed_over_;
  }
  /// Whether one more message may be queued under `limit` (an empty queue always takes one).
  bool has_room(std::size_t limit) const noexcept {
    return queued_bytes() == 0 || queued_bytes() < limit;
  }

  /// Where encoders append the next messages.
  std::string& pending() noexcept { return pending_; }
  bool has_pending() const noexcept { return !pending_.empty(); }
  /// Drops what is queued and not yet in a batch (the connection closed).
  void discard_pending() noexcept { pending_.clear(); }

  /// The writer takes everything pending as its next batch.
  void begin_batch() noexcept {
    sending_.swap(pending_);
    handed_over_ = 0;
  }
  /// The part of the batch the stream has not taken yet.
  asio::const_buffer unsent() const noexcept {
    return asio::buffer(sending_.data() + handed_over_, sending_.size() - handed_over_);
  }
  /// The stream took `count` more bytes; returns whether the whole batch is taken.
  bool hand_over(std::size_t count) noexcept {
    handed_over_ += count;
    return handed_over_ == sending_.size();
  }
  /// The batch is done (sent or abandoned). A batch buffer larger than `keep_limit` is freed:
  /// a burst should not pin its memory for the connection's lifetime.
  void end_batch(std::size_t keep_limit) noexcept {
    sending_.clear();
    handed_over_ = 0;
    if (sending_.capacity() > keep_limit) std::string{}.swap(sending_);
  }

  /// Heap bytes both buffers hold (not what they contain).
  std::size_t capacity() const noexcept { return heap(pending_) + heap(sending_); }
  bool holds_more_than(std::size_t size) const noexcept {
    return pending_.capacity() > size || sending_.capacity() > size;
  }
  /// Frees the buffers (those up to `size` only, unless `any_size`); only while nothing is
  /// queued or being sent.
  void release(std::size_t size, bool any_size) noexcept {
    if (any_size || pending_.capacity() <= size) std::string{}.swap(pending_);
    if (any_size || sending_.capacity() <= size) std::string{}.swap(sending_);
  }

 private:
  static std::size_t heap(const std::string& text) noexcept {
    return text.capacity() > std::string{}.capacity() ? text.capacity() : 0;
  }

  std::string pending_;          // Encoded, waiting for the current batch to finish.
  std::string sending_;          // The batch being written; untouched until it completes.
  std::size_t handed_over_ = 0;  // Bytes of sending_ the stream has taken so far.
};

}  // namespace coronet::detail
