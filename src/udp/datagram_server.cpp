// The non-template part of basic_datagram_server: describing a handler's failure.
#include <exception>
#include <stdexcept>
#include <string>

#include "coronet/udp/datagram_server.hpp"

namespace coronet::detail {

std::string describe_handler_failure(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& error) {
    return error.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace coronet::detail
