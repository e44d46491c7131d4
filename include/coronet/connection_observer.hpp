// The observer seam: what a connection reports about itself (bytes and messages in and out,
// decode errors, dropped messages, why it ended) to whoever counts it — a server's metrics, a
// user's own statistics. Counting costs no lock, no allocation and no system call per message:
// the counters have one writer (the connection's executor) and are read with relaxed loads.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>
#include <system_error>

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
