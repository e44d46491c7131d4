// Bytes shown to a person (test failure reports, the readable form of protocol values): the
// same rendering everywhere, so that a payload reads alike in every message about it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace coronet::detail {

/// Appends `bytes` in quotes: printable ASCII as is, anything else (and the quote and the
/// backslash, so the text stays unambiguous) as \xNN; cut after `limit` bytes with the size.
inline void append_printable(std::string& out, std::string_view bytes, std::size_t limit) {
  constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (std::size_t i = 0; i < bytes.size() && i < limit; ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (byte >= 0x20 && byte < 0x7F && byte != '"' && byte != '\\') {
      out.push_back(static_cast<char>(byte));
    } else {
      out += "\\x";
      out.push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 0xF]);
    }
  }
  if (bytes.size() > limit) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  out.push_back('"');
}

}  // namespace coronet::detail
