// The non-template parts of basic_server.
#include "coronet/endpoint/server.hpp"

namespace coronet::detail {

std::string server_full_reason(std::size_t max_connections) {
  return "server full (" + std::to_string(max_connections) +
         (max_connections == 1 ? " connection)" : " connections)");
}

}  // namespace coronet::detail
