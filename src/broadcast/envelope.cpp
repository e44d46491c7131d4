// The backplane envelope: "1 INSTANCE SEQUENCE ROOM_LENGTH ROOM" + payload.
#include "coronet/broadcast/detail/envelope.hpp"

#include <charconv>
#include <random>

namespace coronet::broadcast::detail {
namespace {

// Takes the text up to the next space and the space; nullopt if there is no space.
std::optional<std::string_view> take_field(std::string_view& text) {
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos || space == 0) return std::nullopt;
  const std::string_view field = text.substr(0, space);
  text.remove_prefix(space + 1);
  return field;
}

std::optional<std::uint64_t> to_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string wrap(std::string_view instance, std::uint64_t sequence, std::string_view room,
                 std::string_view payload) {
  std::string out;
  out.reserve(instance.size() + room.size() + payload.size() + 32);
  out.append("1 ").append(instance).push_back(' ');
  out.append(std::to_string(sequence)).push_back(' ');
  out.append(std::to_string(room.size())).push_back(' ');
  out.append(room).append(payload);
  return out;
}

std::optional<envelope> unwrap(std::string_view text) {
  const auto version = take_field(text);
  if (!version || *version != "1") return std::nullopt;
  const auto instance = take_field(text);
  const auto sequence_text = take_field(text);
  const auto room_length_text = take_field(text);
  if (!instance || !sequence_text || !room_length_text) return std::nullopt;
  const auto sequence = to_number(*sequence_text);
  const auto room_length = to_number(*room_length_text);
  if (!sequence || !room_length || *room_length > text.size()) return std::nullopt;
  envelope parsed;
  parsed.instance = *instance;
  parsed.sequence = *sequence;
  parsed.room = text.substr(0, static_cast<std::size_t>(*room_length));
  parsed.payload = text.substr(static_cast<std::size_t>(*room_length));
  return parsed;
}

std::string random_instance_id() {
  std::random_device device;
  std::uniform_int_distribution<unsigned> digit{0, 15};
  std::string id(16, '0');
  for (char& c : id)
    c = "0123456789abcdef"[digit(device)];
  return id;
}

}  // namespace coronet::broadcast::detail
