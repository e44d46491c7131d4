// chat_room: the state and logic of chat_server, apart from sockets so that a test can drive it
// on coronet::testing::memory_stream. Every line a member sends goes to every *other* member as
// "[NAME] line", in the order that member sent them; "exit" ends the member's session; a line
// that is not UTF-8 or too long gets an "error: ..." line back and the session goes on. (Over
// TLS, a last line without its newline from a peer that ended TCP without close_notify never
// reaches the room: read() reports errc::truncated_frame for it instead.) Given a broadcast hub,
// the room is the hub's room of that name instead: a Redis hub spans several chat_servers.
// Members of any kind share the room (chat_member.hpp): line clients and WebSocket clients (the
// chat page), which also hear the room's events: "* you are NAME" when they join, then
// "* NAME joined" and "* NAME left" for the others here (never a chat line: those start "[").
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <coronet/broadcast/broadcast_hub.hpp>
#include <coronet/metrics/counter.hpp>
#include <coronet/metrics/gauge.hpp>
#include <coronet/stream/connection_options.hpp>

#include "chat_member.hpp"

namespace samples {

/// A chat room whose members are line-framed connections (framed_connection<line_codec, Stream>)
/// or WebSocket connections, in any mix. Not thread-safe: every member's session runs on the
/// same executor (thread).
class chat_room {
 public:
  /// `policy` must be the members' send_queue_policy: with `wait` a broadcast waits for room
  /// in a slow member's queue (that sender pauses); with `disconnect` or `drop` it never waits.
  explicit chat_room(coronet::send_queue_policy policy) : policy_{policy} {}

  /// A room relayed through `hub` (room `room_name`): lines go to the hub's members, here and
  /// on other instances. Delivery never waits: a member whose queue is full loses the line (or
  /// is disconnected, by its policy), since the hub cannot pause a sender on another machine.
  chat_room(coronet::send_queue_policy policy, coronet::broadcast::broadcast_hub& hub,
            std::string room_name)
      : policy_{policy}, hub_{&hub}, hub_room_{std::move(room_name)} {}

  chat_room(const chat_room&) = delete;
  chat_room& operator=(const chat_room&) = delete;

  /// Counts the members here now in `members` and each relayed line once (whatever the number
  /// of recipients) in `relayed`. Both must outlive the room. Call before the first join().
  void count_into(coronet::metrics::gauge& members, coronet::metrics::counter& relayed) {
    members_gauge_ = &members;
    relayed_counter_ = &relayed;
  }

  /// Serves one member until it sends "exit", closes, fails, or its session is cancelled (the
  /// server stops). `name` labels its lines for the others. Does not throw for network events.
  template <typename Connection>
  asio::awaitable<void> join(Connection& connection, std::string name) {
    chat_member_of<Connection> member{connection};
    co_await join_member(member, std::move(name));
  }

  /// join() for a member already wrapped (its connection must outlive the call).
  asio::awaitable<void> join_member(chat_member& connection, std::string name) {
    // A cancelled session (server stop) must still leave the room properly: network events
    // come back as values, and the awaits below must not throw operation_aborted.
    co_await asio::this_coro::throw_if_cancelled(false);
    if (members_gauge_ != nullptr) members_gauge_->add();
    if (hub_ != nullptr) {
      co_await join_hub(connection, std::move(name));
    } else {
      co_await join_local(connection, std::move(name));
    }
    if (members_gauge_ != nullptr) members_gauge_->sub();
  }

  /// Members in the room now.
  std::size_t size() const { return hub_ != nullptr ? hub_->members(hub_room_) : members_.size(); }

 private:
  struct member {
    chat_member* connection;
    std::string name;
    std::size_t writers = 0;  // Broadcasts suspended in a write to this member.
    bool leaving = false;
  };
  using member_iterator = std::list<member>::iterator;

  // The session in a room of this process: every line written to every other member here.
  asio::awaitable<void> join_local(chat_member& connection, std::string name) {
    const auto self = members_.insert(members_.end(), member{&connection, std::move(name)});
    announce(self, "* " + self->name + " joined");
    while (true) {
      // A line that is too long or not UTF-8 is answered by the connection itself
      // ("error: invalid UTF-8 (reason)", decode_error_policy::reply) and never relayed.
      auto line = co_await connection.read();
      if (!line || *line == "exit") break;
      // Framed once per kind of member (one UTF-8 check and copy, not one per recipient).
      const chat_line relayed{"[" + self->name + "] " + std::string{*line}};
      if (const std::error_code error = connection.check(relayed)) {
        // A line the codec cannot frame again ("x\r", decoded from "x\r\r\n": a trailing '\r'
        // would not survive the trip; a WebSocket message with a newline in it): say so to its
        // sender rather than relay nothing.
        co_await connection.reply("error: " + error.message() + " (not relayed)");
        continue;
      }
      if (relayed_counter_ != nullptr) relayed_counter_->add();
      co_await broadcast(self, relayed);
    }
    co_await leave(self);
  }

  // The same session, with the hub delivering: each member is a try_write to its connection.
  asio::awaitable<void> join_hub(chat_member& connection, std::string name) {
    const coronet::broadcast::member_id self = hub_->join(
        hub_room_, [&connection](std::string_view line) { connection.try_write_text(line); });
    if (connection.hears_events()) connection.try_write_text("* you are " + name);
    while (true) {
      auto line = co_await connection.read();
      if (!line || *line == "exit") break;
      const chat_line relayed{"[" + name + "] " + std::string{*line}};
      if (const std::error_code error = connection.check(relayed)) {
        co_await connection.reply("error: " + error.message() + " (not relayed)");
        continue;
      }
      if (relayed_counter_ != nullptr) relayed_counter_->add();
      hub_->publish(hub_room_, relayed.text(), self);
    }
    hub_->leave(self);
  }

  // Tells `who` its name and the other members here who hear events that `event` happened.
  // Never waits: an event is not worth pausing anyone for.
  void announce(member_iterator who, const std::string& event) {
    if (who->connection->hears_events()) who->connection->try_write_text("* you are " + who->name);
    for (auto it = members_.begin(); it != members_.end(); ++it) {
      if (it != who && !it->leaving && it->connection->hears_events()) {
        it->connection->try_write_text(event);
      }
    }
  }

  asio::awaitable<void> broadcast(member_iterator from, const chat_line& text) {
    for (auto it = members_.begin(); it != members_.end(); ++it) {
      if (it == from || it->leaving) continue;
      if (policy_ != coronet::send_queue_policy::wait) {
        // Never waits: a full queue drops the line or disconnects that member (its policy).
        it->connection->try_write(text);
        continue;
      }
      // May wait for room; the member's node stays in the list while we do (see leave()).
      ++it->writers;
      co_await it->connection->write(text);
      --it->writers;
    }
  }

  asio::awaitable<void> leave(member_iterator self) {
    self->leaving = true;  // No new broadcast writes to it from now on.
    for (auto it = members_.begin(); it != members_.end(); ++it) {
      if (it != self && !it->leaving && it->connection->hears_events()) {
        it->connection->try_write_text("* " + self->name + " left");
      }
    }
    if (self->writers > 0) {
      // Broadcasts wait for room in this member's queue, and their loops still point at this
      // member's list node. Close the connection to wake them at once (their write returns
      // connection_closed) and let them move on before the node is erased.
      self->connection->close();
      const asio::any_io_executor executor = co_await asio::this_coro::executor;
      while (self->writers > 0)
        co_await asio::post(executor, asio::use_awaitable);
    }
    members_.erase(self);
  }

  coronet::send_queue_policy policy_;
  std::list<member> members_;
  coronet::broadcast::broadcast_hub* hub_ = nullptr;  // Set: the room is the hub's.
  std::string hub_room_;
  coronet::metrics::gauge* members_gauge_ = nullptr;      // Set by count_into().
  coronet::metrics::counter* relayed_counter_ = nullptr;  // Set by count_into().
};

}  // namespace samples
