// What a broadcast hub counts, hub-wide and per room: relaxed atomics written by the hub's
// executor and read by anyone (a metrics scrape on another thread) as one snapshot. Shared by
// pointer, so that a reader may outlive the hub (coronet/metrics/hub_collector.hpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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
  bool connected = false;         ///< Whether the backplane is connected now.
};

/// One reading of one room's message counters (the hub_stats fields of the same names).
struct room_stats {
  std::string room;
  std::uint64_t published = 0;
  std::uint64_t received = 0;
  std::uint64_t delivered = 0;
  std::uint64_t dropped = 0;
  std::uint64_t gaps = 0;
  std::uint64_t duplicates = 0;
};

/// The message counters kept both hub-wide and per room.
struct message_counters {
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> gaps{0};
  std::atomic<std::uint64_t> duplicates{0};
};

/// A counter of message_counters: &message_counters::published, ...
using message_counter = std::atomic<std::uint64_t> message_counters::*;

/// The live counters. Written only on the hub's executor; readable from any thread.
class hub_counters {
 public:
  /// Rooms with counters of their own; the messages of rooms past it are counted together
  /// under other_rooms (a bound on the memory and on the metrics' label values). 1,024.
  static constexpr std::size_t max_counted_rooms = 1024;
  /// The name under which rooms past max_counted_rooms are counted.
  static constexpr std::string_view other_rooms = "(other rooms)";

  std::atomic<std::uint64_t> malformed{0};
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<std::uint64_t> outage_ms{0};       // Finished outages.
  std::atomic<std::int64_t> outage_since_ns{0};  // steady_clock time an outage began; 0: none.
  std::atomic<std::uint64_t> queue_depth{0};
  std::atomic<std::uint64_t> queue_bytes{0};
  std::atomic<bool> connected{false};

  /// Adds `n` (one writer: a relaxed load and store, no locked instruction).
  static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  /// Adds `n` to a message counter, hub-wide and of `room` (hub's executor only).
  void count(std::string_view room, message_counter which, std::uint64_t n = 1);

  /// Reads every hub-wide counter (each relaxed; together close to, not exactly, one instant).
  hub_stats snapshot() const noexcept;
  /// Reads every room's counters, sorted by room (takes a short lock; never blocks the hub
  /// for longer than one room's first message takes to insert it).
  std::vector<room_stats> room_snapshot() const;

 private:
  message_counters& counters_of(std::string_view room);

  message_counters totals_;
  // Written (inserted) only by the hub's executor under the lock; the executor looks rooms up
  // without it (reads only), readers take it.
  mutable std::mutex rooms_mutex_;
  std::map<std::string, std::unique_ptr<message_counters>, std::less<>> rooms_;
};

}  // namespace coronet::broadcast
