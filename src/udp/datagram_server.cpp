// The non-template part of basic_datagram_server: telling ICMP reports from socket faults.
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>

#include <asio/error.hpp>

#include "coronet/udp/datagram_server.hpp"

namespace coronet::detail {

bool is_icmp_report(const std::error_code& error) noexcept {
  return error == asio::error::connection_refused || error == asio::error::connection_reset ||
         error == asio::error::host_unreachable || error == asio::error::network_unreachable;
}

}  // namespace coronet::detail
