// resp_value: one Redis (RESP2/RESP3) value — a reply, a push message or a command — owned, so
// that it outlives the buffer it was decoded from. Aggregates hold their elements in a vector.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coronet {

/// The RESP types, named after their wire prefix (RESP3 types after the RESP2 ones).
enum class resp_type : std::uint8_t {
  simple_string,     ///< '+' OK
  error,             ///< '-' ERR message
  integer,           ///< ':' 42
  bulk_string,       ///< '$' binary-safe string
  null_bulk_string,  ///< '$-1' (RESP2 null)
  array,             ///< '*' elements
  null_array,        ///< '*-1' (RESP2 null)
  null,              ///< '_' (RESP3 null)
  boolean,           ///< '#t' / '#f' (integer holds 1 or 0)
  double_number,     ///< ',' 1.5 (text holds the digits as sent; as_double() parses them)
  big_number,        ///< '(' digits beyond 64 bits (text holds them)
  bulk_error,        ///< '!' binary-safe error
  verbatim_string,   ///< '=' text holds "fmt:payload" (fmt is three bytes, e.g. "txt")
  map,               ///< '%' elements hold key, value, key, value, ...
  set,               ///< '~' elements
  push,              ///< '>' out-of-band data (pub/sub messages under RESP3)
};

/// The name of a RESP type ("bulk_string", ...), for messages and logs.
std::string_view to_string(resp_type type) noexcept;

/// One RESP value. Which fields mean something depends on `type`: `text` for the string-like
/// types, errors, doubles and big numbers; `integer` for integers and booleans; `elements` for
/// the aggregates.
struct resp_value {
  resp_type type = resp_type::null;
  std::int64_t integer = 0;
  std::string text;
  std::vector<resp_value> elements;

  /// A simple string ("+OK").
  static resp_value simple(std::string text);
  /// An error ("-ERR ...").
  static resp_value error_value(std::string text);
  /// An integer.
  static resp_value number(std::int64_t value);
  /// A bulk string (binary-safe).
  static resp_value bulk(std::string text);
  /// An aggregate of the given type (array, set, push or map).
  static resp_value aggregate(resp_type type, std::vector<resp_value> elements);
  /// A command: an array of bulk strings, the form Redis expects requests in.
  static resp_value command(std::initializer_list<std::string_view> arguments);
  /// A command from any list of arguments.
  static resp_value command(const std::vector<std::string>& arguments);

  /// True for the three nulls (RESP2 null bulk string and null array, RESP3 null).
  bool is_null() const noexcept;
  /// True for the two error types.
  bool is_error() const noexcept {
    return type == resp_type::error || type == resp_type::bulk_error;
  }
  /// True for the types whose content is `text` as a string (simple, bulk, verbatim).
  bool is_string() const noexcept;
  /// True for array, set, push and map.
  bool is_aggregate() const noexcept;
  /// The double a double_number holds (nullopt for other types).
  std::optional<double> as_double() const noexcept;

  friend bool operator==(const resp_value&, const resp_value&) = default;
};

/// A readable rendering: bulk("k"), array[simple("OK"), integer(1)], ... (bytes that are not
/// printable ASCII as \xNN; long strings cut).
std::string describe(const resp_value& value);

/// Writes describe(value).
std::ostream& operator<<(std::ostream& out, const resp_value& value);

}  // namespace coronet
