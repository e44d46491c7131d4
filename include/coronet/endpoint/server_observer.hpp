// What a stream server reports to whoever counts it (metrics, a user's statistics): its
// sessions starting and ending (with why), refusals, failed handshakes — plus, as a
// connection_observer, the traffic of every connection it serves.
#pragma once

#include <system_error>

#include "coronet/connection_observer.hpp"

namespace coronet {

/// Receives a server's events; set it in server_options::observer. Called on the server's
/// executor (one writer for the counters, see connection_observer).
class server_observer : public connection_observer {
 public:
  /// A connection got a session: its handler starts now.
  virtual void on_session_start() {}
  /// A session ended (its handler returned or threw, or the server stopped it), for `reason`.
  virtual void on_session_end(close_reason reason) { static_cast<void>(reason); }
  /// A connection was refused: max_connections sessions (and handshakes) were open.
  virtual void on_refused() {}
  /// The transport's handshake (server_options::handshake_timeout) failed with `error`, or ran
  /// out of time (`timed_out`); the connection was closed without a session.
  virtual void on_handshake_failed(std::error_code error, bool timed_out) {
    static_cast<void>(error);
    static_cast<void>(timed_out);
  }
};

}  // namespace coronet
