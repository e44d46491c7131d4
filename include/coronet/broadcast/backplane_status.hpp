// What a backplane says about its link to the broker: connected, lost (and why), still not
// reachable, or failed for good (authentication); and the log line for each.
#pragma once

#include <string>

namespace coronet::broadcast {

/// The state a backplane reports.
enum class backplane_state {
  connected,    ///< Publisher and subscriber connected, every room subscribed.
  lost,         ///< The link went down; reconnecting (local delivery goes on).
  unreachable,  ///< Not connected yet (since start, or since the loss): still trying.
  failed,       ///< A fatal error (authentication): the backplane gave up.
};

/// One status report.
struct backplane_status {
  backplane_state state = backplane_state::unreachable;
  std::string address;  ///< "HOST:PORT" or "unix:PATH".
  std::string reason;   ///< Why (lost, unreachable, failed); empty when connected.

  /// The log line: "backplane: connected to ADDRESS", "backplane: lost ADDRESS (reason)",
  /// "backplane: cannot reach ADDRESS (reason), retrying",
  /// "backplane: error: ADDRESS: reason".
  std::string line() const;
};

}  // namespace coronet::broadcast
