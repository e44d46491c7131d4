// broadcast_hub: room membership and local delivery. A member may leave while a delivery is
// in progress (its connection failed inside the delivery): it is marked and erased afterwards,
// so the delivery loop never walks a freed node.
#include "coronet/broadcast/broadcast_hub.hpp"

#include <algorithm>
#include <chrono>

namespace coronet::broadcast {

void hub_counters::count(std::string_view room, message_counter which, std::uint64_t n) {
  add(totals_.*which, n);
  add(counters_of(room).*which, n);
}

message_counters& hub_counters::counters_of(std::string_view room) {
  if (const auto found = rooms_.find(room); found != rooms_.end()) return *found->second;
  const std::string_view name = rooms_.size() < max_counted_rooms ? room : other_rooms;
  if (const auto found = rooms_.find(name); found != rooms_.end()) return *found->second;
  const std::lock_guard lock{rooms_mutex_};
  return *rooms_.emplace(std::string{name}, std::make_unique<message_counters>()).first->second;
}

namespace {

template <typename Stats>
void read_messages(const message_counters& live, Stats& stats) {
  constexpr auto relaxed = std::memory_order_relaxed;
  stats.published = live.published.load(relaxed);
  stats.received = live.received.load(relaxed);
  stats.delivered = live.delivered.load(relaxed);
  stats.dropped = live.dropped.load(relaxed);
  stats.gaps = live.gaps.load(relaxed);
  stats.duplicates = live.duplicates.load(relaxed);
}

}  // namespace

hub_stats hub_counters::snapshot() const noexcept {
  constexpr auto relaxed = std::memory_order_relaxed;
  hub_stats stats;
  read_messages(totals_, stats);
  stats.malformed = malformed.load(relaxed);
  stats.reconnects = reconnects.load(relaxed);
  stats.outage_ms = outage_ms.load(relaxed);
  const std::int64_t since = outage_since_ns.load(relaxed);
  if (since != 0) {
    const std::int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    const std::int64_t ongoing_ns = now > since ? now - since : 0;
    stats.outage_ms += static_cast<std::uint64_t>(ongoing_ns / 1'000'000);
  }
  stats.queue_depth = queue_depth.load(relaxed);
  stats.queue_bytes = queue_bytes.load(relaxed);
  stats.connected = connected.load(relaxed);
  return stats;
}

std::vector<room_stats> hub_counters::room_snapshot() const {
  std::vector<room_stats> out;
  const std::lock_guard lock{rooms_mutex_};
  out.reserve(rooms_.size());
  for (const auto& [name, live] : rooms_) {
    room_stats& stats = out.emplace_back();
    stats.room = name;
    read_messages(*live, stats);
  }
  return out;
}

member_id broadcast_hub::join(const std::string& room, member_delivery deliver) {
  const member_id id = next_id_++;
  auto& members = rooms_[room];
  const bool opened = members.empty();
  members.emplace(id, std::move(deliver));
  room_of_.emplace(id, room);
  if (opened) room_opened(room);
  return id;
}

void broadcast_hub::leave(member_id member) {
  const auto found = room_of_.find(member);
  if (found == room_of_.end()) return;
  if (delivering_ > 0) {
    // Keep the node (a delivery loop may stand on it); it gets nothing more.
    auto& members = rooms_[found->second];
    if (const auto entry = members.find(member); entry != members.end()) entry->second = nullptr;
    departed_.push_back(member);
    return;
  }
  const std::string room = found->second;
  room_of_.erase(found);
  auto room_entry = rooms_.find(room);
  if (room_entry == rooms_.end()) return;
  room_entry->second.erase(member);
  if (room_entry->second.empty()) {
    rooms_.erase(room_entry);
    room_closed(room);
  }
}

void broadcast_hub::publish(const std::string& room, std::string_view message, member_id from) {
  counters_->count(room, &message_counters::published);
  deliver(room, message, from);
  forward(room, message);
}

void broadcast_hub::deliver_remote(const std::string& room, std::string_view message) {
  deliver(room, message, 0);
}

void broadcast_hub::deliver(const std::string& room, std::string_view message, member_id except) {
  const auto found = rooms_.find(room);
  if (found == rooms_.end()) return;
  ++delivering_;
  std::uint64_t delivered = 0;
  // A member joining during the loop is inserted into the map and may or may not be visited;
  // std::map insertion keeps the loop's iterator valid either way.
  for (auto& [id, deliver_to] : found->second) {
    if (id == except || !deliver_to) continue;
    deliver_to(message);
    ++delivered;
  }
  --delivering_;
  if (delivered > 0) counters_->count(room, &message_counters::delivered, delivered);
  if (delivering_ == 0 && !departed_.empty()) erase_departed();
}

void broadcast_hub::erase_departed() {
  std::vector<member_id> departed;
  departed.swap(departed_);
  for (const member_id member : departed)
    leave(member);
}

std::size_t broadcast_hub::members(const std::string& room) const {
  const auto found = rooms_.find(room);
  return found == rooms_.end() ? 0 : found->second.size();
}

std::vector<std::string> broadcast_hub::rooms() const {
  std::vector<std::string> names;
  names.reserve(rooms_.size());
  for (const auto& [name, members] : rooms_)
    names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace coronet::broadcast
