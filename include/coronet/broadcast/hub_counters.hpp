// What a broadcast hub counts: plain relaxed atomics written by the hub's executor and read by
// anyone (a metrics exporter on another thread) as one snapshot. No registry: whoever exports
// metrics reads snapshot().
#pragma once

#include <atomic>
#include <cstdint>

namespace coronet::broadcast {

/// One reading of a hub's counters.
struct hub_stats {
  std::uint64_t published = 0;    ///< Messages published by local members.
  std::uint64_t received = 0;     ///< Messages received from other instances (backplane).
  std::uint64_t delivered = 0;    ///< Messages handed to local members (one per member).
  std::uint64_t dropped = 0;      ///< Publications dropped: publish queue overflow (oldest first).
  std::uint64_t gaps = 0;         ///< Messages from other instances known missing (sequence gaps).
  std::uint64_t duplicates = 0;   ///< Messages from other instances seen twice and skipped.
  std::uint64_t malformed = 0;    ///< Backplane messages without a valid envelope (skipped).
  std::uint64_t reconnects = 0;   ///< Times the backplane came back after being lost.
  std::uint64_t outage_ms = 0;    ///< Time without the backplane since start, ongoing included.
  std::uint64_t queue_depth = 0;  ///< Publications waiting for the backplane now.
  std::uint64_t queue_bytes = 0;  ///< Their size in bytes.
};

/// The live counters. Written only on the hub's executor; readable from any thread.
struct hub_counters {
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> gaps{0};
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> malformed{0};
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<std::uint64_t> outage_ms{0};       // Finished outages.
  std::atomic<std::int64_t> outage_since_ns{0};  // steady_clock time an outage began; 0: none.
  std::atomic<std::uint64_t> queue_depth{0};
  std::atomic<std::uint64_t> queue_bytes{0};

  /// Adds `n` (one writer: a relaxed load and store, no locked instruction).
  static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  /// Reads every counter (each relaxed; together they are close to, not exactly, one instant).
  hub_stats snapshot() const noexcept;
};

}  // namespace coronet::broadcast
