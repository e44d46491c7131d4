// latency_histogram: round-trip times in bounded memory. Log-linear buckets (64 per power of two
// above 128 ns) keep every recorded value within 1.6% of its bucket's midpoint, whatever the
// run's length, so a long run at a million messages per second costs no more memory than a
// short one.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace load {

class latency_histogram {
 public:
  /// Records one round trip.
  void record(std::chrono::nanoseconds latency) noexcept {
    const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(latency.count(), 0));
    ++counts_[bucket_of(ns)];
    ++total_;
    max_ = std::max(max_, ns);
  }

  void clear() noexcept {
    counts_.fill(0);
    total_ = 0;
    max_ = 0;
  }

  std::uint64_t count() const noexcept { return total_; }
  std::chrono::nanoseconds max() const noexcept {
    return std::chrono::nanoseconds{static_cast<std::int64_t>(max_)};
  }

  /// The latency below which `fraction` (0..1) of the recorded round trips fall: the midpoint
  /// of the bucket holding that rank. Zero when nothing was recorded.
  std::chrono::nanoseconds percentile(double fraction) const noexcept {
    if (total_ == 0) return std::chrono::nanoseconds{0};
    const auto rank = static_cast<std::uint64_t>(fraction * static_cast<double>(total_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t bucket = 0; bucket < counts_.size(); ++bucket) {
      seen += counts_[bucket];
      if (seen >= rank) {
        const std::uint64_t mid = std::min(midpoint_of(bucket), max_);
        return std::chrono::nanoseconds{static_cast<std::int64_t>(mid)};
      }
    }
    return max();
  }

 private:
  static constexpr unsigned sub_bits = 7;  // 128 linear buckets, then 64 per octave.
  static constexpr std::uint64_t linear = std::uint64_t{1} << sub_bits;
  static constexpr std::size_t octaves = 64 - sub_bits;
  static constexpr std::size_t bucket_count = linear + octaves * (linear / 2);

  static std::size_t bucket_of(std::uint64_t ns) noexcept {
    if (ns < linear) return static_cast<std::size_t>(ns);
    const unsigned shift = static_cast<unsigned>(std::bit_width(ns)) - sub_bits;  // >= 1
    const std::uint64_t top = ns >> shift;  // In [linear/2, linear).
    return static_cast<std::size_t>(linear + (shift - 1) * (linear / 2) + (top - linear / 2));
  }

  static std::uint64_t midpoint_of(std::size_t bucket) noexcept {
    if (bucket < linear) return bucket;
    const std::size_t shift = (bucket - linear) / (linear / 2) + 1;
    const std::uint64_t top = (bucket - linear) % (linear / 2) + linear / 2;
    const std::uint64_t low = top << shift;
    return low + ((std::uint64_t{1} << shift) >> 1);
  }

  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace load
