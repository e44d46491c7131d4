// Turns a handler's exception into the text a log line shows.
#pragma once

#include <exception>
#include <string>

namespace coronet::detail {

/// what() of the exception, or "unknown exception" for anything not derived from std::exception.
std::string describe_exception(const std::exception_ptr& failure);

}  // namespace coronet::detail
