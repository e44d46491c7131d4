// resp_value: constructors for the common values, classification and a readable rendering.
#include "coronet/codec/resp_value.hpp"

#include <charconv>
#include <ostream>
#include <utility>

#include "coronet/detail/printable_bytes.hpp"

namespace coronet {
namespace {

void describe_into(std::string& out, const resp_value& value) {
  out.append(to_string(value.type));
  switch (value.type) {
    case resp_type::integer:
    case resp_type::boolean:
      out += "(" + std::to_string(value.integer) + ")";
      return;
    case resp_type::null:
    case resp_type::null_bulk_string:
    case resp_type::null_array:
      return;
    case resp_type::array:
    case resp_type::set:
    case resp_type::push:
    case resp_type::map:
      out.push_back('[');
      for (std::size_t i = 0; i < value.elements.size(); ++i) {
        if (i > 0) out.append(", ");
        if (i == 16) {
          out += "... " + std::to_string(value.elements.size()) + " elements";
          break;
        }
        describe_into(out, value.elements[i]);
      }
      out.push_back(']');
      return;
    default:
      out.push_back('(');
      detail::append_printable(out, value.text, 60);
      out.push_back(')');
      return;
  }
}

}  // namespace

std::string_view to_string(resp_type type) noexcept {
  switch (type) {
    case resp_type::simple_string:
      return "simple_string";
    case resp_type::error:
      return "error";
    case resp_type::integer:
      return "integer";
    case resp_type::bulk_string:
      return "bulk_string";
    case resp_type::null_bulk_string:
      return "null_bulk_string";
    case resp_type::array:
      return "array";
    case resp_type::null_array:
      return "null_array";
    case resp_type::null:
      return "null";
    case resp_type::boolean:
      return "boolean";
    case resp_type::double_number:
      return "double";
    case resp_type::big_number:
      return "big_number";
    case resp_type::bulk_error:
      return "bulk_error";
    case resp_type::verbatim_string:
      return "verbatim_string";
    case resp_type::map:
      return "map";
    case resp_type::set:
      return "set";
    case resp_type::push:
      return "push";
  }
  return "unknown";
}

resp_value resp_value::simple(std::string text) {
  resp_value value;
  value.type = resp_type::simple_string;
  value.text = std::move(text);
  return value;
}

resp_value resp_value::error_value(std::string text) {
  resp_value value;
  value.type = resp_type::error;
  value.text = std::move(text);
  return value;
}

resp_value resp_value::number(std::int64_t number) {
  resp_value value;
  value.type = resp_type::integer;
  value.integer = number;
  return value;
}

resp_value resp_value::bulk(std::string text) {
  resp_value value;
  value.type = resp_type::bulk_string;
  value.text = std::move(text);
  return value;
}

resp_value resp_value::aggregate(resp_type type, std::vector<resp_value> elements) {
  resp_value value;
  value.type = type;
  value.elements = std::move(elements);
  return value;
}

resp_value resp_value::command(std::initializer_list<std::string_view> arguments) {
  resp_value value;
  value.type = resp_type::array;
  value.elements.reserve(arguments.size());
  for (const std::string_view argument : arguments)
    value.elements.push_back(bulk(std::string{argument}));
  return value;
}

resp_value resp_value::command(const std::vector<std::string>& arguments) {
  resp_value value;
  value.type = resp_type::array;
  value.elements.reserve(arguments.size());
  for (const std::string& argument : arguments)
    value.elements.push_back(bulk(argument));
  return value;
}

bool resp_value::is_null() const noexcept {
  return type == resp_type::null || type == resp_type::null_bulk_string ||
         type == resp_type::null_array;
}

bool resp_value::is_string() const noexcept {
  return type == resp_type::simple_string || type == resp_type::bulk_string ||
         type == resp_type::verbatim_string;
}

bool resp_value::is_aggregate() const noexcept {
  return type == resp_type::array || type == resp_type::set || type == resp_type::push ||
         type == resp_type::map;
}

std::optional<double> resp_value::as_double() const noexcept {
  if (type != resp_type::double_number) return std::nullopt;
  double parsed = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, parsed);
  if (stop != end || (error != std::errc{} && error != std::errc::result_out_of_range))
    return std::nullopt;
  return parsed;
}

std::string describe(const resp_value& value) {
  std::string out;
  describe_into(out, value);
  return out;
}

std::ostream& operator<<(std::ostream& out, const resp_value& value) {
  return out << describe(value);
}

}  // namespace coronet
