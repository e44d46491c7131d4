// websocket_codec: a resumable frame reader (the header is parsed again only while it is
// incomplete, at most 14 bytes; payload bytes are unmasked into the codec's buffer as they
// arrive and never looked at twice), the checks of RFC 6455 sections 5 and 7, and the writer.
#include "coronet/codec/websocket_codec.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <random>

#include "coronet/error.hpp"

namespace coronet {
namespace {

using result = decode_result<websocket_message>;

constexpr std::size_t max_control_payload = 125;
// A buffer that held a message larger than this is given back after delivery rather than kept
// for the connection's lifetime (one large message must not pin its memory).
constexpr std::size_t kept_capacity = 64 * 1024;

result protocol_error(std::string_view reason, std::size_t consumed) {
  return result::failure(websocket_errc::protocol_error, reason, consumed, false);
}

bool is_control(websocket_opcode opcode) noexcept {
  return (static_cast<unsigned>(opcode) & 0x8U) != 0;
}

bool is_known(unsigned opcode) noexcept {
  return opcode <= 0x2U || (opcode >= 0x8U && opcode <= 0xAU);
}

}  // namespace

void websocket_codec::reset() noexcept {
  in_payload_ = false;
  remaining_ = 0;
  in_message_ = false;
  delivered_ = false;
  fragments_ = 0;
  message_.clear();
  control_.clear();
  text_check_.reset();
}

// Reads a frame header at buffered[used..]. Returns nothing once the header is read (used is
// past it and the frame's state is set), else the result to return: need more, or an error.
// The checks that the first two bytes decide come first, so a bad frame fails before its
// extended length or masking key has arrived.
std::optional<result> websocket_codec::read_header(std::string_view buffered, std::size_t& used) {
  const std::string_view bytes = buffered.substr(used);
  if (bytes.size() < 2) return result::need_more(used);
  const auto first = static_cast<unsigned char>(bytes[0]);
  const auto second = static_cast<unsigned char>(bytes[1]);
  const bool fin = (first & 0x80U) != 0;
  const unsigned opcode_bits = first & 0x0FU;
  const bool masked = (second & 0x80U) != 0;
  const unsigned short_length = second & 0x7FU;
  const std::size_t whole = buffered.size();

  if ((first & 0x70U) != 0) return protocol_error("RSV bits set without an extension", whole);
  if (!is_known(opcode_bits)) return protocol_error("reserved opcode", whole);
  const auto opcode = static_cast<websocket_opcode>(opcode_bits);
  const bool server = options_.role == websocket_role::server;
  if (server && !masked) return protocol_error("unmasked client frame", whole);
  if (!server && masked) return protocol_error("masked server frame", whole);
  if (is_control(opcode)) {
    if (!fin) return protocol_error("fragmented control frame", whole);
    if (short_length > max_control_payload) {
      return protocol_error("control frame longer than 125 bytes", whole);
    }
  } else if (opcode == websocket_opcode::continuation) {
    if (!in_message_) return protocol_error("continuation frame without a message", whole);
  } else if (in_message_) {
    return protocol_error("new data frame inside a fragmented message", whole);
  }

  const std::size_t length_bytes = short_length == 126 ? 2 : short_length == 127 ? 8 : 0;
  const std::size_t header_size = 2 + length_bytes + (masked ? 4 : 0);
  if (bytes.size() < header_size) return result::need_more(used);
  std::uint64_t length = short_length;
  if (length_bytes != 0) {
    length = 0;
    for (std::size_t i = 0; i < length_bytes; ++i)
      length = (length << 8) | static_cast<unsigned char>(bytes[2 + i]);
    if (length_bytes == 8 && (length >> 63) != 0) {
      return protocol_error("64-bit length with the most significant bit set", whole);
    }
    const std::uint64_t shortest = length_bytes == 2 ? 126 : 0x10000;
    if (length < shortest) return protocol_error("length not in its shortest form", whole);
  }

  if (!is_control(opcode)) {
    const std::size_t so_far = opcode == websocket_opcode::continuation ? message_.size() : 0;
    if (length > options_.max_message_size - std::min(so_far, options_.max_message_size)) {
      return result::failure(websocket_errc::message_too_big,
                             "message longer than max_message_size", whole, false);
    }
    if (opcode == websocket_opcode::continuation) {
      if (++fragments_ > options_.max_fragments) {
        return result::failure(websocket_errc::message_too_big,
                               "message split into more than max_fragments frames", whole, false);
      }
    } else {
      in_message_ = true;
      message_kind_ =
          opcode == websocket_opcode::text ? websocket_kind::text : websocket_kind::binary;
      fragments_ = 1;
      message_.clear();
      text_check_.reset();
    }
  } else {
    control_.clear();
  }

  fin_ = fin;
  opcode_ = opcode;
  masked_ = masked;
  if (masked) std::copy_n(bytes.data() + 2 + length_bytes, 4, reinterpret_cast<char*>(mask_));
  mask_offset_ = 0;
  remaining_ = length;
  in_payload_ = true;
  used += header_size;
  return std::nullopt;
}

void websocket_codec::read_payload(std::string_view bytes) {
  std::string& target = is_control(opcode_) ? control_ : message_;
  const std::size_t start = target.size();
  target.append(bytes);
  if (masked_) {
    char* data = target.data() + start;
    for (std::size_t i = 0; i < bytes.size(); ++i)
      data[i] =
          static_cast<char>(static_cast<unsigned char>(data[i]) ^ mask_[(mask_offset_ + i) & 3U]);
    mask_offset_ = (mask_offset_ + bytes.size()) & 3U;
  }
  remaining_ -= bytes.size();
}

std::optional<result> websocket_codec::finish_frame(std::size_t used) {
  in_payload_ = false;
  switch (opcode_) {
    case websocket_opcode::ping:
      return result::complete(websocket_message::ping(control_), used);
    case websocket_opcode::pong:
      return result::complete(websocket_message::pong(control_), used);
    case websocket_opcode::close:
      return finish_close(used);
    default:
      break;
  }
  if (!fin_) return std::nullopt;
  if (message_kind_ == websocket_kind::text && !text_check_.complete()) {
    return result::failure(websocket_errc::invalid_utf8, "text message ends inside a character",
                           used, false);
  }
  in_message_ = false;
  delivered_ = true;
  return result::complete(websocket_message{message_kind_, message_}, used);
}

result websocket_codec::finish_close(std::size_t used) {
  if (control_.empty())
    return result::complete(websocket_message::close(websocket_close::no_status), used);
  if (control_.size() == 1) return protocol_error("close frame with a one-byte payload", used);
  const auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(control_[0]) << 8) |
                                               static_cast<unsigned char>(control_[1]));
  if (!is_valid_close_code(code)) return protocol_error("close code that may not be sent", used);
  const std::string_view reason = std::string_view{control_}.substr(2);
  if (!is_valid_utf8(reason)) {
    return result::failure(websocket_errc::invalid_utf8, "close reason is not UTF-8", used, false);
  }
  return result::complete(websocket_message::close(code, reason), used);
}

result websocket_codec::decode(std::string_view buffered) {
  if (delivered_) {
    delivered_ = false;
    if (message_.capacity() > kept_capacity) {
      std::string{}.swap(message_);
    } else {
      message_.clear();
    }
  }
  std::size_t used = 0;
  while (true) {
    if (!in_payload_) {
      if (std::optional<result> stop = read_header(buffered, used)) return std::move(*stop);
    }
    const std::size_t take =
        static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, buffered.size() - used));
    if (take > 0) {
      const bool text = !is_control(opcode_) && message_kind_ == websocket_kind::text;
      read_payload(buffered.substr(used, take));
      used += take;
      if (text && !text_check_.feed(std::string_view{message_}.substr(message_.size() - take))) {
        return result::failure(websocket_errc::invalid_utf8, "text message is not UTF-8",
                               buffered.size(), false);
      }
    }
    if (remaining_ > 0) return result::need_more(used);
    if (std::optional<result> done = finish_frame(used)) return std::move(*done);
  }
}

result websocket_codec::decode_eof(std::string_view buffered) {
  result decoded = decode(buffered);
  if (!decoded.needs_more()) return decoded;
  if (in_payload_ || in_message_ || decoded.consumed() < buffered.size()) {
    return result::failure(errc::truncated_frame, "the stream ended inside a WebSocket frame",
                           buffered.size(), false);
  }
  return decoded;
}

std::error_code websocket_codec::encode(const websocket_message& message, std::string& out) const {
  websocket_frame_header header;
  std::string_view payload = message.payload;
  std::array<char, max_control_payload> close_payload{};
  switch (message.kind) {
    case websocket_kind::text:
      if (!is_valid_utf8(payload)) return errc::invalid_utf8;
      header.opcode = static_cast<std::uint8_t>(websocket_opcode::text);
      if (payload.size() > options_.max_message_size) return errc::frame_too_long;
      break;
    case websocket_kind::binary:
      header.opcode = static_cast<std::uint8_t>(websocket_opcode::binary);
      if (payload.size() > options_.max_message_size) return errc::frame_too_long;
      break;
    case websocket_kind::ping:
    case websocket_kind::pong:
      header.opcode = static_cast<std::uint8_t>(
          message.kind == websocket_kind::ping ? websocket_opcode::ping : websocket_opcode::pong);
      if (payload.size() > max_control_payload) return errc::frame_too_long;
      break;
    case websocket_kind::close:
      header.opcode = static_cast<std::uint8_t>(websocket_opcode::close);
      if (message.close_code == websocket_close::no_status) {
        // A close frame without a code cannot carry a reason either.
        if (!payload.empty()) return websocket_errc::protocol_error;
        break;
      }
      if (!is_valid_close_code(message.close_code)) return websocket_errc::protocol_error;
      if (payload.size() > max_control_payload - 2) return errc::frame_too_long;
      if (!is_valid_utf8(payload)) return errc::invalid_utf8;
      close_payload[0] = static_cast<char>(message.close_code >> 8);
      close_payload[1] = static_cast<char>(message.close_code & 0xFF);
      std::copy(payload.begin(), payload.end(), close_payload.begin() + 2);
      payload = std::string_view{close_payload.data(), payload.size() + 2};
      break;
  }
  if (options_.role == websocket_role::client) {
    // Masking keys must be unpredictable to the page's script (RFC 6455 section 10.3): seeded
    // once per codec from the system's random source, then xorshift64*.
    if (mask_seed_ == 0) {
      std::random_device source;
      mask_seed_ = ((std::uint64_t{source()} << 32) ^ source()) | 1U;
    }
    mask_seed_ ^= mask_seed_ >> 12;
    mask_seed_ ^= mask_seed_ << 25;
    mask_seed_ ^= mask_seed_ >> 27;
    const std::uint64_t bits = mask_seed_ * 0x2545F4914F6CDD1DULL;
    header.mask = std::array<std::uint8_t, 4>{
        static_cast<std::uint8_t>(bits >> 56), static_cast<std::uint8_t>(bits >> 48),
        static_cast<std::uint8_t>(bits >> 40), static_cast<std::uint8_t>(bits >> 32)};
  }
  append_websocket_frame(out, header, payload);
  return {};
}

}  // namespace coronet
