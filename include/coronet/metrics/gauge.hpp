// gauge: a user metric that goes up and down (members of a chat room, queue depth). Any thread
// may change it; one relaxed atomic operation each.
#pragma once

#include <atomic>

namespace coronet::metrics {

/// A value that goes up and down. Lives in a metrics_registry (which owns it); keep the
/// reference.
class gauge {
 public:
  gauge() = default;
  gauge(const gauge&) = delete;
  gauge& operator=(const gauge&) = delete;

  /// Sets the value. Thread-safe.
  void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  /// Adds `delta` (default 1). Thread-safe.
  void add(double delta = 1) noexcept { value_.fetch_add(delta, std::memory_order_relaxed); }
  /// Subtracts `delta` (default 1). Thread-safe.
  void sub(double delta = 1) noexcept { value_.fetch_sub(delta, std::memory_order_relaxed); }
  /// The value now.
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

}  // namespace coronet::metrics
