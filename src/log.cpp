// The default log hook.
#include "coronet/log.hpp"

#include <cstdio>
#include <stdexcept>

#include "coronet/detail/describe_exception.hpp"

namespace coronet {

std::string_view to_string(log_level level) noexcept {
  switch (level) {
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warning:
      return "warning";
    case log_level::error:
      return "error";
  }
  return "unknown";
}

namespace detail {

std::string describe_exception(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& error) {
    return error.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace detail

void log_to_stderr(log_level level, std::string_view message) {
  if (level < log_level::warning) return;
  const std::string_view name = to_string(level);
  std::fprintf(stderr, "coronet: %.*s: %.*s\n", static_cast<int>(name.size()), name.data(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace coronet
