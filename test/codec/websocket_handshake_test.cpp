// The WebSocket opening handshake over the HTTP request codec's types: the accept key, each
// refusal with its status, subprotocol selection, the Origin allow-list, and a client request
// decoded by the HTTP codec and answered, with the client checking the answer.
#include <catch2/catch.hpp>
#include <coronet/codec/http_request_codec.hpp>
#include <coronet/codec/websocket_handshake.hpp>
#include <string>

using coronet::http_request;
using coronet::http_request_codec;
using coronet::websocket_handshake_errc;
using coronet::websocket_handshake_options;

namespace {

constexpr const char* sample_key = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455 section 1.3.

http_request decode(const std::string& bytes) {
  http_request_codec codec;
  auto result = codec.decode(bytes);
  REQUIRE(result.has_message());
  return std::move(result).message();
}

std::string upgrade_request(std::string extra_fields = "", std::string key_field = "",
                            std::string version = "13") {
  if (key_field.empty()) key_field = std::string{"Sec-WebSocket-Key: "} + sample_key + "\r\n";
  return "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
         "Connection: keep-alive, Upgrade\r\n" +
         key_field + "Sec-WebSocket-Version: " + version + "\r\n" + extra_fields + "\r\n";
}

}  // namespace

TEST_CASE("websocket accept key matches the example of RFC 6455 section 1.3") {
  CHECK(coronet::websocket_accept_key(sample_key) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("websocket handshake accepts a valid upgrade with 101 and the accept key") {
  const auto answer = coronet::answer_websocket_handshake(decode(upgrade_request()), {});
  REQUIRE(answer.accepted());
  CHECK(answer.response.status == 101);
  CHECK(answer.response.headers.find("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(answer.response.headers.has_token("Upgrade", "websocket"));
  CHECK(answer.response.headers.has_token("Connection", "upgrade"));
  CHECK(answer.subprotocol.empty());
  CHECK_FALSE(answer.response.headers.find("Sec-WebSocket-Protocol"));
}

TEST_CASE("websocket handshake refuses a missing or malformed key with 400") {
  for (const std::string key_field :
       {std::string{"X-Nothing: 1\r\n"}, std::string{"Sec-WebSocket-Key: c2hvcnQ=\r\n"},
        std::string{"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!=\r\n"},
        std::string{"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n"},
        std::string{"Sec-WebSocket-Key: "} + sample_key + "\r\nSec-WebSocket-Key: " + sample_key +
            "\r\n"}) {
    INFO(key_field);
    const auto answer =
        coronet::answer_websocket_handshake(decode(upgrade_request("", key_field)), {});
    CHECK(answer.error == websocket_handshake_errc::bad_key);
    CHECK(answer.response.status == 400);
    CHECK(answer.response.close);
  }
}

TEST_CASE("websocket handshake refuses another version with 400 naming version 13") {
  for (const char* version : {"8", "14", ""}) {
    const auto answer =
        coronet::answer_websocket_handshake(decode(upgrade_request("", "", version)), {});
    CHECK(answer.error == websocket_handshake_errc::unsupported_version);
    CHECK(answer.response.status == 400);
    CHECK(answer.response.headers.find("Sec-WebSocket-Version") == "13");
  }
}

TEST_CASE("websocket handshake refuses a non-GET an HTTP/1.0 request or no Connection upgrade") {
  std::string post = upgrade_request();
  post.replace(0, 3, "PUT");
  CHECK(coronet::answer_websocket_handshake(decode(post), {}).error ==
        websocket_handshake_errc::bad_method);
  std::string old = upgrade_request();
  old.replace(old.find("HTTP/1.1"), 8, "HTTP/1.0");
  CHECK(coronet::answer_websocket_handshake(decode(old), {}).error ==
        websocket_handshake_errc::bad_http_version);
  std::string no_connection = upgrade_request();
  no_connection.replace(no_connection.find("keep-alive, Upgrade"), 19, "keep-alive");
  const auto answer = coronet::answer_websocket_handshake(decode(no_connection), {});
  CHECK(answer.error == websocket_handshake_errc::missing_connection);
  CHECK(answer.response.status == 400);
  const http_request plain = decode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_FALSE(coronet::is_websocket_upgrade(plain));
  CHECK(coronet::answer_websocket_handshake(plain, {}).error ==
        websocket_handshake_errc::not_an_upgrade);
}

TEST_CASE("websocket handshake selects the server's most preferred offered subprotocol") {
  websocket_handshake_options options;
  options.subprotocols = {"chat.v2", "chat"};
  auto answer = coronet::answer_websocket_handshake(
      decode(upgrade_request("Sec-WebSocket-Protocol: chat, chat.v2\r\n")), options);
  REQUIRE(answer.accepted());
  CHECK(answer.subprotocol == "chat.v2");
  CHECK(answer.response.headers.find("Sec-WebSocket-Protocol") == "chat.v2");
  answer = coronet::answer_websocket_handshake(
      decode(upgrade_request("Sec-WebSocket-Protocol: mqtt\r\n")), options);
  REQUIRE(answer.accepted());
  CHECK(answer.subprotocol.empty());
}

TEST_CASE("websocket handshake refuses an Origin outside the allow-list with 403") {
  websocket_handshake_options options;
  options.allowed_origins = {"https://chat.example.org"};
  CHECK(coronet::answer_websocket_handshake(
            decode(upgrade_request("Origin: https://CHAT.example.org\r\n")), options)
            .accepted());
  const auto other = coronet::answer_websocket_handshake(
      decode(upgrade_request("Origin: https://evil.example\r\n")), options);
  CHECK(other.error == websocket_handshake_errc::origin_not_allowed);
  CHECK(other.response.status == 403);
  CHECK(coronet::answer_websocket_handshake(decode(upgrade_request()), options).error ==
        websocket_handshake_errc::origin_not_allowed);
}

TEST_CASE("websocket client request is accepted and the client checks the accept key") {
  const std::string key = coronet::make_websocket_key();
  CHECK(coronet::is_valid_websocket_key(key));
  CHECK(key != coronet::make_websocket_key());
  const std::string request =
      coronet::websocket_client_request("127.0.0.1:80", "/ws", key, "http://127.0.0.1", {"chat"});
  websocket_handshake_options options;
  options.subprotocols = {"chat"};
  const auto answer = coronet::answer_websocket_handshake(decode(request), options);
  REQUIRE(answer.accepted());
  std::string head;
  REQUIRE_FALSE(http_request_codec{}.encode(answer.response, head));
  std::string subprotocol;
  std::string why;
  CHECK_FALSE(coronet::check_websocket_handshake_response(head, key, subprotocol, why));
  CHECK(subprotocol == "chat");
  const std::string other_key = coronet::make_websocket_key();
  CHECK(coronet::check_websocket_handshake_response(head, other_key, subprotocol, why) ==
        websocket_handshake_errc::bad_response);
  CHECK(why == "wrong Sec-WebSocket-Accept");
  CHECK(coronet::check_websocket_handshake_response("HTTP/1.1 400 Bad Request\r\n\r\n", key,
                                                    subprotocol,
                                                    why) == websocket_handshake_errc::bad_response);
}
