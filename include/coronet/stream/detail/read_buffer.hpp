// The read buffer of a connection: bytes received but not yet consumed by the codec. Allocated on
// first use, grown on demand, compacted instead of grown when consumed bytes free enough room,
// released while the connection waits with nothing buffered (a small one to this thread's
// cache, where the next buffer comes from: see thread_buffer_cache). Sizes and offsets are 32-bit
// (every connection holds one of these): a buffer holds less than 4 GiB.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string_view>

#include "coronet/stream/detail/thread_buffer_cache.hpp"

namespace coronet::detail {

class read_buffer {
 public:
  /// Bytes received and not yet consumed.
  std::string_view readable() const noexcept { return {data_.get() + begin_, end_ - begin_}; }
  bool empty() const noexcept { return begin_ == end_; }
  std::size_t capacity() const noexcept { return capacity_; }

  void consume(std::size_t count) noexcept {
    begin_ += static_cast<std::uint32_t>(std::min<std::size_t>(count, end_ - begin_));
    if (begin_ == end_) begin_ = end_ = 0;
  }

  /// Free space of at least `wanted` bytes at the end (compacting or growing as needed).
  std::span<char> prepare(std::size_t wanted) {
    if (!data_) {
      storage kept = cache::take();
      data_ = std::move(kept.data);
      capacity_ = static_cast<std::uint32_t>(kept.capacity);
    }
    if (capacity_ - end_ < wanted && begin_ > 0) {
      const std::uint32_t size = end_ - begin_;
      std::memmove(data_.get(), data_.get() + begin_, size);
      begin_ = 0;
      end_ = size;
    }
    if (capacity_ - end_ < wanted) {
      if (wanted > largest - end_) throw std::length_error{"coronet: a read buffer holds < 4 GiB"};
      const std::size_t needed = end_ + wanted;
      const std::size_t grown =
          std::min<std::size_t>(std::max<std::size_t>(needed, capacity_ * std::size_t{2}), largest);
      auto bigger = std::make_unique_for_overwrite<char[]>(grown);
      if (end_ > begin_) std::memcpy(bigger.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
      data_ = std::move(bigger);
      capacity_ = static_cast<std::uint32_t>(grown);
    }
    return {data_.get() + end_, capacity_ - end_};
  }

  void commit(std::size_t count) noexcept { end_ += static_cast<std::uint32_t>(count); }

  /// Gives the storage up; only while nothing is buffered (an idle connection holds no buffer).
  /// Storage of up to `cache_limit` bytes goes to this thread's cache for the next buffer.
  void release(std::size_t cache_limit = 0) noexcept {
    if (!empty()) return;
    if (data_ && capacity_ <= cache_limit) cache::keep({std::move(data_), capacity_});
    data_.reset();
    capacity_ = 0;
  }

  /// Storage given up by a read buffer, as kept in the thread's cache.
  struct storage {
    std::unique_ptr<char[]> data;
    std::size_t capacity = 0;
  };
  /// Where released storage waits for the next read buffer on the thread: at most 64 blocks
  /// (the connection gives back those of up to 4 KiB, so 256 KiB per thread at most).
  using cache = thread_buffer_cache<storage, 64>;

 private:
  static constexpr std::uint32_t largest = std::numeric_limits<std::uint32_t>::max();

  std::unique_ptr<char[]> data_;
  std::uint32_t capacity_ = 0;
  std::uint32_t begin_ = 0;
  std::uint32_t end_ = 0;
};

}  // namespace coronet::detail
