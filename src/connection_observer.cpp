// Names of close reasons, as metrics and logs spell them.
#include "coronet/connection_observer.hpp"

namespace coronet {

std::string_view to_string(close_reason reason) noexcept {
  switch (reason) {
    case close_reason::none:
      return "none";
    case close_reason::handler_done:
      return "handler_done";
    case close_reason::peer_closed:
      return "peer_closed";
    case close_reason::truncated:
      return "truncated";
    case close_reason::reset:
      return "reset";
    case close_reason::idle_timeout:
      return "idle_timeout";
    case close_reason::read_timeout:
      return "read_timeout";
    case close_reason::write_timeout:
      return "write_timeout";
    case close_reason::slow_consumer:
      return "slow_consumer";
    case close_reason::protocol_error:
      return "protocol_error";
    case close_reason::handler_error:
      return "handler_error";
    case close_reason::server_stop:
      return "server_stop";
  }
  return "unknown";
}

}  // namespace coronet
