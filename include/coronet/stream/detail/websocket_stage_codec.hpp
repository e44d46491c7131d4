// websocket_codec as websocket_connection runs it inside its framed_connection: a protocol error
// comes out as one last message (with the error) instead of as a decode error, because a
// decode error the codec cannot recover from makes the framed connection close the stream at
// once — and WebSocket must first send a close frame with the error's code. After that message
// the codec swallows whatever else arrives: nothing the peer sends is decoded again.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

#include "coronet/codec/decode_result.hpp"
#include "coronet/codec/websocket_codec.hpp"

namespace coronet::detail {

// A decoded message, or the protocol error that ended decoding.
struct websocket_event {
  websocket_message message;
  std::error_code error;    // Empty for a message.
  std::string_view reason;  // The codec's static explanation of `error`.
};

class websocket_stage_codec {
 public:
  using message_type = websocket_event;

  explicit websocket_stage_codec(websocket_codec_options options) : codec_{options} {}

  decode_result<websocket_event> decode(std::string_view buffered) {
    return relay(codec_.decode(buffered), buffered.size());
  }
  decode_result<websocket_event> decode_eof(std::string_view buffered) {
    return relay(codec_.decode_eof(buffered), buffered.size());
  }
  std::error_code encode(const websocket_event& event, std::string& out) const {
    return codec_.encode(event.message, out);
  }
  std::error_code encode(const websocket_message& message, std::string& out) const {
    return codec_.encode(message, out);
  }
  void reset() noexcept {
    codec_.reset();
    failed_ = false;
  }
  const websocket_codec& codec() const noexcept { return codec_; }

 private:
  decode_result<websocket_event> relay(decode_result<websocket_message> decoded,
                                       std::size_t buffered) {
    using result = decode_result<websocket_event>;
    if (failed_) return result::need_more(buffered);
    if (decoded.has_message()) {
      return result::complete(websocket_event{decoded.message(), {}, {}}, decoded.consumed());
    }
    if (decoded.needs_more()) return result::need_more(decoded.consumed());
    failed_ = true;
    return result::complete(websocket_event{{}, decoded.error(), decoded.reason()}, buffered);
  }

  websocket_codec codec_;
  bool failed_ = false;
};

}  // namespace coronet::detail
