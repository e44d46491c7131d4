// The WebSocket opening handshake: request checks in the order RFC 6455 section 4.2.1 lists
// them, the accept key from OpenSSL's SHA-1 and base64, and the client's request and check.
#include "coronet/codec/websocket_handshake.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <stdexcept>

namespace coronet {
namespace {

constexpr std::string_view accept_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

class handshake_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "coronet.websocket.handshake"; }

  std::string message(int value) const override {
    switch (static_cast<websocket_handshake_errc>(value)) {
      case websocket_handshake_errc::not_an_upgrade:
        return "not a WebSocket upgrade (no 'Upgrade: websocket')";
      case websocket_handshake_errc::bad_method:
        return "a WebSocket upgrade must be a GET";
      case websocket_handshake_errc::bad_http_version:
        return "a WebSocket upgrade needs HTTP/1.1";
      case websocket_handshake_errc::missing_connection:
        return "'Connection' does not list 'upgrade'";
      case websocket_handshake_errc::unsupported_version:
        return "unsupported Sec-WebSocket-Version (13 is supported)";
      case websocket_handshake_errc::bad_key:
        return "Sec-WebSocket-Key missing or not 16 bytes in base64";
      case websocket_handshake_errc::origin_not_allowed:
        return "Origin not allowed";
      case websocket_handshake_errc::bad_response:
        return "the server did not accept the WebSocket upgrade";
    }
    return "unknown WebSocket handshake error " + std::to_string(value);
  }
};

int status_of(websocket_handshake_errc error) noexcept {
  switch (error) {
    case websocket_handshake_errc::origin_not_allowed:
      return 403;
    default:
      return 400;
  }
}

websocket_handshake_answer refuse(websocket_handshake_errc error) {
  websocket_handshake_answer answer;
  answer.error = error;
  answer.response = http_response::with_body(status_of(error), answer.error.message() + "\n");
  answer.response.close = true;
  if (error == websocket_handshake_errc::unsupported_version) {
    answer.response.headers.add("Sec-WebSocket-Version", "13");
  }
  return answer;
}

int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

// The elements of a comma-separated field value, without surrounding whitespace.
std::vector<std::string_view> list_elements(std::string_view list) {
  std::vector<std::string_view> elements;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view element = list.substr(0, comma);
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    while (!element.empty() && (element.front() == ' ' || element.front() == '\t'))
      element.remove_prefix(1);
    while (!element.empty() && (element.back() == ' ' || element.back() == '\t'))
      element.remove_suffix(1);
    if (!element.empty()) elements.push_back(element);
  }
  return elements;
}

// The first of the server's subprotocols that the client offers (across all its fields).
std::string select_subprotocol(const http_request& request,
                               const websocket_handshake_options& options) {
  for (const std::string& wanted : options.subprotocols) {
    for (const http_field& field : request.headers.fields()) {
      if (!equals_ignoring_case(field.name, "Sec-WebSocket-Protocol")) continue;
      for (const std::string_view offered : list_elements(field.value)) {
        if (offered == wanted) return wanted;  // Subprotocol names are case-sensitive.
      }
    }
  }
  return {};
}

bool origin_allowed(const http_request& request, const websocket_handshake_options& options) {
  if (options.allowed_origins.empty()) return true;
  const std::optional<std::string_view> origin = request.headers.find("Origin");
  if (!origin || request.headers.count("Origin") != 1) return false;
  for (const std::string& allowed : options.allowed_origins) {
    if (equals_ignoring_case(*origin, allowed)) return true;
  }
  return false;
}

}  // namespace

const std::error_category& websocket_handshake_category() noexcept {
  static const handshake_category category;
  return category;
}

std::error_code make_error_code(websocket_handshake_errc e) noexcept {
  return {static_cast<int>(e), websocket_handshake_category()};
}

bool is_websocket_upgrade(const http_request& request) noexcept {
  return request.headers.has_token("Upgrade", "websocket");
}

bool is_valid_websocket_key(std::string_view key) noexcept {
  // 16 bytes are 22 base64 digits (the last holding 2 bits, its low 4 zero) and "==".
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (base64_value(key[i]) < 0) return false;
  }
  return (base64_value(key[21]) & 0x0F) == 0;
}

std::string websocket_accept_key(std::string_view key) {
  std::string input{key};
  input.append(accept_guid);
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  return base64(digest.data(), digest.size());
}

std::string make_websocket_key() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("no random bytes for a Sec-WebSocket-Key (OpenSSL RAND_bytes)");
  }
  return base64(bytes.data(), bytes.size());
}

websocket_handshake_answer answer_websocket_handshake(const http_request& request,
                                                      const websocket_handshake_options& options) {
  using errc = websocket_handshake_errc;
  if (!is_websocket_upgrade(request)) return refuse(errc::not_an_upgrade);
  if (request.method != "GET") return refuse(errc::bad_method);
  if (request.version_minor < 1) return refuse(errc::bad_http_version);
  if (!request.headers.has_token("Connection", "upgrade")) return refuse(errc::missing_connection);
  const std::optional<std::string_view> version = request.headers.find("Sec-WebSocket-Version");
  if (!version || *version != "13" || request.headers.count("Sec-WebSocket-Version") != 1) {
    return refuse(errc::unsupported_version);
  }
  const std::optional<std::string_view> key = request.headers.find("Sec-WebSocket-Key");
  if (!key || request.headers.count("Sec-WebSocket-Key") != 1 || !is_valid_websocket_key(*key)) {
    return refuse(errc::bad_key);
  }
  if (!origin_allowed(request, options)) return refuse(errc::origin_not_allowed);

  websocket_handshake_answer answer;
  answer.response.status = 101;
  answer.response.headers.add("Upgrade", "websocket");
  answer.response.headers.add("Connection", "Upgrade");
  answer.response.headers.add("Sec-WebSocket-Accept", websocket_accept_key(*key));
  answer.subprotocol = select_subprotocol(request, options);
  if (!answer.subprotocol.empty()) {
    answer.response.headers.add("Sec-WebSocket-Protocol", answer.subprotocol);
  }
  return answer;
}

std::string websocket_client_request(std::string_view host, std::string_view target,
                                     std::string_view key, std::string_view origin,
                                     const std::vector<std::string>& subprotocols) {
  std::string request = "GET ";
  request.append(target).append(" HTTP/1.1\r\nHost: ").append(host);
  request.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
  request.append(key).append("\r\nSec-WebSocket-Version: 13\r\n");
  if (!origin.empty()) request.append("Origin: ").append(origin).append("\r\n");
  if (!subprotocols.empty()) {
    request.append("Sec-WebSocket-Protocol: ");
    for (std::size_t i = 0; i < subprotocols.size(); ++i)
      request.append(i == 0 ? "" : ", ").append(subprotocols[i]);
    request.append("\r\n");
  }
  return request.append("\r\n");
}

std::error_code check_websocket_handshake_response(std::string_view head, std::string_view key,
                                                   std::string& subprotocol, std::string& why) {
  const std::error_code refused = websocket_handshake_errc::bad_response;
  const std::size_t status_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, status_end);
  if (status_line.substr(0, 13) != "HTTP/1.1 101 " && status_line != "HTTP/1.1 101") {
    why = "the server answered '" + std::string{status_line.substr(0, 80)} + "'";
    return refused;
  }
  // The field lines: "name: value" each, up to the empty line.
  http_headers fields;
  std::string_view rest =
      status_end == std::string_view::npos ? std::string_view{} : head.substr(status_end + 2);
  while (!rest.empty()) {
    const std::size_t end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 2);
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      why = "a malformed header field in the server's answer";
      return refused;
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
      value.remove_suffix(1);
    fields.add(std::string{line.substr(0, colon)}, std::string{value});
  }
  if (!fields.has_token("Upgrade", "websocket") || !fields.has_token("Connection", "upgrade")) {
    why = "the server's 101 lacks 'Upgrade: websocket' or 'Connection: Upgrade'";
    return refused;
  }
  const std::optional<std::string_view> accept = fields.find("Sec-WebSocket-Accept");
  if (!accept || *accept != websocket_accept_key(key)) {
    why = "wrong Sec-WebSocket-Accept";
    return refused;
  }
  const std::optional<std::string_view> chosen = fields.find("Sec-WebSocket-Protocol");
  subprotocol = chosen ? std::string{*chosen} : std::string{};
  return {};
}

}  // namespace coronet
