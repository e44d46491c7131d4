// HTTP/1.1 messages as the HTTP request codec sees them: a request it decodes (method, target,
// version, header fields, body) and a response it encodes. Both own their bytes, so a request
// can be kept past the next read (an Upgrade handler hands it to the protocol it switches to).
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace coronet {

/// One header field: its name as received (compared case-insensitively) and its value without
/// leading or trailing whitespace.
struct http_field {
  std::string name;
  std::string value;

  friend bool operator==(const http_field&, const http_field&) = default;
};

/// Header fields in the order received. Lookups ignore the case of names (RFC 9110 5.1).
class http_headers {
 public:
  /// Appends a field (no check: the codec validates what it decodes and what it encodes).
  void add(std::string name, std::string value);

  /// The value of the first field named `name`, or nothing.
  std::optional<std::string_view> find(std::string_view name) const noexcept;

  /// How many fields are named `name`.
  std::size_t count(std::string_view name) const noexcept;

  /// Whether any field named `name` lists `token` among its comma-separated elements, ignoring
  /// case and whitespace: `has_token("Connection", "upgrade")` matches "keep-alive, Upgrade".
  bool has_token(std::string_view name, std::string_view token) const noexcept;

  const std::vector<http_field>& fields() const noexcept { return fields_; }
  std::size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }

  friend bool operator==(const http_headers&, const http_headers&) = default;

 private:
  std::vector<http_field> fields_;
};

/// Whether `a` and `b` are equal ignoring ASCII case (how HTTP compares names and tokens).
bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept;

/// A decoded HTTP/1.x request.
struct http_request {
  std::string method;     ///< "GET", "HEAD", ... (case-sensitive, RFC 9110 9.1).
  std::string target;     ///< The request-target as sent: "/metrics?x=1", "*", an absolute URI.
  int version_minor = 1;  ///< 1 for HTTP/1.1, 0 for HTTP/1.0 (the major version is always 1).
  http_headers headers;   ///< The header fields, in order.
  std::string body;       ///< The body (Content-Length bytes; empty without one).

  /// The target's path: up to '?' or '#' (an absolute-form target is returned whole).
  std::string_view path() const noexcept;
  /// The target's query, after '?' (without it); empty if there is none.
  std::string_view query() const noexcept;
  /// Whether the client lets the connection stay open after the response: HTTP/1.1 unless it
  /// sent "Connection: close", HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive() const noexcept;

  friend bool operator==(const http_request&, const http_request&) = default;
};

/// "GET /path HTTP/1.1 (3 fields, 0 body bytes)": how test failures show a request.
std::ostream& operator<<(std::ostream& out, const http_request& request);

/// An HTTP/1.1 response to encode. The codec writes the status line, these fields,
/// Content-Length (always, except where RFC 9110 forbids it: 1xx, 204 and 304, which must have
/// no body) and "Connection: close" when `close` is set; fields that frame the message
/// (Content-Length, Transfer-Encoding) are the codec's and refused here.
struct http_response {
  int status = 200;      ///< 100..599.
  std::string reason;    ///< Reason phrase; empty means the standard one ("Not Found").
  http_headers headers;  ///< Fields to send (Content-Type, ...).
  std::string body;      ///< The body.
  /// Send "Connection: close": the server closes the connection after this response.
  bool close = false;
  /// A response to HEAD: Content-Length says the body's size, the body itself is not sent.
  bool omit_body = false;

  /// A response with `body` and a Content-Type field.
  static http_response with_body(int status, std::string body,
                                 std::string content_type = "text/plain; charset=utf-8");
};

/// The standard reason phrase of `status` ("OK", "Not Found"), or "Unknown".
std::string_view http_reason_phrase(int status) noexcept;

}  // namespace coronet
