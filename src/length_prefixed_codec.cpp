// length_prefixed_codec: header parsing and framing. Decoding keeps no scan state: an incomplete
// frame costs one header read per call, so any split of the input is still O(n) in total.
#include "coronet/codec/length_prefixed_codec.hpp"

#include <cstdint>
#include <limits>
#include <stdexcept>

#include "coronet/error.hpp"

namespace coronet {
namespace {

using result = decode_result<std::string_view>;

std::uint64_t read_header(std::string_view bytes, std::size_t width, byte_order order) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const std::size_t index = order == byte_order::big_endian ? i : width - 1 - i;
    value = (value << 8) | static_cast<unsigned char>(bytes[index]);
  }
  return value;
}

void write_header(std::string& out, std::uint64_t value, std::size_t width, byte_order order) {
  for (std::size_t i = 0; i < width; ++i) {
    const std::size_t shift = order == byte_order::big_endian ? (width - 1 - i) * 8 : i * 8;
    out.push_back(static_cast<char>((value >> shift) & 0xFFU));
  }
}

std::uint64_t largest_header_value(std::size_t width) noexcept {
  return width >= 8 ? std::numeric_limits<std::uint64_t>::max()
                    : (std::uint64_t{1} << (width * 8)) - 1;
}

}  // namespace

length_prefixed_codec::length_prefixed_codec(length_prefixed_options options) : options_{options} {
  const std::size_t width = options_.header_width;
  if (width != 1 && width != 2 && width != 4 && width != 8) {
    throw std::invalid_argument("length_prefixed_codec: header_width must be 1, 2, 4 or 8");
  }
}

result length_prefixed_codec::decode(std::string_view buffered) {
  if (failure_) return result::failure(failure_, failure_reason_, buffered.size(), false);
  const std::size_t width = options_.header_width;
  if (buffered.size() < width) return result::need_more();

  std::uint64_t length = read_header(buffered, width, options_.order);
  if (options_.length_includes_header) {
    if (length < width) {
      return fail(errc::bad_length, "length header smaller than the header itself",
                  buffered.size());
    }
    length -= width;
  }
  if (length > options_.max_frame_length) {
    return fail(errc::frame_too_long, "frame longer than max_frame_length", buffered.size());
  }
  if (buffered.size() - width < length) return result::need_more();
  return result::complete(buffered.substr(width, length), width + length);
}

result length_prefixed_codec::decode_eof(std::string_view buffered) {
  result decoded = decode(buffered);
  if (!decoded.needs_more() || buffered.empty()) return decoded;
  return fail(errc::truncated_frame, "stream ended inside a frame", buffered.size());
}

std::error_code length_prefixed_codec::encode(std::string_view payload, std::string& out) const {
  const std::size_t width = options_.header_width;
  if (payload.size() > options_.max_frame_length) return errc::frame_too_long;
  const std::uint64_t length = payload.size() + (options_.length_includes_header ? width : 0);
  if (length > largest_header_value(width)) return errc::frame_too_long;
  write_header(out, length, width, options_.order);
  out.append(payload);
  return {};
}

result length_prefixed_codec::fail(std::error_code error, std::string_view reason,
                                   std::size_t consumed) {
  failure_ = error;
  failure_reason_ = reason;
  return result::failure(error, reason, consumed, false);
}

}  // namespace coronet
