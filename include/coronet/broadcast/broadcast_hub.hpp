// broadcast_hub: named rooms of members; a message published to a room reaches every member of
// the room but its sender. The base class delivers to the members of this process; a backplane
// (redis_hub) also forwards publications to other instances and delivers theirs here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "coronet/broadcast/hub_counters.hpp"

namespace coronet::broadcast {

/// A member's handle in a hub; 0 is "no member".
using member_id = std::uint64_t;

/// How a hub hands a message to a member. It must not wait (queue the message, as
/// framed_connection::try_write does); it may call leave() or join().
using member_delivery = std::function<void(std::string_view message)>;

/// Rooms and members of one process, and delivery to them. Not thread-safe: use a hub from
/// one executor (thread); only counters() may be read from anywhere.
class broadcast_hub {
 public:
  broadcast_hub() = default;
  broadcast_hub(const broadcast_hub&) = delete;
  broadcast_hub& operator=(const broadcast_hub&) = delete;
  virtual ~broadcast_hub() = default;

  /// Adds a member to `room`: from now on it receives every message published to the room by
  /// anyone else, in the order each sender published them.
  member_id join(const std::string& room, member_delivery deliver);
  /// Removes a member; nothing is delivered to it afterwards. Unknown ids are ignored.
  void leave(member_id member);
  /// Publishes `message` to `room`: every local member but `from` gets it now, and a backplane
  /// forwards it to the room's members elsewhere. `from` 0: a publication from no member.
  void publish(const std::string& room, std::string_view message, member_id from = 0);

  /// Local members of `room`.
  std::size_t members(const std::string& room) const;
  /// Rooms with at least one local member.
  std::vector<std::string> rooms() const;
  /// The counters, read now (safe from any thread).
  hub_stats counters() const noexcept { return counters_->snapshot(); }
  /// Each room's message counters, read now (safe from any thread).
  std::vector<room_stats> room_counters() const { return counters_->room_snapshot(); }
  /// The live counters, for a reader that may outlive the hub (a metrics collector).
  std::shared_ptr<const hub_counters> shared_counters() const noexcept { return counters_; }
  /// Whether this hub relays through a backplane (its backplane counters mean something).
  virtual bool has_backplane() const noexcept { return false; }

 protected:
  /// A room got its first local member (a backplane subscribes to it).
  virtual void room_opened(const std::string& room) { (void)room; }
  /// A room lost its last local member (a backplane unsubscribes).
  virtual void room_closed(const std::string& room) { (void)room; }
  /// A local publication, after local delivery (a backplane sends it to other instances).
  virtual void forward(const std::string& room, std::string_view message) {
    (void)room;
    (void)message;
  }
  /// Delivers a message from another instance to every local member of `room`.
  void deliver_remote(const std::string& room, std::string_view message);

  const std::shared_ptr<hub_counters> counters_ = std::make_shared<hub_counters>();

 private:
  void deliver(const std::string& room, std::string_view message, member_id except);
  void erase_departed();

  // Members by room, in order of joining (ids grow).
  std::unordered_map<std::string, std::map<member_id, member_delivery>> rooms_;
  std::unordered_map<member_id, std::string> room_of_;
  std::vector<member_id> departed_;  // Left during a delivery: erased once it ends.
  member_id next_id_ = 1;
  int delivering_ = 0;
};

/// The in-process hub: rooms of this process only (what a single chat_server does).
class local_hub final : public broadcast_hub {};

}  // namespace coronet::broadcast
