// The envelope every backplane publication carries: which instance sent it (a random id per
// hub, made at its start), its sequence number in that room, and the room. Receivers skip
// their own publications, drop duplicates and count gaps per origin and room.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace coronet::broadcast::detail {

/// A parsed envelope; `payload` views into the text it was parsed from.
struct envelope {
  std::string_view instance;
  std::uint64_t sequence = 0;
  std::string_view room;
  std::string_view payload;
};

/// "1 INSTANCE SEQUENCE ROOM_LENGTH ROOM" then the payload: the room is length-prefixed, so any
/// bytes may appear in it and in the payload.
std::string wrap(std::string_view instance, std::uint64_t sequence, std::string_view room,
                 std::string_view payload);

/// Parses wrap()'s output; nullopt for anything else.
std::optional<envelope> unwrap(std::string_view text);

/// 16 random hex digits (std::random_device): an instance id.
std::string random_instance_id();

}  // namespace coronet::broadcast::detail
