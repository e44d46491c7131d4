// redis_command: a command for Redis, an array of bulk strings, written the way it reads:
// `client.command({"SET", key, value})`.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coronet/codec/resp_value.hpp"

namespace coronet::redis {

/// A Redis command. Built from string-like arguments (`{"SET", key, value}`), a vector of
/// arguments, or any resp_value. The argument list is a constructor template rather than a
/// std::initializer_list because g++ 12 rejects a braced list that becomes an initializer_list
/// inside a coroutine ("array used as initializer"), and commands are issued from coroutines.
class redis_command {
 public:
  /// A command from its arguments, each convertible to std::string_view.
  template <typename... Arguments>
  requires(sizeof...(Arguments) > 0 &&
           (std::convertible_to<const Arguments&, std::string_view> && ...))
      redis_command(const Arguments&... arguments) {  // NOLINT: implicit, for braced lists
    value_.type = resp_type::array;
    value_.elements.reserve(sizeof...(Arguments));
    (value_.elements.push_back(resp_value::bulk(std::string{std::string_view{arguments}})), ...);
  }
  /// A command from a list of arguments.
  redis_command(const std::vector<std::string>& arguments)  // NOLINT: implicit on purpose
      : value_{resp_value::command(arguments)} {}
  /// Any value, sent as it is.
  redis_command(resp_value value) : value_{std::move(value)} {}  // NOLINT: implicit on purpose

  /// The value that is sent.
  const resp_value& value() const noexcept { return value_; }

 private:
  resp_value value_;
};

}  // namespace coronet::redis
