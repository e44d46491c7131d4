// How the codec conformance kit keeps and prints decoded messages. A message may view into the
// buffer it was decoded from (std::string_view, or a struct holding one), and the kit compares
// messages long after that buffer is gone: it keeps each one in an owned form, which a codec's
// author declares here for such a message, and prints that form in its failure reports.
#pragma once

#include <concepts>
#include <cstddef>
#include <ostream>
#include <ranges>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

#include "coronet/detail/printable_bytes.hpp"
#include "coronet/owned_message.hpp"

namespace coronet::testing {

/// How the kit keeps a decoded `Message` once the buffer it was decoded from is gone:
///
/// - `type`: a copy that owns its data; default-constructible and equality-comparable;
/// - `static type copy(const Message&)`: makes one;
/// - optionally `static std::string format(const type&)`: how failure reports show it.
///
/// The default keeps a message in its owned form as the library declares it everywhere
/// (coronet::owned_message: std::string for std::string_view, else the message itself, which
/// is right for a message that owns its data). For a message that views into the decode buffer
/// (a struct holding a std::string_view or a std::span), specialise coronet::owned_message — a
/// datagram server then keeps it the same way — or this trait, to add format(): the kit
/// reports a kept form that still views into the buffer rather than compare freed bytes.
template <typename Message>
struct owned_form {
  using type = owned_message_t<Message>;

  static type copy(const Message& message) { return type(message); }
};

/// The type the kit keeps a `Message` as.
template <typename Message>
using owned_form_t = typename owned_form<Message>::type;

namespace detail {

template <typename Message>
concept has_declared_format = requires(const owned_form_t<Message>& kept) {
  { owned_form<Message>::format(kept) } -> std::convertible_to<std::string>;
};

template <typename T>
concept streamable = requires(std::ostream& out, const T& value) {
  out << value;
};

// Containers of raw bytes (std::vector<std::uint8_t>, std::array<std::byte, N>, ...).
template <typename T>
concept byte_container = std::ranges::contiguous_range<const T> &&
                             sizeof(std::ranges::range_value_t<const T>) == 1 &&
                         (std::integral<std::ranges::range_value_t<const T>> ||
                          std::same_as<std::ranges::range_value_t<const T>, std::byte>);

// Plain structs whose bytes are all value bits (no padding, no pointers the bytes would hide).
template <typename T>
concept plain_bytes =
    std::is_trivially_copyable_v<T> && std::has_unique_object_representations_v<T>;

/// Text in quotes, with bytes that are not printable ASCII as \xNN; cut after `limit` bytes.
inline std::string printable(std::string_view bytes, std::size_t limit = 40) {
  std::string out;
  coronet::detail::append_printable(out, bytes, limit);
  return out;
}

/// "bytes 01 ff 2a"; cut after `limit` bytes.
inline std::string hex_bytes(const void* data, std::size_t size, std::size_t limit = 40) {
  constexpr char hex[] = "0123456789abcdef";
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::string out = "bytes";
  for (std::size_t i = 0; i < size && i < limit; ++i) {
    out += ' ';
    out.push_back(hex[bytes[i] >> 4]);
    out.push_back(hex[bytes[i] & 0xF]);
  }
  if (size > limit) out += " ...(" + std::to_string(size) + " bytes)";
  return out;
}

/// Whether failure reports can show a kept `Message` (else they say "(no formatter)").
template <typename Message>
constexpr bool can_format =
    has_declared_format<Message> ||
    std::is_convertible_v<const owned_form_t<Message>&, std::string_view> ||
    streamable<owned_form_t<Message>> || byte_container<owned_form_t<Message>> ||
    plain_bytes<owned_form_t<Message>>;

/// A kept message as failure reports show it, by the first way that applies: the declared
/// format(), text in quotes, operator<<, then its bytes in hex. Needs can_format<Message>.
template <typename Message>
std::string format_kept(const owned_form_t<Message>& kept) {
  using kept_type = owned_form_t<Message>;
  if constexpr (has_declared_format<Message>) {
    return std::string{owned_form<Message>::format(kept)};
  } else if constexpr (std::is_convertible_v<const kept_type&, std::string_view>) {
    return printable(kept);
  } else if constexpr (streamable<kept_type>) {
    std::ostringstream out;
    out << kept;
    return out.str();
  } else if constexpr (byte_container<kept_type>) {
    return hex_bytes(std::ranges::data(kept), std::ranges::size(kept));
  } else {
    static_assert(plain_bytes<kept_type>, "format_kept needs can_format<Message>");
    return hex_bytes(&kept, sizeof kept);
  }
}

}  // namespace detail

}  // namespace coronet::testing
