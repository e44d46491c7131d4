// event_counter: the counter of the observer seam and of the servers' metrics. One thread writes
// it (the executor that owns what it counts), any thread reads it: a relaxed load and a relaxed
// store instead of an atomic read-modify-write, so counting costs no locked instruction.
#pragma once

#include <atomic>
#include <cstdint>

namespace coronet {

/// A counter written by one thread at a time (the executor of the connections that report to
/// it: one thread, or a strand) and readable from any thread. A plain load and store instead of
/// an atomic read-modify-write: no locked instruction on the message path.
class event_counter {
 public:
  void add(std::uint64_t count) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + count, std::memory_order_relaxed);
  }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace coronet
