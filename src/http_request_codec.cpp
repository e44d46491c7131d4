// http_request_codec: a resumable scan of the request head (each byte is checked once, in
// stream order, however the input is split: line endings, limits, the method token, obs-fold),
// then one parse of the complete head and a wait for its Content-Length body.
#include "coronet/codec/http_request_codec.hpp"

#include <charconv>
#include <utility>

namespace coronet {
namespace {

using result = decode_result<http_request>;

// tchar of RFC 9110 5.6.2: what methods and field names are made of.
bool is_token_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (const char c : text) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

// field-value characters (RFC 9110 5.5): visible ASCII, obs-text, SP and HTAB.
bool is_field_value(std::string_view text) noexcept {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 ? byte != '\t' : byte == 0x7F) return false;
  }
  return true;
}

bool is_visible_ascii(std::string_view text) noexcept {
  for (const char c : text) {
    if (c <= 0x20 || c >= 0x7F) return false;
  }
  return true;
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

// A rejected head: which error and why (a static string).
struct head_error {
  http_errc error;
  std::string_view reason;
};

std::optional<head_error> parse_request_line(std::string_view line, http_request& request) {
  const std::size_t first_space = line.find(' ');
  const std::size_t second_space =
      first_space == std::string_view::npos ? first_space : line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos) {
    return head_error{http_errc::bad_request_line, "request line is not method, target, version"};
  }
  const std::string_view method = line.substr(0, first_space);
  const std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
  const std::string_view version = line.substr(second_space + 1);
  if (!is_token(method)) return head_error{http_errc::bad_request_line, "method is not a token"};
  if (target.empty() || !is_visible_ascii(target)) {
    return head_error{http_errc::bad_request_line, "request target empty or not visible ASCII"};
  }
  if (version.size() > 5 && version.substr(0, 5) == "HTTP/" && is_digit(version[5]) &&
      version[5] != '1') {
    return head_error{http_errc::version_not_supported, "not HTTP/1.x"};
  }
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || !is_digit(version[7])) {
    return head_error{http_errc::bad_request_line, "version is not HTTP/1.x"};
  }
  request.method = method;
  request.target = target;
  request.version_minor = version[7] - '0';
  return std::nullopt;
}

std::optional<head_error> parse_field_lines(std::string_view lines, http_headers& headers) {
  while (!lines.empty()) {
    const std::size_t end = lines.find("\r\n");
    const std::string_view line = lines.substr(0, end);
    lines.remove_prefix(end + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return head_error{http_errc::invalid_field, "field line without ':'"};
    }
    const std::string_view name = line.substr(0, colon);
    if (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
      return head_error{http_errc::invalid_field, "whitespace between field name and ':'"};
    }
    if (!is_token(name)) return head_error{http_errc::invalid_field, "field name is not a token"};
    const std::string_view value = trim(line.substr(colon + 1));
    if (!is_field_value(value)) {
      return head_error{http_errc::invalid_field, "control character in a field value"};
    }
    headers.add(std::string{name}, std::string{value});
  }
  return std::nullopt;
}

// The body's length from Content-Length and Transfer-Encoding (RFC 9112 6.3), and Host.
std::optional<head_error> check_framing(const http_request& request, std::size_t max_body_size,
                                        std::size_t& body_size) {
  const std::size_t hosts = request.headers.count("Host");
  if (hosts == 0 && request.version_minor >= 1) {
    return head_error{http_errc::missing_host, "HTTP/1.1 request without Host"};
  }
  if (hosts > 1) return head_error{http_errc::invalid_host, "more than one Host field"};

  std::optional<std::string_view> length;
  std::optional<std::string_view> last_coding;
  for (const http_field& field : request.headers.fields()) {
    if (equals_ignoring_case(field.name, "Content-Length")) {
      const std::string_view value = field.value;
      if (value.empty() || value.find_first_not_of("0123456789") != std::string_view::npos) {
        return head_error{http_errc::invalid_content_length, "Content-Length is not a number"};
      }
      if (length && *length != value) {
        return head_error{http_errc::invalid_content_length, "Content-Length fields differ"};
      }
      length = value;
    } else if (equals_ignoring_case(field.name, "Transfer-Encoding")) {
      std::string_view codings = field.value;
      const std::size_t comma = codings.rfind(',');
      if (comma != std::string_view::npos) codings.remove_prefix(comma + 1);
      last_coding = trim(codings);
    }
  }
  if (last_coding) {
    if (length) {
      return head_error{http_errc::conflicting_framing, "Content-Length with Transfer-Encoding"};
    }
    if (request.version_minor == 0) {
      return head_error{http_errc::conflicting_framing, "Transfer-Encoding in HTTP/1.0"};
    }
    if (!equals_ignoring_case(*last_coding, "chunked")) {
      return head_error{http_errc::conflicting_framing, "final transfer coding is not chunked"};
    }
    return head_error{http_errc::transfer_encoding_not_implemented,
                      "chunked request bodies are not supported: send Content-Length"};
  }
  body_size = 0;
  if (length) {
    const std::string_view digits = *length;
    const auto [end, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), body_size);
    if (error != std::errc{} || end != digits.data() + digits.size() || body_size > max_body_size) {
      return head_error{http_errc::body_too_large, "Content-Length over max_body_size"};
    }
  }
  return std::nullopt;
}

}  // namespace

result http_request_codec::fail(http_errc error, std::string_view reason,
                                std::size_t consumed) noexcept {
  reset();
  return result::failure(make_error_code(error), reason, consumed, false);
}

result http_request_codec::decode(std::string_view buffered) {
  if (state_.parsed) return finish(buffered);
  return scan_head(buffered);
}

result http_request_codec::decode_eof(std::string_view buffered) {
  result decoded = decode(buffered);
  if (!decoded.needs_more() || buffered.empty()) return decoded;
  // Only empty lines since the last request: nothing was cut.
  if (!state_.parsed && state_.request_line_end == 0 &&
      state_.request_line_start == buffered.size()) {
    reset();
    return result::need_more(buffered.size());
  }
  return fail(http_errc::truncated_request, "the stream ended inside a request", buffered.size());
}

result http_request_codec::scan_head(std::string_view buffered) {
  scan_state& s = state_;
  const std::size_t size = buffered.size();
  std::size_t i = s.scanned;
  for (; i < size; ++i) {
    const char c = buffered[i];
    if (c == '\r') {
      if (i + 1 == size) break;  // Its LF may be in the next read.
      if (buffered[i + 1] != '\n') return fail(http_errc::bad_line_ending, "bare CR", size);
      continue;
    }
    if (c == '\n') {
      if (i == 0 || buffered[i - 1] != '\r') {
        return fail(http_errc::bad_line_ending, "bare LF", size);
      }
      const bool empty_line = i - 1 == s.line_start;
      s.line_start = i + 1;
      if (s.request_line_end == 0) {
        if (!empty_line) {
          s.request_line_end = i + 1;
        } else if (i + 1 > options_.max_request_line) {
          return fail(http_errc::request_line_too_long, "empty lines over max_request_line", size);
        } else {
          s.request_line_start = i + 1;  // An empty line before the request line is skipped.
        }
      } else if (empty_line) {
        s.head_size = i + 1;
        s.scanned = i + 1;
        return parse_head(buffered);
      } else if (++s.field_count > options_.max_header_count) {
        return fail(http_errc::header_fields_too_large, "more than max_header_count fields", size);
      }
      continue;
    }
    if (s.request_line_end == 0) {
      if (i + 1 > options_.max_request_line) {
        return fail(http_errc::request_line_too_long, "request line over max_request_line", size);
      }
      if (s.in_method) {
        if (c == ' ' && i > s.request_line_start) {
          s.in_method = false;
        } else if (!is_token_char(c)) {
          return fail(http_errc::bad_request_line, "method is not a token", size);
        }
      }
    } else {
      if (i == s.line_start && (c == ' ' || c == '\t')) {
        return fail(http_errc::obsolete_line_folding, "field line starts with whitespace", size);
      }
      if (i + 1 - s.request_line_end > options_.max_header_bytes) {
        return fail(http_errc::header_fields_too_large, "header over max_header_bytes", size);
      }
    }
  }
  s.scanned = i;
  return result::need_more();
}

result http_request_codec::parse_head(std::string_view buffered) {
  scan_state& s = state_;
  const std::size_t size = buffered.size();
  http_request request;
  const std::string_view request_line =
      buffered.substr(s.request_line_start, s.request_line_end - 2 - s.request_line_start);
  const std::string_view field_lines =
      buffered.substr(s.request_line_end, s.head_size - 2 - s.request_line_end);
  std::optional<head_error> error = parse_request_line(request_line, request);
  if (!error) error = parse_field_lines(field_lines, request.headers);
  std::size_t body_size = 0;
  if (!error) error = check_framing(request, options_.max_body_size, body_size);
  if (error) return fail(error->error, error->reason, size);
  s.body_size = body_size;
  s.parsed = std::move(request);
  return finish(buffered);
}

result http_request_codec::finish(std::string_view buffered) {
  // The head is buffered; compared this way round, a body_size near SIZE_MAX cannot overflow.
  if (buffered.size() - state_.head_size < state_.body_size) return result::need_more();
  const std::size_t total = state_.head_size + state_.body_size;
  http_request request = std::move(*state_.parsed);
  request.body = buffered.substr(state_.head_size, state_.body_size);
  reset();
  return result::complete(std::move(request), total);
}

std::error_code http_request_codec::encode(const http_response& response, std::string& out) const {
  const int status = response.status;
  if (status < 100 || status > 599) return http_errc::invalid_response;
  const std::string_view reason =
      response.reason.empty() ? http_reason_phrase(status) : std::string_view{response.reason};
  if (!is_field_value(reason)) return http_errc::invalid_response;
  // RFC 9110 8.6, 15.3.5, 15.4.5: no Content-Length and no body on 1xx, 204 and 304.
  const bool without_content = status < 200 || status == 204 || status == 304;
  if (without_content && !response.body.empty()) return http_errc::invalid_response;
  for (const http_field& field : response.headers.fields()) {
    if (!is_token(field.name) || !is_field_value(field.value) || field.value != trim(field.value) ||
        equals_ignoring_case(field.name, "Content-Length") ||
        equals_ignoring_case(field.name, "Transfer-Encoding")) {
      return http_errc::invalid_response;
    }
  }
  char code[4] = {static_cast<char>('0' + status / 100), static_cast<char>('0' + status / 10 % 10),
                  static_cast<char>('0' + status % 10), ' '};
  out.append("HTTP/1.1 ").append(code, 4).append(reason).append("\r\n");
  for (const http_field& field : response.headers.fields()) {
    out.append(field.name).append(": ").append(field.value).append("\r\n");
  }
  if (!without_content) {
    out.append("Content-Length: ").append(std::to_string(response.body.size())).append("\r\n");
  }
  if (response.close && !response.headers.has_token("Connection", "close")) {
    out.append("Connection: close\r\n");
  }
  out.append("\r\n");
  if (!response.omit_body) out.append(response.body);
  return {};
}

http_response http_request_codec::refusal(std::string_view text) const {
  http_response response = http_response::with_body(503, std::string{text} + "\n");
  response.close = true;
  return response;
}

}  // namespace coronet
