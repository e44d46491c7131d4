// A connection's options as its state keeps them: the values of connection_options in 24 bytes
// instead of 48. Every connection holds its own copy for life (set_decode_errors changes one
// connection's), and an idle connection should cost as little as it can.
//
// Durations are kept in milliseconds and sizes in 32 bits, saturating: a timeout longer than
// 2^32 - 1 ms (49.7 days) counts as that long, a size over 4 GiB - 1 as that much. Neither bound
// is one a connection can reach in practice; connection_options documents them.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "coronet/stream/connection_options.hpp"

namespace coronet::detail {

class packed_options {
 public:
  explicit packed_options(const connection_options& options) noexcept
      : idle_timeout_{to_milliseconds(options.idle_timeout)},
        read_timeout_{to_milliseconds(options.read_timeout)},
        write_timeout_{to_milliseconds(options.write_timeout)},
        send_queue_limit_{to_size(options.send_queue_limit)},
        max_read_size_{to_size(options.max_read_size)},
        queue_policy_{options.queue_policy},
        decode_errors_{options.decode_errors} {}

  /// The options as a connection_options (after saturation).
  connection_options unpacked() const noexcept {
    connection_options options;
    options.idle_timeout = idle_timeout();
    options.read_timeout = read_timeout();
    options.write_timeout = write_timeout();
    options.send_queue_limit = send_queue_limit_;
    options.queue_policy = queue_policy_;
    options.decode_errors = decode_errors_;
    options.max_read_size = max_read_size_;
    return options;
  }

  // A zero duration: that timeout is off (negative ones were stored as zero).
  std::chrono::milliseconds idle_timeout() const noexcept { return milliseconds(idle_timeout_); }
  std::chrono::milliseconds read_timeout() const noexcept { return milliseconds(read_timeout_); }
  std::chrono::milliseconds write_timeout() const noexcept { return milliseconds(write_timeout_); }
  std::size_t send_queue_limit() const noexcept { return send_queue_limit_; }
  std::size_t max_read_size() const noexcept { return max_read_size_; }
  send_queue_policy queue_policy() const noexcept { return queue_policy_; }
  decode_error_policy decode_errors() const noexcept { return decode_errors_; }
  void set_decode_errors(decode_error_policy policy) noexcept { decode_errors_ = policy; }

 private:
  static constexpr std::uint32_t largest = std::numeric_limits<std::uint32_t>::max();

  static std::uint32_t to_milliseconds(std::chrono::milliseconds duration) noexcept {
    return static_cast<std::uint32_t>(
        std::clamp<std::chrono::milliseconds::rep>(duration.count(), 0, largest));
  }
  static std::uint32_t to_size(std::size_t size) noexcept {
    return static_cast<std::uint32_t>(std::min<std::size_t>(size, largest));
  }
  static std::chrono::milliseconds milliseconds(std::uint32_t count) noexcept {
    return std::chrono::milliseconds{count};
  }

  std::uint32_t idle_timeout_;
  std::uint32_t read_timeout_;
  std::uint32_t write_timeout_;
  std::uint32_t send_queue_limit_;
  std::uint32_t max_read_size_;
  send_queue_policy queue_policy_;
  decode_error_policy decode_errors_;
};

}  // namespace coronet::detail
