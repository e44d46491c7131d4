// The HTTP request codec's errors, in their own category ("coronet.http"). Each kind names
// what was wrong with a request and maps to the status a server answers with (http_status_of);
// none is recoverable: once a request is malformed its framing, and so the next request's start,
// is unknown, so a server answers and closes (RFC 9112 section 2.2, 6.3).
#pragma once

#include <string>
#include <system_error>

namespace coronet {

/// What was wrong with a request (decode) or a response (encode). Values start at 1.
enum class http_errc {
  bad_request_line = 1,     ///< 400: not "method SP target SP HTTP/d.d" (garbage lands here).
  bad_line_ending,          ///< 400: a bare LF or a bare CR (only CRLF ends a line here).
  invalid_field,            ///< 400: a bad field name (whitespace before ':'), no ':', bad value.
  obsolete_line_folding,    ///< 400: a field line starting with whitespace (obs-fold).
  missing_host,             ///< 400: an HTTP/1.1 request without Host.
  invalid_host,             ///< 400: more than one Host field.
  invalid_content_length,   ///< 400: not digits, or several fields that differ.
  conflicting_framing,      ///< 400: Content-Length and Transfer-Encoding together, or a
                            ///< Transfer-Encoding whose final coding is not chunked.
  truncated_request,        ///< 400: the stream ended inside a request.
  request_line_too_long,    ///< 414: longer than max_request_line.
  header_fields_too_large,  ///< 431: header bytes over max_header_bytes or fields over
                            ///< max_header_count.
  body_too_large,           ///< 413: Content-Length over max_body_size.
  version_not_supported,    ///< 505: a version that is not HTTP/1.x.
  transfer_encoding_not_implemented,  ///< 501: a chunked body (not supported: send a length).
  invalid_response,  ///< encode: a status, reason or field that cannot be sent as given.
};

/// The category of every http_errc value; its name() is "coronet.http".
const std::error_category& http_error_category() noexcept;

/// Makes an error_code in the HTTP category (found by ADL).
std::error_code make_error_code(http_errc e) noexcept;

/// The status a server answers a request that failed with `error`: 400, 413, 414, 431, 501 or
/// 505 for the codec's errors; 0 for any other error (a timeout, a reset: nothing to answer).
int http_status_of(std::error_code error) noexcept;

}  // namespace coronet

template <>
struct std::is_error_code_enum<coronet::http_errc> : std::true_type {};
