// histogram: a user metric counting observations (durations, sizes) in buckets with fixed upper
// bounds, and their sum. Any thread may observe; a few relaxed atomic adds each.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace coronet::metrics {

/// Observations in buckets: bucket i counts values <= bounds[i] (and above the bound before);
/// the last bucket (+Inf) counts the rest. Lives in a metrics_registry; keep the reference.
class histogram {
 public:
  /// `bounds` increasing and finite (the registry checks them).
  explicit histogram(std::vector<double> bounds)
      : bounds_{std::move(bounds)},
        buckets_{std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)} {}
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  /// Counts `value` in its bucket and adds it to the sum. Thread-safe.
  void observe(double value) noexcept {
    const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
    buckets_[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }

  /// The buckets' upper bounds.
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  /// Observations in bucket `index` (0 .. bounds().size(), the last being +Inf); not cumulative.
  std::uint64_t bucket_count(std::size_t index) const noexcept {
    return buckets_[index].load(std::memory_order_relaxed);
  }
  /// The sum of the observations.
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

}  // namespace coronet::metrics
