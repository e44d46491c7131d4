// The "coronet.http" error category and the status each error answers with.
#include "coronet/codec/http_error.hpp"

namespace coronet {
namespace {

class http_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "coronet.http"; }

  std::string message(int value) const override {
    switch (static_cast<http_errc>(value)) {
      case http_errc::bad_request_line:
        return "malformed request line";
      case http_errc::bad_line_ending:
        return "line not ended by CRLF";
      case http_errc::invalid_field:
        return "invalid header field";
      case http_errc::obsolete_line_folding:
        return "obsolete line folding in a header field";
      case http_errc::missing_host:
        return "HTTP/1.1 request without Host";
      case http_errc::invalid_host:
        return "more than one Host field";
      case http_errc::invalid_content_length:
        return "invalid Content-Length";
      case http_errc::conflicting_framing:
        return "conflicting message framing";
      case http_errc::truncated_request:
        return "stream ended inside a request";
      case http_errc::request_line_too_long:
        return "request line too long";
      case http_errc::header_fields_too_large:
        return "request header fields too large";
      case http_errc::body_too_large:
        return "request body too large";
      case http_errc::version_not_supported:
        return "HTTP version not supported";
      case http_errc::transfer_encoding_not_implemented:
        return "transfer coding not implemented";
      case http_errc::invalid_response:
        return "response cannot be encoded";
    }
    return "unknown HTTP error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& http_error_category() noexcept {
  static const http_category category;
  return category;
}

std::error_code make_error_code(http_errc e) noexcept {
  return {static_cast<int>(e), http_error_category()};
}

int http_status_of(std::error_code error) noexcept {
  if (error.category() != http_error_category()) return 0;
  switch (static_cast<http_errc>(error.value())) {
    case http_errc::request_line_too_long:
      return 414;
    case http_errc::header_fields_too_large:
      return 431;
    case http_errc::body_too_large:
      return 413;
    case http_errc::version_not_supported:
      return 505;
    case http_errc::transfer_encoding_not_implemented:
      return 501;
    case http_errc::invalid_response:
      return 500;
    default:
      return 400;
  }
}

}  // namespace coronet
