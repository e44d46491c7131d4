// Options of a datagram server (UDP or Unix datagram): its endpoint, and the bound on handlers
// running at once. Every limit is on by default.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "coronet/log.hpp"
#include "coronet/udp/datagram_options.hpp"

namespace coronet {

/// What a datagram server does when max_concurrent_handlers are running.
enum class busy_policy {
  /// Stop receiving until a handler finishes. Datagrams wait in the socket's receive buffer
  /// (options.endpoint.socket.receive_buffer_size); what does not fit is dropped by the kernel,
  /// uncounted by us. The default: nothing is dropped while the buffer has room.
  pause_receiving,
  /// Keep receiving and drop what arrives, counted in stats().dropped_busy: the receive buffer
  /// never fills, so the newest datagrams win over the oldest.
  drop,
};

/// Where a datagram server binds, and how many handlers it runs at once.
struct datagram_server_options {
  /// The server's name in its metrics (the label server="NAME"). Default "datagram_server".
  std::string name = "datagram_server";
  /// The server's endpoint: host/port or unix_path, timeouts, socket options. Its
  /// receive_timeout is ignored (the server waits for datagrams as long as it runs).
  datagram_options endpoint;
  /// Handlers running at once: a flood of datagrams never creates more coroutines (or more
  /// owned copies of messages) than this. Default 256.
  std::size_t max_concurrent_handlers = 256;
  /// What happens to datagrams past max_concurrent_handlers. Default pause_receiving.
  busy_policy when_busy = busy_policy::pause_receiving;
  /// stop(): how long running handlers may take to finish (and send their replies) before they
  /// are cancelled and the socket is closed. Default 5 s.
  std::chrono::milliseconds drain_timeout = std::chrono::seconds{5};
  /// Where the server reports what it cannot return: handler exceptions, socket errors (warning
  /// and error), rejected datagrams (debug). Default: warnings and errors to stderr.
  log_hook log = log_to_stderr;
};

}  // namespace coronet
