// The non-template parts of the HTTP server: HTTP's default server options, the responses it
// writes itself (errors, 404, 405, 500) and the fields every response gets (Date, keep-alive).
#include <chrono>
#include <ctime>
#include <string>

#include "coronet/http/detail/http_session.hpp"
#include "coronet/http/http_server_options.hpp"

namespace coronet {

server_options http_default_server_options() {
  server_options options;
  options.connection.idle_timeout = std::chrono::seconds{15};
  options.connection.read_timeout = std::chrono::seconds{10};
  // Every request error is fatal; report them to the session, which answers with the status.
  options.connection.decode_errors = decode_error_policy::report;
  return options;
}

namespace detail {
namespace {

http_response plain_text(int status, std::string text) {
  return http_response::with_body(status, std::move(text) + "\n");
}

// IMF-fixdate (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::time_t now) {
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[40];
  const std::size_t size = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return std::string{text, size};
}

}  // namespace

http_response http_error_response(int status, std::error_code error, std::string_view reason) {
  std::string text = std::to_string(status) + " " + std::string{http_reason_phrase(status)} + ": " +
                     error.message();
  if (!reason.empty()) text.append(" (").append(reason).append(")");
  http_response response = plain_text(status, std::move(text));
  response.close = true;
  response.headers.add("Date", http_date(std::time(nullptr)));
  return response;
}

http_response http_status_response(int status, std::string allow) {
  http_response response =
      plain_text(status, std::to_string(status) + " " + std::string{http_reason_phrase(status)});
  if (!allow.empty()) response.headers.add("Allow", std::move(allow));
  return response;
}

void finish_http_response(http_response& response, const http_request& request, bool last) {
  response.close = last;
  if (!response.headers.find("Date")) response.headers.add("Date", http_date(std::time(nullptr)));
  if (!last && request.version_minor == 0) response.headers.add("Connection", "keep-alive");
}

}  // namespace detail
}  // namespace coronet
