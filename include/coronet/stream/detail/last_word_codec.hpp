// last_word_codec: any codec, run by a protocol stage that must answer a broken stream before it
// closes (WebSocket's close frame with 1002, HTTP's 400). A decode error the codec cannot
// recover from makes framed_connection close the stream at once; through this adapter such an
// error comes out as one last message carrying the error instead, the stream stays open for the
// answer, and everything that arrives afterwards is swallowed undecoded.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "coronet/codec/codec_concepts.hpp"
#include "coronet/codec/decode_result.hpp"

namespace coronet::detail {

// A decoded message, or the error that ended decoding (then `message` is default).
template <typename Message>
struct decoded_or_error {
  Message message{};
  std::error_code error;    // Empty for a message.
  std::string_view reason;  // The codec's static explanation of `error`.
};

template <typename Codec>
class last_word_codec {
 public:
  using message_type = decoded_or_error<typename Codec::message_type>;
  using outgoing_type = outgoing_message_t<Codec>;

  explicit last_word_codec(Codec codec) : codec_{std::move(codec)} {}

  decode_result<message_type> decode(std::string_view buffered) {
    if (failed_) return decode_result<message_type>::need_more(buffered.size());
    return relay(codec_.decode(buffered), buffered.size());
  }
  decode_result<message_type> decode_eof(std::string_view buffered) {
    if (failed_) return decode_result<message_type>::need_more(buffered.size());
    return relay(codec_.decode_eof(buffered), buffered.size());
  }
  std::error_code encode(const outgoing_type& message, std::string& out) const {
    return codec_.encode(message, out);
  }
  void reset() {
    if constexpr (resettable_codec<Codec>) codec_.reset();
    failed_ = false;
  }
  const Codec& codec() const noexcept { return codec_; }

 private:
  decode_result<message_type> relay(decode_result<typename Codec::message_type> decoded,
                                    std::size_t buffered) {
    using result = decode_result<message_type>;
    if (decoded.has_message()) {
      return result::complete(message_type{std::move(decoded).message(), {}, {}},
                              decoded.consumed());
    }
    if (decoded.needs_more()) return result::need_more(decoded.consumed());
    if (decoded.recoverable()) {
      return result::failure(decoded.error(), decoded.reason(), decoded.consumed(), true);
    }
    failed_ = true;
    return result::complete(message_type{{}, decoded.error(), decoded.reason()}, buffered);
  }

  Codec codec_;
  bool failed_ = false;
};

}  // namespace coronet::detail
