// The load generator's messages: every line is unique and can be checked exactly without
// keeping a copy. Message `seq` of connection `id`, `size` bytes with its '\n':
//
//   "<id hex>.<seq hex>." + printable padding that depends on (id, seq) + "\n"
//
// so an echo that was reordered, duplicated, truncated, corrupted or sent to the wrong
// connection never matches.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace load {

/// The smallest message size accepted on the command line: a header for up to 2^20 connections
/// and 2^60 messages each, and '\n'. append_message() throws if a header does not fit.
inline constexpr std::size_t min_message_size = 24;

namespace detail {

inline constexpr std::size_t pattern_period = 61;  // Prime: (id, seq) pairs shift it differently.

/// Printable ASCII, repeated, long enough for any padding of a message of `size` bytes.
inline const std::string& padding_pattern(std::size_t size) {
  static std::string pattern;
  if (pattern.size() < size + pattern_period) {
    pattern.resize(size + pattern_period);
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      pattern[i] =
          static_cast<char>('0' + (i % pattern_period) + (i % pattern_period >= 10 ? 7 : 0));
    }
  }
  return pattern;
}

inline std::size_t padding_offset(std::uint64_t id, std::uint64_t seq) {
  return static_cast<std::size_t>((seq * 7 + id * 13) % pattern_period);
}

/// Writes "<id>.<seq>." in hex into `out` (at least 34 bytes); returns its length.
inline std::size_t write_header(char* out, std::uint64_t id, std::uint64_t seq) {
  char* end = std::to_chars(out, out + 16, id, 16).ptr;
  *end++ = '.';
  end = std::to_chars(end, end + 16, seq, 16).ptr;
  *end++ = '.';
  return static_cast<std::size_t>(end - out);
}

}  // namespace detail

/// Appends message `seq` of connection `id`, exactly `size` bytes ending in '\n'.
inline void append_message(std::string& out, std::uint64_t id, std::uint64_t seq,
                           std::size_t size) {
  char header[40];
  const std::size_t header_size = detail::write_header(header, id, seq);
  if (header_size + 1 > size) throw std::length_error("message size too small for its header");
  const std::string& pattern = detail::padding_pattern(size);
  const std::size_t padding = size - header_size - 1;
  const std::size_t at = out.size();
  out.resize(at + size);
  char* dest = out.data() + at;
  std::memcpy(dest, header, header_size);
  std::memcpy(dest + header_size, pattern.data() + detail::padding_offset(id, seq), padding);
  dest[size - 1] = '\n';
}

/// Whether `line` (without its '\n') is exactly message `seq` of connection `id`.
inline bool is_message(std::string_view line, std::uint64_t id, std::uint64_t seq,
                       std::size_t size) {
  if (line.size() + 1 != size) return false;
  char header[40];
  const std::size_t header_size = detail::write_header(header, id, seq);
  const std::string& pattern = detail::padding_pattern(size);
  return std::memcmp(line.data(), header, header_size) == 0 &&
         std::memcmp(line.data() + header_size, pattern.data() + detail::padding_offset(id, seq),
                     line.size() - header_size) == 0;
}

/// The (id, seq) a message line claims to be, or nothing if it has no valid header.
struct message_header {
  std::uint64_t id;
  std::uint64_t seq;
};
inline std::optional<message_header> parse_header(std::string_view line) {
  message_header header{};
  const char* const end = line.data() + line.size();
  auto [after_id, id_error] = std::from_chars(line.data(), end, header.id, 16);
  if (id_error != std::errc{} || after_id == end || *after_id != '.') return std::nullopt;
  auto [after_seq, seq_error] = std::from_chars(after_id + 1, end, header.seq, 16);
  if (seq_error != std::errc{} || after_seq == end || *after_seq != '.') return std::nullopt;
  return header;
}

/// A printable excerpt of a line for error messages.
inline std::string excerpt(std::string_view line) {
  std::string shown{line.substr(0, 60)};
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  if (line.size() > 60) shown += "...";
  return "'" + shown + "' (" + std::to_string(line.size()) + " bytes)";
}

}  // namespace load
