// The WebSocket opening handshake (RFC 6455 section 4) as pure functions over the HTTP request
// codec's types: the server checks a decoded http_request and gets the response to send (101,
// or 400/403 with the reason); the client builds its request and checks the 101 it gets.
// Sec-WebSocket-Accept is base64(SHA-1(key + GUID)) computed with OpenSSL's libcrypto.
#pragma once

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "coronet/codec/http_message.hpp"

namespace coronet {

/// Why a server refused an opening handshake. Values start at 1.
enum class websocket_handshake_errc {
  not_an_upgrade = 1,   ///< 400: no "Upgrade: websocket" (a plain HTTP request).
  bad_method,           ///< 400: not GET.
  bad_http_version,     ///< 400: not HTTP/1.1 or later.
  missing_connection,   ///< 400: "Connection" does not list "upgrade".
  unsupported_version,  ///< 400: Sec-WebSocket-Version is not 13 (the answer names 13).
  bad_key,              ///< 400: Sec-WebSocket-Key missing, repeated, or not 16 bytes in base64.
  origin_not_allowed,   ///< 403: Origin not in the allow-list.
  bad_response,         ///< Client side: the server's answer is not a valid 101.
};

/// The category of websocket_handshake_errc; its name() is "coronet.websocket.handshake".
const std::error_category& websocket_handshake_category() noexcept;

/// Makes an error_code in the handshake category (found by ADL).
std::error_code make_error_code(websocket_handshake_errc e) noexcept;

/// What a server accepts in an opening handshake.
struct websocket_handshake_options {
  /// Subprotocols the server speaks, most preferred first; the first the client also offers
  /// is selected. Empty (default): none is selected, whatever the client offers.
  std::vector<std::string> subprotocols;
  /// Origins allowed to connect ("https://chat.example.org", compared ignoring case). Empty
  /// (default): any origin, and requests without Origin (non-browser clients). A browser always
  /// sends Origin, so a list here stops other sites' pages from using the server.
  std::vector<std::string> allowed_origins;
};

/// The server's verdict on an opening handshake.
struct websocket_handshake_answer {
  std::error_code error;    ///< Empty when accepted.
  http_response response;   ///< 101 Switching Protocols, or the refusal (with Connection: close).
  std::string subprotocol;  ///< The selected subprotocol; empty if none.

  bool accepted() const noexcept { return !error; }
};

/// Whether `request` asks for a WebSocket upgrade at all (has "Upgrade: websocket"): a server
/// answers other requests as plain HTTP.
bool is_websocket_upgrade(const http_request& request) noexcept;

/// Checks an opening handshake and builds the answer: 101 with Sec-WebSocket-Accept (and the
/// selected Sec-WebSocket-Protocol), or a refusal that says why in its body.
websocket_handshake_answer answer_websocket_handshake(const http_request& request,
                                                      const websocket_handshake_options& options);

/// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")): the Sec-WebSocket-Accept value
/// for a Sec-WebSocket-Key.
std::string websocket_accept_key(std::string_view key);

/// Whether `key` is a valid Sec-WebSocket-Key: 16 bytes in base64 (24 characters).
bool is_valid_websocket_key(std::string_view key) noexcept;

/// A fresh random Sec-WebSocket-Key (16 random bytes in base64), for a client.
std::string make_websocket_key();

/// The client's opening handshake request: "GET target HTTP/1.1" with Host, Upgrade,
/// Connection, Sec-WebSocket-Key and -Version 13, and Origin and Sec-WebSocket-Protocol when
/// given (subprotocols comma-separated, most preferred first).
std::string websocket_client_request(std::string_view host, std::string_view target,
                                     std::string_view key, std::string_view origin = {},
                                     const std::vector<std::string>& subprotocols = {});

/// Checks the head of the server's answer (status line and fields up to the empty line, as
/// received) to a request made with `key`: "HTTP/1.1 101", Upgrade: websocket, Connection:
/// upgrade and the right Sec-WebSocket-Accept. Sets `subprotocol` to the one the server chose.
/// Returns websocket_handshake_errc::bad_response otherwise (`why` says what was wrong).
std::error_code check_websocket_handshake_response(std::string_view head, std::string_view key,
                                                   std::string& subprotocol, std::string& why);

}  // namespace coronet

template <>
struct std::is_error_code_enum<coronet::websocket_handshake_errc> : std::true_type {};
