// HTTP messages: case-insensitive field lookup, the parts of a target, keep-alive, reason phrases.
#include "coronet/codec/http_message.hpp"

#include <utility>

namespace coronet {
namespace {

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

void http_headers::add(std::string name, std::string value) {
  fields_.push_back({std::move(name), std::move(value)});
}

std::optional<std::string_view> http_headers::find(std::string_view name) const noexcept {
  for (const http_field& field : fields_) {
    if (equals_ignoring_case(field.name, name)) return std::string_view{field.value};
  }
  return std::nullopt;
}

std::size_t http_headers::count(std::string_view name) const noexcept {
  std::size_t found = 0;
  for (const http_field& field : fields_) {
    if (equals_ignoring_case(field.name, name)) ++found;
  }
  return found;
}

bool http_headers::has_token(std::string_view name, std::string_view token) const noexcept {
  for (const http_field& field : fields_) {
    if (!equals_ignoring_case(field.name, name)) continue;
    std::string_view list = field.value;
    while (!list.empty()) {
      const std::size_t comma = list.find(',');
      const std::string_view element = trim(list.substr(0, comma));
      if (equals_ignoring_case(element, token)) return true;
      list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    }
  }
  return false;
}

std::string_view http_request::path() const noexcept {
  const std::string_view whole = target;
  return whole.substr(0, whole.find_first_of("?#"));
}

std::string_view http_request::query() const noexcept {
  const std::string_view whole = target;
  const std::size_t mark = whole.find('?');
  if (mark == std::string_view::npos) return {};
  const std::string_view rest = whole.substr(mark + 1);
  return rest.substr(0, rest.find('#'));
}

bool http_request::keep_alive() const noexcept {
  if (headers.has_token("Connection", "close")) return false;
  return version_minor >= 1 || headers.has_token("Connection", "keep-alive");
}

std::ostream& operator<<(std::ostream& out, const http_request& request) {
  return out << request.method << ' ' << request.target << " HTTP/1." << request.version_minor
             << " (" << request.headers.size() << " fields, " << request.body.size()
             << " body bytes)";
}

http_response http_response::with_body(int status, std::string body, std::string content_type) {
  http_response response;
  response.status = status;
  response.headers.add("Content-Type", std::move(content_type));
  response.body = std::move(body);
  return response;
}

std::string_view http_reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

}  // namespace coronet
