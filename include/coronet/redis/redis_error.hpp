// The Redis client's own error codes (category "redis"): what went wrong between coronet and a
// Redis server beyond the transport (timeouts and closed connections are coronet::errc).
#pragma once

#include <system_error>

namespace coronet::redis {

/// Errors of the Redis client. Values start at 1 so that 0 keeps meaning "no error".
enum class redis_errc {
  authentication_failed = 1,  ///< AUTH was refused (wrong user or password).
  error_reply,                ///< The server answered a setup or subscribe command with an error.
  unexpected_reply,           ///< A reply nobody asked for, or of the wrong shape.
  too_many_pending,           ///< max_pending commands are already waiting for replies.
  bad_address,                ///< An address that is neither HOST:PORT nor unix:PATH.
  password_file,              ///< The password file cannot be read.
};

/// The category of every redis_errc value; its name() is "redis".
const std::error_category& redis_category() noexcept;

/// Makes an error_code in the redis category (found by ADL).
std::error_code make_error_code(redis_errc e) noexcept;

}  // namespace coronet::redis

template <>
struct std::is_error_code_enum<coronet::redis::redis_errc> : std::true_type {};
