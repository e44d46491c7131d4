// Per-connection limits and timeouts of a framed_connection. Every limit is on by default.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace coronet {

/// What write() does when the send queue is at its limit (the peer reads too slowly).
enum class send_queue_policy : std::uint8_t {
  wait,        ///< write() suspends until the queue has room (bounded by write_timeout).
  disconnect,  ///< The connection is dropped with errc::slow_consumer.
  drop,        ///< The message is not queued; write() returns errc::send_queue_full.
};

/// What read() does with a message the codec rejects but can skip (a line that is too long or
/// not UTF-8): the error a peer can cause at will, and that a read loop must survive.
enum class decode_error_policy : std::uint8_t {
  /// Answer the peer with one message "error: <what> (<reason>)" through the codec (when its
  /// messages can hold text; otherwise skip), count it, and read on: a read loop that stops at
  /// the first non-message (`while (auto line = co_await conn.read())`) keeps serving and the
  /// peer learns why its line was refused.
  reply,
  /// Count it and read on, telling nobody.
  skip,
  /// Return it from read() (read_result::recoverable() is true), for a handler that answers
  /// errors itself.
  report,
};

/// Limits and timeouts of one connection. A zero duration turns that timeout off. A connection
/// keeps them in 32 bits: a timeout longer than 2^32 - 1 ms (49.7 days) counts as that long, a
/// size over 4 GiB - 1 as that much (framed_connection::options() shows the values in use).
struct connection_options {
  /// Close-worthy silence: read() fails with errc::timed_out when nothing has been received for
  /// this long. Default 5 minutes.
  std::chrono::milliseconds idle_timeout = std::chrono::minutes{5};
  /// Longest a message may take to arrive once its first byte has: read() fails with
  /// errc::timed_out when it has been receiving one message for this long. It bounds a peer that
  /// trickles bytes (slowloris), which the idle timeout cannot see; a read() waiting in silence
  /// is left to the idle timeout. Default off (0).
  std::chrono::milliseconds read_timeout{0};
  /// Longest the peer may go without accepting any of the bytes being sent to it; past it the
  /// connection is closed with errc::timed_out (and writers waiting for room wake up). A slow
  /// peer that keeps reading is not cut off. Default 30 s.
  std::chrono::milliseconds write_timeout = std::chrono::seconds{30};
  /// Bytes the send queue may hold before send_queue_policy applies (one message may always be
  /// queued into an empty queue, whatever its size). Default 1 MiB.
  std::size_t send_queue_limit = 1024 * 1024;
  /// What happens when the send queue is full. Default wait.
  send_queue_policy queue_policy = send_queue_policy::wait;
  /// What read() does with a recoverable decode error (see decode_error_policy). Errors the
  /// codec cannot recover from always end the connection and are returned. Default reply.
  decode_error_policy decode_errors = decode_error_policy::reply;
  /// Largest single socket read. The read buffer starts at 4 KiB and grows to this while reads
  /// fill it (or a message needs it). Default 64 KiB.
  std::size_t max_read_size = 64 * 1024;
};

}  // namespace coronet
