// http_request_codec behaviour: requests and pipelining, every error kind and its status, the
// limits (reported as soon as they are passed), response encoding, and the conformance kit.
#include <catch2/catch.hpp>
#include <coronet/codec/codec_concepts.hpp>
#include <coronet/codec/http_request_codec.hpp>
#include <coronet/testing/codec_conformance.hpp>
#include <string>
#include <string_view>
#include <vector>

using coronet::http_errc;
using coronet::http_request;
using coronet::http_request_codec;
using coronet::http_request_codec_options;
using coronet::http_response;
using coronet::http_status_of;

static_assert(coronet::stream_codec<http_request_codec>);
static_assert(coronet::resettable_codec<http_request_codec>);
static_assert(coronet::refusing_codec<http_request_codec>);
static_assert(std::is_same_v<coronet::outgoing_message_t<http_request_codec>, http_response>);

namespace {

using events = std::vector<coronet::testing::event_for<http_request_codec>>;

events decode_all(std::string_view stream, http_request_codec codec = {}) {
  auto outcome = coronet::testing::feed_in_chunks(std::move(codec), stream, {stream.size()});
  REQUIRE(outcome.broken.empty());
  return outcome.events;
}

// The single error a stream decodes to (and that nothing decoded before it).
std::error_code only_error(std::string_view stream, http_request_codec codec = {}) {
  const events decoded = decode_all(stream, std::move(codec));
  REQUIRE(decoded.size() == 1);
  REQUIRE(decoded[0].is_error);
  return decoded[0].error;
}

http_request only_request(std::string_view stream) {
  const events decoded = decode_all(stream);
  REQUIRE(decoded.size() == 1);
  REQUIRE_FALSE(decoded[0].is_error);
  return decoded[0].message;
}

std::string encoded(const http_response& response) {
  std::string out;
  REQUIRE_FALSE(http_request_codec{}.encode(response, out));
  return out;
}

}  // namespace

TEST_CASE("http codec decodes a GET with its fields and case-insensitive lookup") {
  const http_request request = only_request(
      "GET /metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nAccept:  text/plain \r\n\r\n");
  CHECK(request.method == "GET");
  CHECK(request.target == "/metrics?x=1");
  CHECK(request.path() == "/metrics");
  CHECK(request.query() == "x=1");
  CHECK(request.version_minor == 1);
  CHECK(request.headers.size() == 2);
  CHECK(request.headers.find("accept") == "text/plain");
  CHECK(request.headers.find("HOST") == "127.0.0.1:9");
  CHECK_FALSE(request.headers.find("Cookie"));
  CHECK(request.body.empty());
  CHECK(request.keep_alive());
}

TEST_CASE("http codec decodes a body of Content-Length bytes") {
  const http_request request =
      only_request("POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
  CHECK(request.body == "hello");
}

TEST_CASE("http codec decodes pipelined requests one by one") {
  const events decoded = decode_all(
      "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
      "GET /c HTTP/1.0\r\n\r\n");
  REQUIRE(decoded.size() == 3);
  CHECK(decoded[0].message.target == "/a");
  CHECK(decoded[1].message.body == "xyz");
  CHECK(decoded[2].message.target == "/c");
  CHECK(decoded[2].message.version_minor == 0);
  CHECK_FALSE(decoded[2].message.keep_alive());
}

TEST_CASE("http codec skips empty lines before a request line") {
  CHECK(only_request("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n").target == "/");
}

TEST_CASE("http codec reads Connection tokens for keep-alive") {
  CHECK_FALSE(only_request("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n").keep_alive());
  CHECK(only_request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive());
  const http_request upgrade = only_request(
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: "
      "websocket\r\n\r\n");
  CHECK(upgrade.headers.has_token("connection", "upgrade"));
  CHECK_FALSE(upgrade.headers.has_token("connection", "upgrad"));
}

TEST_CASE("http codec rejects garbage as a bad request line at its first byte") {
  CHECK(only_error(std::string_view{"\x16\x03\x01\x02\x00", 5}) == http_errc::bad_request_line);
  CHECK(only_error("hello world\r\n\r\n") == http_errc::bad_request_line);
  CHECK(only_error("GET  / HTTP/1.1\r\nHost: h\r\n\r\n") == http_errc::bad_request_line);
  CHECK(only_error("GET / HTTP/1.1 \r\nHost: h\r\n\r\n") == http_errc::bad_request_line);
  CHECK(only_error("GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n") == http_errc::bad_request_line);
  CHECK(http_status_of(make_error_code(http_errc::bad_request_line)) == 400);
}

TEST_CASE("http codec rejects a bare LF and a bare CR") {
  CHECK(only_error("GET / HTTP/1.1\nHost: h\r\n\r\n") == http_errc::bad_line_ending);
  CHECK(only_error("GET / HTTP/1.1\r\nHost: h\n\r\n") == http_errc::bad_line_ending);
  CHECK(only_error("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n") == http_errc::bad_line_ending);
}

TEST_CASE("http codec rejects invalid field names and whitespace before the colon") {
  CHECK(only_error("GET / HTTP/1.1\r\nHost : h\r\n\r\n") == http_errc::invalid_field);
  CHECK(only_error("GET / HTTP/1.1\r\nHost: h\r\nBad(name): v\r\n\r\n") ==
        http_errc::invalid_field);
  CHECK(only_error("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n") == http_errc::invalid_field);
  CHECK(only_error("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n") == http_errc::invalid_field);
  CHECK(only_error(std::string_view{"GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 36}) ==
        http_errc::invalid_field);
}

TEST_CASE("http codec rejects obsolete line folding") {
  CHECK(only_error("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  folded\r\n\r\n") ==
        http_errc::obsolete_line_folding);
}

TEST_CASE("http codec rejects an HTTP/1.1 request without Host or with two") {
  CHECK(only_error("GET / HTTP/1.1\r\n\r\n") == http_errc::missing_host);
  CHECK(only_error("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n") == http_errc::invalid_host);
  CHECK(only_request("GET / HTTP/1.0\r\n\r\n").method == "GET");
}

TEST_CASE("http codec answers other HTTP versions with 505 and malformed ones with 400") {
  CHECK(only_error("GET / HTTP/2.0\r\nHost: h\r\n\r\n") == http_errc::version_not_supported);
  CHECK(only_error("GET / HTTP/0.9\r\n\r\n") == http_errc::version_not_supported);
  CHECK(http_status_of(make_error_code(http_errc::version_not_supported)) == 505);
  CHECK(only_error("GET / HTTP/1.10\r\nHost: h\r\n\r\n") == http_errc::bad_request_line);
  CHECK(only_error("GET / http/1.1\r\nHost: h\r\n\r\n") == http_errc::bad_request_line);
}

TEST_CASE("http codec rejects Content-Length with Transfer-Encoding and differing lengths") {
  CHECK(only_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                   "Transfer-Encoding: chunked\r\n\r\nabc") == http_errc::conflicting_framing);
  CHECK(
      only_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n") ==
      http_errc::invalid_content_length);
  CHECK(only_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\n") ==
        http_errc::invalid_content_length);
  CHECK(only_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n") ==
        http_errc::invalid_content_length);
  CHECK(
      only_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok")
          .body == "ok");
}

TEST_CASE("http codec answers chunked bodies with 501 and a non-final chunked with 400") {
  const std::error_code chunked =
      only_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  CHECK(chunked == http_errc::transfer_encoding_not_implemented);
  CHECK(http_status_of(chunked) == 501);
  CHECK(only_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n") ==
        http_errc::conflicting_framing);
  CHECK(only_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        http_errc::conflicting_framing);
}

TEST_CASE("http codec rejects a request line longer than max_request_line once it is passed") {
  http_request_codec codec{http_request_codec_options{.max_request_line = 20}};
  const std::string head = "GET /" + std::string(15, 'a');  // 20 bytes: at the limit.
  auto at_limit = codec.decode(head);
  CHECK(at_limit.needs_more());
  auto over = codec.decode(head + "a");  // No line end yet: reported without waiting for one.
  REQUIRE(over.has_error());
  CHECK(over.error() == http_errc::request_line_too_long);
  CHECK_FALSE(over.recoverable());
  CHECK(http_status_of(over.error()) == 414);
}

TEST_CASE("http codec rejects a 1 MiB header line with 431 after max_header_bytes") {
  http_request_codec codec;
  const std::string stream = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(1 << 20, 'a');
  auto outcome = coronet::testing::feed_in_chunks(http_request_codec{}, stream,
                                                  std::vector<std::size_t>(300, 4096));
  REQUIRE(outcome.events.size() == 1);
  CHECK(outcome.events[0].error == http_errc::header_fields_too_large);
  CHECK(http_status_of(outcome.events[0].error) == 431);
  // The caller never held more than the limits and one read.
  CHECK(outcome.max_buffered <= 8 * 1024 + 64 + 4096);
}

TEST_CASE("http codec rejects more than max_header_count fields with 431") {
  std::string stream = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 3; ++i)
    stream += "X: y\r\n";
  stream += "\r\n";
  CHECK(only_error(stream, http_request_codec{{.max_header_count = 3}}) ==
        http_errc::header_fields_too_large);
  CHECK(only_request(stream).headers.size() == 4);
}

TEST_CASE("http codec rejects a Content-Length over max_body_size before the body arrives") {
  http_request_codec codec{http_request_codec_options{.max_body_size = 10}};
  auto result = codec.decode("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n");
  REQUIRE(result.has_error());
  CHECK(result.error() == http_errc::body_too_large);
  CHECK(http_status_of(result.error()) == 413);
  CHECK(
      only_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n") ==
      http_errc::body_too_large);
}

TEST_CASE("http codec reports a request cut by the end of the stream") {
  CHECK(only_error("GET / HTTP/1.1\r\nHost: h\r\n") == http_errc::truncated_request);
  CHECK(only_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab") ==
        http_errc::truncated_request);
  CHECK(decode_all("\r\n").empty());
}

TEST_CASE("http codec errors are not recoverable and are not in the coronet category") {
  http_request_codec codec;
  auto result = codec.decode("GET / HTTP/1.1\r\nHost : h\r\n\r\n");
  REQUIRE(result.has_error());
  CHECK_FALSE(result.recoverable());
  CHECK(std::string{result.error().category().name()} == "coronet.http");
  CHECK(result.reason() == "whitespace between field name and ':'");
  CHECK(http_status_of(std::make_error_code(std::errc::timed_out)) == 0);
}

TEST_CASE("http codec encodes a response with Content-Length and its fields") {
  http_response response = http_response::with_body(200, "hi\n");
  CHECK(encoded(response) ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
        "3\r\n\r\nhi\n");
  response.close = true;
  response.status = 404;
  response.reason = "Nowhere";
  CHECK(encoded(response) ==
        "HTTP/1.1 404 Nowhere\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n"
        "Connection: close\r\n\r\nhi\n");
}

TEST_CASE("http codec encodes a HEAD response with the length and without the body") {
  http_response response = http_response::with_body(200, "12345");
  response.omit_body = true;
  CHECK(encoded(response) ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n");
}

TEST_CASE("http codec encodes 101 and 204 without Content-Length") {
  http_response switching;
  switching.status = 101;
  switching.headers.add("Upgrade", "websocket");
  switching.headers.add("Connection", "Upgrade");
  CHECK(encoded(switching) ==
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  http_response no_content;
  no_content.status = 204;
  CHECK(encoded(no_content) == "HTTP/1.1 204 No Content\r\n\r\n");
}

TEST_CASE("http codec refuses to encode what it cannot send faithfully") {
  const http_request_codec codec;
  auto refused = [&codec](const http_response& response) {
    std::string out = "kept";
    const std::error_code error = codec.encode(response, out);
    CHECK(out == "kept");
    return error == http_errc::invalid_response;
  };
  http_response split;
  split.headers.add("X", "a\r\nInjected: yes");
  CHECK(refused(split));
  http_response framing;
  framing.headers.add("Content-Length", "9");
  CHECK(refused(framing));
  http_response bad_name;
  bad_name.headers.add("Bad Name", "v");
  CHECK(refused(bad_name));
  http_response body_on_204 = http_response::with_body(204, "x");
  CHECK(refused(body_on_204));
  http_response bad_status;
  bad_status.status = 1000;
  CHECK(refused(bad_status));
}

TEST_CASE("http codec refusal is a 503 that closes") {
  const http_response refusal = http_request_codec{}.refusal("error: server full (1 connection)");
  CHECK(refusal.status == 503);
  CHECK(refusal.close);
  CHECK(refusal.body == "error: server full (1 connection)\n");
}

TEST_CASE("http codec passes the conformance kit on valid and invalid streams") {
  const std::vector<std::string> streams = {
      "GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n"
      "body\r\n\r\nGET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /d HTTP/1.1\r\nHo",
      "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(10000, 'a') + "\r\n\r\n",
      "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\n\r\n\x01\x02garbage",
  };
  for (const std::string& stream : streams) {
    const auto report =
        coronet::testing::check_stream_splits([] { return http_request_codec{}; }, stream,
                                              {.max_split_points = 512, .random_chunkings = 16});
    INFO(stream.substr(0, 60));
    INFO(report.summary());
    CHECK(report.ok());
  }
}
