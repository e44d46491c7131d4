// RFC 6455 vocabulary: close code validity, the "websocket" error category, and the frame writer.
#include "coronet/codec/websocket_frame.hpp"

#include <cstddef>
#include <string>

#include "coronet/detail/printable_bytes.hpp"
#include "coronet/error.hpp"

namespace coronet {
namespace {

class websocket_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "websocket"; }

  std::string message(int value) const override {
    switch (static_cast<websocket_errc>(value)) {
      case websocket_errc::protocol_error:
        return "WebSocket protocol error (1002)";
      case websocket_errc::unsupported_data:
        return "WebSocket binary message where text is expected (1003)";
      case websocket_errc::invalid_utf8:
        return "WebSocket text is not UTF-8 (1007)";
      case websocket_errc::message_too_big:
        return "WebSocket message too big (1009)";
    }
    return "unknown WebSocket error " + std::to_string(value);
  }
};

}  // namespace

bool is_valid_close_code(std::uint16_t code) noexcept {
  // 1012-1014 are registered with IANA since RFC 6455 (service restart, try again later, bad
  // gateway); 1004 is reserved, 1005, 1006 and 1015 are for reports only.
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

const std::error_category& websocket_category() noexcept {
  static const websocket_error_category category;
  return category;
}

std::error_code make_error_code(websocket_errc e) noexcept {
  return {static_cast<int>(e), websocket_category()};
}

std::uint16_t close_code_for(std::error_code error) noexcept {
  if (error.category() == websocket_category()) return static_cast<std::uint16_t>(error.value());
  if (error == errc::invalid_utf8) return websocket_close::invalid_payload;
  if (error == errc::frame_too_long) return websocket_close::message_too_big;
  return websocket_close::internal_error;
}

std::string_view to_string(websocket_kind kind) noexcept {
  switch (kind) {
    case websocket_kind::text:
      return "text";
    case websocket_kind::binary:
      return "binary";
    case websocket_kind::ping:
      return "ping";
    case websocket_kind::pong:
      return "pong";
    case websocket_kind::close:
      return "close";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& out, const websocket_owned_message& message) {
  out << to_string(message.kind);
  if (message.kind == websocket_kind::close) out << ' ' << message.close_code;
  std::string payload = " ";
  detail::append_printable(payload, message.payload, 40);
  return out << payload;
}

void append_websocket_frame(std::string& out, const websocket_frame_header& header,
                            std::string_view payload) {
  out.push_back(static_cast<char>((header.fin ? 0x80U : 0U) | ((header.rsv & 7U) << 4) |
                                  (header.opcode & 0x0FU)));
  const unsigned char mask_bit = header.mask ? 0x80U : 0U;
  const std::uint64_t size = payload.size();
  if (size < 126) {
    out.push_back(static_cast<char>(mask_bit | size));
  } else if (size <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126U));
    out.push_back(static_cast<char>(size >> 8));
    out.push_back(static_cast<char>(size & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127U));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((size >> shift) & 0xFF));
  }
  if (!header.mask) {
    out.append(payload);
    return;
  }
  const std::array<std::uint8_t, 4>& key = *header.mask;
  for (const std::uint8_t byte : key)
    out.push_back(static_cast<char>(byte));
  const std::size_t start = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out[start + i] = static_cast<char>(static_cast<unsigned char>(out[start + i]) ^ key[i % 4]);
}

}  // namespace coronet
