// counter: a user metric that only goes up (requests served, lines relayed). Any thread may add
// to it; one relaxed atomic add each.
#pragma once

#include <atomic>
#include <cstdint>

namespace coronet::metrics {

/// A monotonic count. Lives in a metrics_registry (which owns it); keep the reference.
class counter {
 public:
  counter() = default;
  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;

  /// Adds `count` (default 1). Thread-safe: a relaxed atomic add.
  void add(std::uint64_t count = 1) noexcept { value_.fetch_add(count, std::memory_order_relaxed); }
  /// The count now.
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace coronet::metrics
