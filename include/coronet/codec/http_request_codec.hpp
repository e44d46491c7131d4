// http_request_codec: HTTP/1.1 on the codec layer, server side. It decodes requests (request
// line, header fields, a Content-Length body; pipelined requests one by one) and encodes
// responses: an asymmetric codec, message_type http_request in, outgoing_type http_response
// out. Pure: no I/O; every limit is on by default and a request past one is an error that
// names the status to answer with (http_error.hpp).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "coronet/codec/decode_result.hpp"
#include "coronet/codec/http_error.hpp"
#include "coronet/codec/http_message.hpp"

namespace coronet {

/// Limits of an http_request_codec. Every limit is on by default.
struct http_request_codec_options {
  /// Longest request line in bytes, without its CRLF (empty lines before it count too).
  /// Longer: http_errc::request_line_too_long (414). Default 8 KiB.
  std::size_t max_request_line = 8 * 1024;
  /// Most bytes of header field lines, CRLFs included (the request line is not counted).
  /// More: http_errc::header_fields_too_large (431). Default 8 KiB.
  std::size_t max_header_bytes = 8 * 1024;
  /// Most header fields. More: http_errc::header_fields_too_large (431). Default 100.
  std::size_t max_header_count = 100;
  /// Largest body (its Content-Length). Larger: http_errc::body_too_large (413), reported as soon
  /// as the header says so, before any of the body is buffered. Default 1 MiB.
  std::size_t max_body_size = 1024 * 1024;
};

/// Decodes HTTP/1.1 requests and encodes HTTP/1.1 responses (RFC 9112).
///
/// Strict where leniency lets two parsers disagree about where a request ends (request
/// smuggling): lines end in CRLF only; obs-fold, whitespace before ':', Content-Length together
/// with Transfer-Encoding and differing Content-Lengths are errors. Chunked request bodies are
/// not supported (http_errc::transfer_encoding_not_implemented, 501). Empty lines before a
/// request line are skipped (RFC 9112 2.2). Every error is unrecoverable: answer with
/// http_status_of(error) and close. A request is checked byte by byte as it arrives, so an
/// over-long line is reported once the limit is passed, not when it ends.
class http_request_codec {
 public:
  using message_type = http_request;
  using outgoing_type = http_response;

  http_request_codec() = default;
  explicit http_request_codec(http_request_codec_options options) : options_{options} {}

  /// Decodes the next complete request from `buffered` (see stream_codec).
  decode_result<http_request> decode(std::string_view buffered);

  /// Like decode(); at end of stream a partial request is http_errc::truncated_request.
  decode_result<http_request> decode_eof(std::string_view buffered);

  /// Appends `response` to `out`, or returns http_errc::invalid_response (out unchanged) when a
  /// part of it cannot be sent as given (CR or LF in a field, a framing field, a body on 204).
  std::error_code encode(const http_response& response, std::string& out) const;

  /// The 503 a full server answers with ("Connection: close", `text` as a plain-text body).
  http_response refusal(std::string_view text) const;

  const http_request_codec_options& options() const noexcept { return options_; }

  /// Forgets any partly decoded request.
  void reset() noexcept { state_ = scan_state{}; }

 private:
  // How far the head of the request at the front of the buffer has been checked.
  struct scan_state {
    std::size_t scanned = 0;             // Bytes checked.
    std::size_t line_start = 0;          // Where the line being scanned starts.
    std::size_t request_line_start = 0;  // After the empty lines that came first.
    std::size_t request_line_end = 0;    // After the request line's CRLF; 0 until then.
    bool in_method = true;               // Still in the request line's first token.
    std::size_t field_count = 0;
    std::size_t head_size = 0;  // The whole head, once parsed: the body starts here.
    std::size_t body_size = 0;
    std::optional<http_request> parsed;  // The head, parsed, while its body arrives.
  };

  decode_result<http_request> scan_head(std::string_view buffered);
  decode_result<http_request> parse_head(std::string_view buffered);
  decode_result<http_request> finish(std::string_view buffered);
  decode_result<http_request> fail(http_errc error, std::string_view reason,
                                   std::size_t consumed) noexcept;

  http_request_codec_options options_;
  scan_state state_;
};

}  // namespace coronet
