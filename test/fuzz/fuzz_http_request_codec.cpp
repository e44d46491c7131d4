// http_request_codec: any split decodes to the same requests and errors, within the limits;
// what decodes is well-formed and decodes again from a canonical serialisation; every error
// names a status; encoding a response never half-writes.
//
// Input layout: [line][header][count][body][chunk a][chunk b][status] then the stream.
//   line, header, count, body: max_request_line, max_header_bytes, max_header_count,
//          max_body_size: 0 = the default, 255 = no limit, else 1..64
//   chunk a, chunk b: the chunked run feeds 1 + a, 1 + b, 1 + a, ... bytes at a time
//   status: the status of the responses encoded from decoded requests (100 + status * 2)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/codec/http_request_codec.hpp"
#include "coronet/testing/codec_conformance.hpp"
#include "fuzz_support.hpp"

namespace {

using coronet::http_request;
using coronet::http_request_codec;
using coronet::http_request_codec_options;
using coronet::http_response;
using coronet::fuzz::saturating_add;

coronet::testing::feed_outcome<http_request_codec> feed(const http_request_codec_options& options,
                                                        std::string_view stream,
                                                        const std::vector<std::size_t>& chunks) {
  auto outcome = coronet::testing::feed_in_chunks(http_request_codec{options}, stream, chunks);
  FUZZ_CHECK(outcome.broken.empty());
  return outcome;
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view{"!#$%&'*+-.^_`|~"}.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

void check_well_formed(const http_request& request, const http_request_codec_options& options) {
  FUZZ_CHECK(is_token(request.method));
  FUZZ_CHECK(!request.target.empty());
  for (const char c : request.target)
    FUZZ_CHECK(c > 0x20 && c < 0x7F);
  FUZZ_CHECK(request.version_minor >= 0 && request.version_minor <= 9);
  FUZZ_CHECK(request.headers.size() <= options.max_header_count);
  FUZZ_CHECK(request.body.size() <= options.max_body_size);
  if (request.version_minor >= 1) FUZZ_CHECK(request.headers.count("Host") == 1);
  FUZZ_CHECK(request.headers.count("Transfer-Encoding") == 0);
  for (const auto& field : request.headers.fields()) {
    FUZZ_CHECK(is_token(field.name));
    FUZZ_CHECK(field.value.find_first_of(std::string_view{"\r\n\0", 3}) == std::string::npos);
  }
}

// The request as a well-behaved client would send it; it must decode to the same request.
void check_canonical_round_trip(const http_request& request) {
  std::string canonical = request.method + " " + request.target + " HTTP/1." +
                          std::to_string(request.version_minor) + "\r\n";
  for (const auto& field : request.headers.fields()) {
    canonical += field.name + ": " + field.value + "\r\n";
  }
  canonical += "\r\n" + request.body;
  const http_request_codec_options unlimited{coronet::fuzz::no_limit, coronet::fuzz::no_limit,
                                             coronet::fuzz::no_limit, coronet::fuzz::no_limit};
  const auto again = feed(unlimited, canonical, {canonical.size()});
  FUZZ_CHECK(again.events.size() == 1 && !again.events[0].is_error);
  FUZZ_CHECK(again.events[0].message == request);
}

// A response carrying the request's fields and body: encoded whole, or refused leaving `out` as
// it was; fields whose values hold CR or LF can never reach the output.
void check_encode(const http_request& request, int status) {
  http_response response;
  response.status = status;
  response.headers = request.headers;
  response.body = request.body;
  std::string out = "x";
  const std::error_code error = http_request_codec{}.encode(response, out);
  if (error) {
    FUZZ_CHECK(error == coronet::http_errc::invalid_response);
    FUZZ_CHECK(out == "x");
    return;
  }
  const std::size_t head_end = out.find("\r\n\r\n");
  FUZZ_CHECK(out.compare(0, 10, "xHTTP/1.1 ") == 0 && head_end != std::string::npos);
  FUZZ_CHECK(out.size() - head_end - 4 == request.body.size() || request.body.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  coronet::fuzz::input_reader input{data, size};
  http_request_codec_options options;
  options.max_request_line =
      coronet::fuzz::limit_from_byte(input.take_byte(), options.max_request_line);
  options.max_header_bytes =
      coronet::fuzz::limit_from_byte(input.take_byte(), options.max_header_bytes);
  options.max_header_count =
      coronet::fuzz::limit_from_byte(input.take_byte(), options.max_header_count);
  options.max_body_size = coronet::fuzz::limit_from_byte(input.take_byte(), options.max_body_size);
  const std::size_t chunk_a = 1U + input.take_byte();
  const std::size_t chunk_b = 1U + input.take_byte();
  const int status = 100 + input.take_byte() * 2;
  const std::string_view stream = input.rest();

  const auto whole = feed(options, stream, {stream.size()});
  const auto chunked =
      feed(options, stream, coronet::fuzz::alternating_chunks(stream.size(), chunk_a, chunk_b));
  FUZZ_CHECK(chunked.events == whole.events);
  const auto byte_at_a_time = feed(options, stream, std::vector<std::size_t>(stream.size(), 1));
  FUZZ_CHECK(byte_at_a_time.events == whole.events);
  // A caller feeding bytes as they come never holds more than one request within the limits.
  const std::size_t one_request =
      saturating_add(saturating_add(options.max_request_line, options.max_header_bytes),
                     saturating_add(options.max_body_size, 8));
  FUZZ_CHECK(byte_at_a_time.max_buffered <= one_request);

  for (const auto& event : whole.events) {
    if (event.is_error) {
      const int answer = coronet::http_status_of(event.error);
      FUZZ_CHECK(answer == 400 || answer == 413 || answer == 414 || answer == 431 ||
                 answer == 501 || answer == 505);
      continue;
    }
    check_well_formed(event.message, options);
    check_canonical_round_trip(event.message);
    check_encode(event.message, status);
  }
  return 0;
}
