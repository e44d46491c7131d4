// echo_server's handler: every message back to its sender, the rest of a burst taken without
// suspending. A header of its own so that bench/idle_memory measures this very handler's frames.
#pragma once
#include <string>
#include <system_error>

#include <asio/awaitable.hpp>
#include <asio/error.hpp>

#include <coronet/error.hpp>

namespace samples {

// Echoes each message. A line that is not UTF-8 or too long is answered by the connection
// itself ("error: invalid UTF-8 (reason)": decode_error_policy::reply, the default) and reading
// goes on; a length-prefixed stream that lost its framing ends.
struct echo_handler {
  template <typename Connection>
  asio::awaitable<void> operator()(Connection& conn) const {
    while (true) {
      // Messages are taken without suspending, and so is each reply while the send queue has
      // room: every co_await resumes this coroutine, even when there is nothing to wait for,
      // and that costs as much as the echo itself.
      auto message = conn.try_read();
      while (message) {
        const std::error_code error = conn.has_room()
                                          ? conn.try_write(*message)
                                          : make_error_code(coronet::errc::send_queue_full);
        if (error && !co_await answer_refused(conn, *message, error)) co_return;
        message = conn.try_read();
      }
      // Recoverable decode errors never get here: the connection answers them.
      if (message.error() != asio::error::would_block) co_return;
      // Over a socket this wait holds no coroutine frame: an idle connection holds this one.
      co_await conn.receive_more();
    }
  }

  // A reply that could not be queued at once: wait for room in the send queue (the queue's
  // policy decides), or tell the peer why its message cannot come back. Returns whether the
  // connection goes on. A coroutine of its own, so that what it holds takes room in the echo
  // loop's frame, which every idle connection holds, only while it runs.
  template <typename Connection, typename Message>
  static asio::awaitable<bool> answer_refused(Connection& conn, const Message& message,
                                              std::error_code error) {
    if (error == coronet::errc::send_queue_full) error = co_await conn.write(message);
    if (!error) co_return true;
    if (!conn.is_open()) co_return false;
    // A message the codec cannot send back ("x\r", decoded from "x\r\r\n": a trailing '\r'
    // would not survive the trip) is refused alone; the connection goes on.
    const std::string reply = "error: " + error.message();
    co_await conn.write(reply);
    co_return true;
  }
};

}  // namespace samples
