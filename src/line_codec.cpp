// line_codec: a resumable newline scan (each byte is looked at once however input is split),
// then the length and UTF-8 checks on the complete line.
#include "coronet/codec/line_codec.hpp"

#include <algorithm>
#include <cstring>

#include "coronet/codec/utf8.hpp"
#include "coronet/error.hpp"

namespace coronet {
namespace {

using result = decode_result<std::string_view>;

constexpr std::string_view too_long_reason = "line longer than max_line_length";

std::size_t find_newline(std::string_view bytes, std::size_t from) noexcept {
  if (from >= bytes.size()) return std::string_view::npos;
  const void* found = std::memchr(bytes.data() + from, '\n', bytes.size() - from);
  return found == nullptr
             ? std::string_view::npos
             : static_cast<std::size_t>(static_cast<const char*>(found) - bytes.data());
}

std::string_view strip_carriage_return(std::string_view line) noexcept {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

result line_codec::decode(std::string_view buffered) {
  std::size_t dropped = 0;
  if (discarding_) {
    const std::size_t newline = find_newline(buffered, 0);
    if (newline == std::string_view::npos) return result::need_more(buffered.size());
    discarding_ = false;
    dropped = newline + 1;
    buffered.remove_prefix(dropped);
    scanned_ = 0;
  }

  const std::size_t newline =
      find_newline(buffered, std::min<std::size_t>(scanned_, buffered.size()));
  if (newline == std::string_view::npos) {
    // A line of max_line_length bytes may still be followed by "\r\n", so only more than
    // max_line_length + 1 bytes without '\n' proves the line too long (written so that a limit
    // of SIZE_MAX cannot overflow).
    if (buffered.size() > 1 && buffered.size() - 1 > max_line_length()) {
      scanned_ = 0;
      discarding_ = true;
      return result::failure(errc::frame_too_long, too_long_reason, dropped + buffered.size(),
                             true);
    }
    scanned_ = static_cast<std::uint32_t>(std::min<std::size_t>(buffered.size(), no_limit));
    return result::need_more(dropped);
  }
  scanned_ = 0;
  return finish_line(strip_carriage_return(buffered.substr(0, newline)), dropped + newline + 1);
}

result line_codec::decode_eof(std::string_view buffered) {
  result decoded = decode(buffered);
  if (!decoded.needs_more()) return decoded;
  const std::size_t dropped = decoded.consumed();
  const std::string_view rest = buffered.substr(dropped);
  scanned_ = 0;
  if (discarding_) {
    // The tail of an over-long line whose error was already reported.
    discarding_ = false;
    return result::need_more(buffered.size());
  }
  if (rest.empty()) return decoded;
  return finish_line(strip_carriage_return(rest), buffered.size());
}

result line_codec::finish_line(std::string_view line, std::size_t consumed) const {
  if (line.size() > max_line_length()) {
    return result::failure(errc::frame_too_long, too_long_reason, consumed, true);
  }
  if (validate_utf8_) {
    if (const utf8_verdict verdict = check_utf8(line); !verdict) {
      return result::failure(errc::invalid_utf8, describe(verdict.fault), consumed, true);
    }
  }
  return result::complete(line, consumed);
}

std::error_code line_codec::encode(std::string_view line, std::string& out) const {
  if (line.size() > max_line_length()) return errc::frame_too_long;
  if (line.find('\n') != std::string_view::npos) return errc::delimiter_in_message;
  // The decoder strips a '\r' before '\n', so a trailing '\r' would not survive the round trip.
  if (!line.empty() && line.back() == '\r') return errc::delimiter_in_message;
  if (validate_utf8_ && !is_valid_utf8(line)) return errc::invalid_utf8;
  out.append(line);
  out.push_back('\n');
  return {};
}

std::error_code line_codec::encode_decoded(std::string_view line, std::string& out) const {
  if (!line.empty() && line.back() == '\r') return errc::delimiter_in_message;
  out.append(line);
  out.push_back('\n');
  return {};
}

}  // namespace coronet
