// chat_member: one member of a chat_room, whatever carries it: a line connection (TCP, TLS, a
// Unix socket, the in-memory stream of the tests) or a WebSocket connection (the chat page). The
// room sees only this interface, so both kinds share one room, one cap and one broadcast. A
// chat_line is a relayed line framed at most once per kind of member, not once per recipient.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <typeinfo>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>
#include <coronet/codec/line_codec.hpp>
#include <coronet/read_result.hpp>
#include <coronet/stream/encoded_message.hpp>

namespace samples {

/// A line on its way to the room's members, with its framings made on first use and shared by
/// every member of the same kind. Lives on the broadcast's frame while members write it.
class chat_line {
 public:
  explicit chat_line(std::string text) : text_{std::move(text)} {}

  const std::string& text() const noexcept { return text_; }

  /// The line framed as an `Encoded`, made by `make()` the first time it is asked for. Members
  /// of one kind must frame alike (the same codec options), as encoded_message requires.
  template <typename Encoded, typename Make>
  const Encoded& framed(Make make) const {
    for (const framing& known : framings_) {
      if (*known.type == typeid(Encoded)) return *static_cast<const Encoded*>(known.bytes.get());
    }
    auto made = std::make_shared<const Encoded>(make());
    const Encoded& result = *made;
    framings_.push_back(framing{&typeid(Encoded), std::move(made)});
    return result;
  }

 private:
  struct framing {
    const std::type_info* type;
    std::shared_ptr<const void> bytes;
  };
  std::string text_;
  mutable std::vector<framing> framings_;  // One per kind of member: two at most here.
};

/// A member of a chat_room, type-erased: what the room needs from a connection.
class chat_member {
 public:
  virtual ~chat_member() = default;

  /// The member's next line (a WebSocket member's next text message), or why there is none.
  virtual asio::awaitable<coronet::read_result<std::string_view>> read() = 0;
  /// Whether `line` can reach every member: it must be a line a line client can read (UTF-8,
  /// no newline, within the line limit), whichever kind of member sent it.
  virtual std::error_code check(const chat_line& line) = 0;
  /// Queues `line`, waiting for room in the send queue under send_queue_policy::wait.
  virtual asio::awaitable<std::error_code> write(const chat_line& line) = 0;
  /// Queues `line` without waiting (a full queue drops it or disconnects, by the policy).
  virtual std::error_code try_write(const chat_line& line) = 0;
  /// Queues `text` for this member alone (a reply, a hub's delivery), without waiting.
  virtual std::error_code try_write_text(std::string_view text) = 0;
  /// Sends `text` to this member alone (an error reply), waiting for room if need be.
  virtual asio::awaitable<std::error_code> reply(std::string text) = 0;
  /// Whether the member wants the room's events ("* NAME joined"): the chat page does, a line
  /// client (nc, chat_client) reads chat lines only.
  virtual bool hears_events() const noexcept = 0;
  /// Closes the connection now (wakes writers waiting on it).
  virtual void close() = 0;
};

/// A chat_member over a connection with the line connection's shapes: read() yields string_view
/// lines, write() and try_write() take text or an encoded message. A connection that frames
/// messages as WebSocket text (it has encode_text()) hears the room's events.
template <typename Connection>
class chat_member_of final : public chat_member {
 public:
  explicit chat_member_of(Connection& connection) : connection_{connection} {}

  asio::awaitable<coronet::read_result<std::string_view>> read() override {
    return connection_.read();
  }

  std::error_code check(const chat_line& line) override {
    if constexpr (is_websocket) {
      // The text reaches line clients too: it must be a line they can read.
      std::string scratch;
      return coronet::line_codec{}.encode(line.text(), scratch);
    } else {
      return encoded(line).error();
    }
  }

  asio::awaitable<std::error_code> write(const chat_line& line) override {
    return connection_.write(encoded(line));
  }

  std::error_code try_write(const chat_line& line) override {
    return connection_.try_write(encoded(line));
  }

  std::error_code try_write_text(std::string_view text) override {
    return connection_.try_write(text);
  }

  asio::awaitable<std::error_code> reply(std::string text) override {
    co_return co_await connection_.write(std::string_view{text});
  }

  bool hears_events() const noexcept override { return is_websocket; }

  void close() override { connection_.close(); }

 private:
  static constexpr bool is_websocket = requires(const Connection& c, std::string_view text) {
    c.encode_text(text);
  };

  const auto& encoded(const chat_line& line) {
    if constexpr (is_websocket) {
      using frame = typename Connection::encoded_text;
      return line.framed<frame>([&] { return connection_.encode_text(line.text()); });
    } else {
      using frame = coronet::encoded_message<typename Connection::codec_type>;
      return line.framed<frame>([&] { return frame{connection_.codec(), line.text()}; });
    }
  }

  Connection& connection_;
};

}  // namespace samples
