// resp_codec: an incremental RESP parser (the partly built value survives between calls, so
// bytes are looked at once however the stream is split) and the encoder, plus the "resp" error
// category.
#include "coronet/codec/resp_codec.hpp"

#include <charconv>
#include <limits>
#include <string>
#include <utility>

namespace coronet {
namespace {

using result = decode_result<resp_value>;

// Header lines (lengths, counts, integers, booleans, null) are short: an int64 and its sign.
constexpr std::size_t max_header_line = 32;

class resp_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "resp"; }

  std::string message(int value) const override {
    switch (static_cast<resp_errc>(value)) {
      case resp_errc::unknown_type:
        return "RESP: unknown type byte";
      case resp_errc::missing_crlf:
        return "RESP: missing CRLF";
      case resp_errc::bad_length:
        return "RESP: malformed length";
      case resp_errc::bad_scalar:
        return "RESP: malformed value";
      case resp_errc::bulk_too_long:
        return "RESP: string longer than max_bulk_length";
      case resp_errc::too_deep:
        return "RESP: nesting deeper than max_depth";
      case resp_errc::too_many_elements:
        return "RESP: more than max_elements values";
      case resp_errc::message_too_long:
        return "RESP: message longer than max_message_size";
      case resp_errc::truncated:
        return "RESP: stream ended inside a value";
      case resp_errc::unencodable:
        return "RESP: value cannot be encoded";
    }
    return "RESP: unknown error " + std::to_string(value);
  }
};

bool parse_int64(std::string_view text, std::int64_t& value) noexcept {
  if (text.empty() || text.front() == '+') return false;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  return error == std::errc{} && stop == end;
}

bool valid_double(std::string_view text) noexcept {
  if (text.empty() || text.front() == '+') return false;
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  // Out of range ("1e999") is still a well-formed double: from_chars reports it as such.
  return (error == std::errc{} || error == std::errc::result_out_of_range) && stop == end;
}

bool valid_big_number(std::string_view text) noexcept {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  if (text.empty()) return false;
  for (const char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

bool has_line_break(std::string_view text) noexcept {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

bool valid_verbatim(std::string_view text) noexcept {
  return text.size() >= 4 && text[3] == ':';
}

std::size_t saturating_add(std::size_t a, std::size_t b) noexcept {
  return a > std::numeric_limits<std::size_t>::max() - b ? std::numeric_limits<std::size_t>::max()
                                                         : a + b;
}

bool is_line_type(char type) noexcept {
  return type == '+' || type == '-' || type == ',' || type == '(';
}

void append_line(std::string& out, char type, std::string_view text) {
  out.push_back(type);
  out.append(text);
  out.append("\r\n");
}

void append_header(std::string& out, char type, std::int64_t value) {
  out.push_back(type);
  out.append(std::to_string(value));
  out.append("\r\n");
}

}  // namespace

const std::error_category& resp_category() noexcept {
  static const resp_error_category category;
  return category;
}

std::error_code make_error_code(resp_errc e) noexcept {
  return {static_cast<int>(e), resp_category()};
}

void resp_codec::reset() noexcept {
  parsed_ = 0;
  line_scanned_ = 0;
  values_ = 0;
  open_.clear();
  failure_ = {};
  failure_reason_ = {};
}

result resp_codec::decode(std::string_view buffered) {
  while (!failure_) {
    resp_value done;
    const step outcome = parse_one(buffered, done);
    if (outcome == step::need_more) return result::need_more();
    if (outcome == step::failed) break;
    if (outcome == step::value_done && attach(done)) {
      const std::size_t consumed = parsed_;
      parsed_ = 0;
      line_scanned_ = 0;
      values_ = 0;
      return result::complete(std::move(done), consumed);
    }
  }
  return result::failure(failure_, failure_reason_, buffered.size(), false);
}

result resp_codec::decode_eof(std::string_view buffered) {
  result decoded = decode(buffered);
  if (!decoded.needs_more() || buffered.empty()) return decoded;
  fail(resp_errc::truncated, "stream ended inside a value");
  return result::failure(failure_, failure_reason_, buffered.size(), false);
}

resp_codec::step resp_codec::fail(resp_errc error, std::string_view reason) {
  failure_ = make_error_code(error);
  failure_reason_ = reason;
  return step::failed;
}

bool resp_codec::attach(resp_value& value) {
  while (!open_.empty()) {
    open_aggregate& innermost = open_.back();
    innermost.value.elements.push_back(std::move(value));
    if (--innermost.missing > 0) return false;
    const bool dropped = innermost.attribute;
    value = std::move(innermost.value);
    open_.pop_back();
    // An attribute annotates the value after it and is not one of its parent's elements.
    if (dropped) return false;
  }
  return true;
}

// Parses the value that starts at parsed_: a scalar (value_done, in `done`), the header of an
// aggregate (aggregate_opened, pushed on open_), or nothing yet.
resp_codec::step resp_codec::parse_one(std::string_view buffered, resp_value& done) {
  const std::size_t start = parsed_;
  if (start >= buffered.size()) return step::need_more;
  const char type = buffered[start];
  if (std::string_view{"+-:$*_#,(!=%~>|"}.find(type) == std::string_view::npos) {
    return fail(resp_errc::unknown_type, "a value starts with a byte that is no RESP type");
  }
  const std::size_t line_limit = is_line_type(type) ? options_.max_bulk_length : max_header_line;

  // Find the line's CRLF, resuming where the last call stopped. The scan stops where the CR
  // could last be (the line's limit, the message's), so that whichever error applies does not
  // depend on how much input has arrived.
  const std::size_t message_cr_limit =
      options_.max_message_size >= 2 ? options_.max_message_size - 2 : 0;
  const std::size_t line_cr_limit = saturating_add(start + 1, line_limit);
  const bool message_bound = message_cr_limit <= line_cr_limit;
  const std::size_t cr_limit = message_bound ? message_cr_limit : line_cr_limit;
  std::size_t i = std::max(line_scanned_, start + 1);
  bool found = false;
  for (; i < buffered.size() && i <= cr_limit; ++i) {
    if (buffered[i] == '\n') return fail(resp_errc::missing_crlf, "LF without CR in a line");
    if (buffered[i] != '\r') continue;
    if (i + 1 == buffered.size()) break;
    if (buffered[i + 1] != '\n') return fail(resp_errc::missing_crlf, "CR without LF in a line");
    found = true;
    break;
  }
  if (!found && i > cr_limit) {
    if (message_bound) {
      return fail(resp_errc::message_too_long, "message longer than max_message_size");
    }
    return is_line_type(type) ? fail(resp_errc::bulk_too_long, "line longer than max_bulk_length")
                              : fail(resp_errc::bad_length, "header line too long");
  }
  if (!found) {
    line_scanned_ = i;
    return step::need_more;
  }
  const std::size_t line_length = i - start - 1;
  const std::string_view line = buffered.substr(start + 1, line_length);
  const std::size_t next = i + 2;

  auto finish = [&](resp_type value_type) {
    done.type = value_type;
    parsed_ = next;
    line_scanned_ = 0;
    return step::value_done;
  };
  switch (type) {
    case '+':
    case '-':
      done.text.assign(line);
      return finish(type == '+' ? resp_type::simple_string : resp_type::error);
    case ',':
      if (!valid_double(line)) return fail(resp_errc::bad_scalar, "malformed double");
      done.text.assign(line);
      return finish(resp_type::double_number);
    case '(':
      if (!valid_big_number(line)) return fail(resp_errc::bad_scalar, "malformed big number");
      done.text.assign(line);
      return finish(resp_type::big_number);
    case ':':
      if (!parse_int64(line, done.integer)) return fail(resp_errc::bad_scalar, "bad integer");
      return finish(resp_type::integer);
    case '#':
      if (line != "t" && line != "f") return fail(resp_errc::bad_scalar, "boolean not t or f");
      done.integer = line == "t" ? 1 : 0;
      return finish(resp_type::boolean);
    case '_':
      if (!line.empty()) return fail(resp_errc::bad_scalar, "null with content");
      return finish(resp_type::null);
    default:
      break;
  }

  std::int64_t length = 0;
  if (!parse_int64(line, length)) return fail(resp_errc::bad_length, "malformed length");
  if (length == -1 && (type == '$' || type == '*')) {
    return finish(type == '$' ? resp_type::null_bulk_string : resp_type::null_array);
  }
  if (length < 0) return fail(resp_errc::bad_length, "negative length");
  const auto size = static_cast<std::uint64_t>(length);

  if (type == '$' || type == '!' || type == '=') {
    if (size > options_.max_bulk_length) {
      return fail(resp_errc::bulk_too_long, "bulk string longer than max_bulk_length");
    }
    const std::size_t end = next + static_cast<std::size_t>(size) + 2;
    if (end > options_.max_message_size) {
      return fail(resp_errc::message_too_long, "message longer than max_message_size");
    }
    // The header is at most 32 bytes: re-reading it while the payload arrives is O(1).
    line_scanned_ = i;
    if (buffered.size() < end) return step::need_more;
    if (buffered[end - 2] != '\r' || buffered[end - 1] != '\n') {
      return fail(resp_errc::missing_crlf, "bulk payload not followed by CRLF");
    }
    done.text.assign(buffered.substr(next, static_cast<std::size_t>(size)));
    if (type == '=' && !valid_verbatim(done.text)) {
      return fail(resp_errc::bad_scalar, "verbatim string without its format prefix");
    }
    done.type = type == '$'   ? resp_type::bulk_string
                : type == '!' ? resp_type::bulk_error
                              : resp_type::verbatim_string;
    parsed_ = end;
    line_scanned_ = 0;
    return step::value_done;
  }

  // An aggregate: '*' array, '~' set, '>' push, '%' map, '|' attribute (pairs for the last two).
  const bool pairs = type == '%' || type == '|';
  if (size > options_.max_elements || (pairs && size * 2 > options_.max_elements) ||
      values_ + size * (pairs ? 2 : 1) > options_.max_elements) {
    return fail(resp_errc::too_many_elements, "more than max_elements values in one message");
  }
  if (open_.size() + 1 > options_.max_depth) {
    return fail(resp_errc::too_deep, "aggregates nested deeper than max_depth");
  }
  const std::size_t elements = static_cast<std::size_t>(size) * (pairs ? 2 : 1);
  values_ += elements;
  parsed_ = next;
  line_scanned_ = 0;
  const resp_type aggregate_type = type == '*'   ? resp_type::array
                                   : type == '~' ? resp_type::set
                                   : type == '>' ? resp_type::push
                                                 : resp_type::map;
  if (elements == 0) {
    if (type == '|') return step::aggregate_opened;  // An empty attribute: nothing to keep.
    done.type = aggregate_type;
    return step::value_done;
  }
  open_aggregate opened;
  opened.value.type = aggregate_type;
  opened.missing = elements;
  opened.attribute = type == '|';
  open_.push_back(std::move(opened));
  return step::aggregate_opened;
}

std::error_code resp_codec::encode(const resp_value& value, std::string& out) const {
  const std::size_t size_before = out.size();
  std::size_t count = 0;
  std::error_code error = encode_value(value, 0, count, out);
  if (!error && out.size() - size_before > options_.max_message_size) {
    error = resp_errc::message_too_long;
  }
  if (error) out.resize(size_before);
  return error;
}

std::error_code resp_codec::encode_value(const resp_value& value, std::size_t depth,
                                         std::size_t& count, std::string& out) const {
  switch (value.type) {
    case resp_type::simple_string:
    case resp_type::error:
    case resp_type::double_number:
    case resp_type::big_number: {
      if (value.text.size() > options_.max_bulk_length) return resp_errc::bulk_too_long;
      if (has_line_break(value.text)) return resp_errc::unencodable;
      if (value.type == resp_type::double_number && !valid_double(value.text))
        return resp_errc::unencodable;
      if (value.type == resp_type::big_number && !valid_big_number(value.text))
        return resp_errc::unencodable;
      const char prefix = value.type == resp_type::simple_string   ? '+'
                          : value.type == resp_type::error         ? '-'
                          : value.type == resp_type::double_number ? ','
                                                                   : '(';
      append_line(out, prefix, value.text);
      return {};
    }
    case resp_type::integer:
      append_header(out, ':', value.integer);
      return {};
    case resp_type::boolean:
      if (value.integer != 0 && value.integer != 1) return resp_errc::unencodable;
      out.append(value.integer == 1 ? "#t\r\n" : "#f\r\n");
      return {};
    case resp_type::null:
      out.append("_\r\n");
      return {};
    case resp_type::null_bulk_string:
      out.append("$-1\r\n");
      return {};
    case resp_type::null_array:
      out.append("*-1\r\n");
      return {};
    case resp_type::bulk_string:
    case resp_type::bulk_error:
    case resp_type::verbatim_string: {
      if (value.text.size() > options_.max_bulk_length) return resp_errc::bulk_too_long;
      if (value.type == resp_type::verbatim_string && !valid_verbatim(value.text))
        return resp_errc::unencodable;
      const char prefix = value.type == resp_type::bulk_string  ? '$'
                          : value.type == resp_type::bulk_error ? '!'
                                                                : '=';
      append_header(out, prefix, static_cast<std::int64_t>(value.text.size()));
      out.append(value.text);
      out.append("\r\n");
      return {};
    }
    case resp_type::array:
    case resp_type::set:
    case resp_type::push:
    case resp_type::map: {
      if (depth + 1 > options_.max_depth) return resp_errc::too_deep;
      const std::size_t elements = value.elements.size();
      if (value.type == resp_type::map && elements % 2 != 0) return resp_errc::unencodable;
      count += elements;
      if (count > options_.max_elements) return resp_errc::too_many_elements;
      const char prefix = value.type == resp_type::array  ? '*'
                          : value.type == resp_type::set  ? '~'
                          : value.type == resp_type::push ? '>'
                                                          : '%';
      const std::size_t header = value.type == resp_type::map ? elements / 2 : elements;
      append_header(out, prefix, static_cast<std::int64_t>(header));
      for (const resp_value& element : value.elements) {
        if (const std::error_code error = encode_value(element, depth + 1, count, out))
          return error;
      }
      return {};
    }
  }
  return resp_errc::unencodable;
}

}  // namespace coronet
