// datagram_codec: the size and UTF-8 checks on a whole datagram.
#include "coronet/codec/datagram_codec.hpp"

#include "coronet/codec/utf8.hpp"
#include "coronet/error.hpp"

namespace coronet {

decode_result<std::string_view> datagram_codec::decode(std::string_view datagram) const {
  using result = decode_result<std::string_view>;
  if (datagram.size() > options_.max_datagram_size) {
    return result::failure(errc::frame_too_long, "datagram larger than max_datagram_size",
                           datagram.size(), true);
  }
  if (options_.validate_utf8) {
    if (const utf8_verdict verdict = check_utf8(datagram); !verdict) {
      return result::failure(errc::invalid_utf8, describe(verdict.fault), datagram.size(), true);
    }
  }
  return result::complete(datagram, datagram.size());
}

std::error_code datagram_codec::encode(std::string_view message, std::string& out) const {
  if (message.size() > options_.max_datagram_size) return errc::frame_too_long;
  if (options_.validate_utf8 && !is_valid_utf8(message)) return errc::invalid_utf8;
  out.append(message);
  return {};
}

}  // namespace coronet
