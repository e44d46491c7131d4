// The observer seam: what a connection reports about itself (bytes and messages in and out,
// decode errors, dropped messages, why it ended) to whoever counts it — a server's metrics, a
// user's own statistics. Counting costs no lock, no allocation and no system call per message:
// the counters have one writer (the connection's executor) and are read with relaxed loads.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "coronet/event_counter.hpp"

namespace coronet {

/// Why a connection ended, as far as the library can tell. A server reports it for each
/// session; framed_connection::close_reason() gives the connection's own part of it.
enum class close_reason : std::uint8_t {
  none,            ///< Still open, or closed without a known cause.
  handler_done,    ///< The server's handler returned (e.g. after an "exit" line).
  peer_closed,     ///< The peer ended the stream cleanly (end of stream).
  truncated,       ///< The peer closed TCP without TLS's close_notify (its last bytes may be cut).
  reset,           ///< A socket error: the peer reset the connection, a broken pipe, ...
  idle_timeout,    ///< Nothing was received for connection_options::idle_timeout.
  read_timeout,    ///< A message took longer than connection_options::read_timeout.
  write_timeout,   ///< The peer accepted no bytes for connection_options::write_timeout.
  slow_consumer,   ///< The send queue overflowed with send_queue_policy::disconnect.
  protocol_error,  ///< The codec lost the framing (an error it cannot recover from).
  handler_error,   ///< The server's handler threw.
  server_stop,     ///< The server stopped (stop() or its destruction).
};

/// The name of a reason as metrics and logs spell it ("peer_closed", "idle_timeout", ...).
std::string_view to_string(close_reason reason) noexcept;

/// Decode errors of the connections attached to one observer, counted by kind (the error code:
/// its category and value). Kinds get a slot when they first occur; a handful of kinds exist
/// per codec, so max_kinds slots are plenty and kinds past them are counted in overflow().
/// One writer (like event_counter); any thread may read.
class decode_error_counts {
 public:
  /// Slots for distinct kinds.
  static constexpr std::size_t max_kinds = 8;

  /// Counts one error of `error`'s kind (called by the observer's writer only).
  void add(std::error_code error) noexcept;

  /// Calls `visit(error_code kind, count)` for every kind counted so far.
  template <typename Visit>
  void for_each(Visit&& visit) const {
    for (const slot& entry : slots_) {
      const std::error_category* category = entry.category.load(std::memory_order_acquire);
      if (category == nullptr) break;
      visit(std::error_code{entry.value.load(std::memory_order_relaxed), *category},
            entry.count.value());
    }
  }
  /// Errors of kinds that found no free slot.
  std::uint64_t overflow() const noexcept { return overflow_.value(); }

 private:
  struct slot {
    // Published last (release): a reader that sees the category sees the value.
    std::atomic<const std::error_category*> category{nullptr};
    std::atomic<int> value{0};
    event_counter count;
  };
  std::array<slot, max_kinds> slots_{};
  event_counter overflow_;
};

/// The name of a decode error's kind as metrics spell it: coronet's own errors by their
/// enumerator ("invalid_utf8", "frame_too_long", ...), a codec's own category as
/// "<category name>_<value>" in lower case with other characters replaced by '_'.
std::string decode_error_kind(std::error_code error);

/// Receives the events of the connections attached to it (framed_connection::set_observer; a
/// server attaches its own observer to every connection it serves). The counters are the hot
/// path; the virtual functions are called for rare events only.
///
/// One writer: every connection attached to one observer must run on the same executor (one
/// thread or strand). Servers on several threads each get their own observer; sum their values.
class connection_observer {
 public:
  connection_observer() = default;
  connection_observer(const connection_observer&) = delete;
  connection_observer& operator=(const connection_observer&) = delete;
  virtual ~connection_observer() = default;

  /// Bytes read from the stream (for an encrypted stream: the plaintext).
  event_counter bytes_received;
  /// Bytes the stream accepted for sending.
  event_counter bytes_sent;
  /// Messages decoded and returned by read().
  event_counter messages_received;
  /// Messages queued for sending (write(), try_write(); refusals and error replies included).
  event_counter messages_sent;
  /// Messages that failed to decode, by kind (counted before on_decode_error is called).
  decode_error_counts decode_errors;
  /// Messages write() did not queue for lack of room (counted before on_send_queue_drop).
  event_counter send_queue_dropped;

  /// What a connection calls when a message fails to decode: counts it, then on_decode_error.
  void report_decode_error(std::error_code error, bool recoverable) {
    decode_errors.add(error);
    on_decode_error(error, recoverable);
  }
  /// What a connection calls when it drops a message: counts it, then on_send_queue_drop.
  void report_send_queue_drop() {
    send_queue_dropped.add(1);
    on_send_queue_drop();
  }

  /// A message failed to decode: `error` is the codec's error (any category), `recoverable`
  /// whether reading went on.
  virtual void on_decode_error(std::error_code error, bool recoverable) {
    static_cast<void>(error);
    static_cast<void>(recoverable);
  }
  /// write() did not queue a message because the send queue was full (send_queue_policy::drop,
  /// or try_write() with send_queue_policy::wait).
  virtual void on_send_queue_drop() {}
};

}  // namespace coronet
