// echo_server's echo, in the two forms a handler takes: callbacks (echo_callbacks, what
// echo_server runs) and a coroutine (echo_handler: every message back to its sender, the rest of
// a burst taken without suspending). A header of its own so that bench/idle_memory measures
// these very handlers (--coroutine for the second).
#pragma once
#include <string>
#include <system_error>

#include <asio/awaitable.hpp>
#include <asio/error.hpp>

#include <coronet/endpoint/callback_handler.hpp>
#include <coronet/error.hpp>

namespace samples {

// Echoes each message. A line that is not UTF-8 or too long is answered by the connection
// itself ("error: invalid UTF-8 (reason)": decode_error_policy::reply, the default) and reading
// goes on; a length-prefixed stream that lost its framing ends.
struct echo_handler {
  template <typename Connection>
  asio::awaitable<void> operator()(Connection& conn) const {
    // What this loop keeps across a wait is in its coroutine frame, which an idle connection
    // holds all its life: so the burst is echoed by a plain function (its message and error
    // live on the stack), and only a refused message's answer, when there is one, waits here.
    asio::awaitable<bool> answer;
    while (true) {
      switch (echo_arrived(conn, answer)) {
        case next_step::receive_more:
          // Over a socket this wait holds no coroutine frame: an idle connection holds this one.
          co_await conn.receive_more();
          break;
        case next_step::answer:
          if (!co_await std::move(answer)) co_return;
          break;
        case next_step::stop:
          co_return;
      }
    }
  }

  enum class next_step { receive_more, answer, stop };

  // Echoes what has arrived: messages are taken without suspending, and so is each reply while
  // the send queue has room (every co_await resumes the coroutine, even when there is nothing
  // to wait for, and that costs as much as the echo itself). Returns what the loop does next;
  // for next_step::answer, `answer` is set to the refused message's answer.
  template <typename Connection>
  static next_step echo_arrived(Connection& conn, asio::awaitable<bool>& answer) {
    auto message = conn.try_read();
    for (; message; message = conn.try_read()) {
      const std::error_code error = conn.has_room()
                                        ? conn.try_write(*message)
                                        : make_error_code(coronet::errc::send_queue_full);
      if (error) {
        answer = answer_refused(conn, *message, error);
        return next_step::answer;
      }
    }
    // Recoverable decode errors never get here: the connection answers them.
    return message.error() == asio::error::would_block ? next_step::receive_more : next_step::stop;
  }

  // A reply that could not be queued at once: wait for room in the send queue (the queue's
  // policy decides), or tell the peer why its message cannot come back. Returns whether the
  // connection goes on. A coroutine of its own, so that what it holds takes room only while it
  // runs. It takes the message by value (a view into the read buffer, valid until the next
  // read): the caller's copy is gone by the time it starts.
  template <typename Connection, typename Message>
  static asio::awaitable<bool> answer_refused(Connection& conn, Message message,
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

// The same echo as callbacks: over a socket a server runs it without a coroutine per
// connection, so an idle connection holds less (docs/handlers.md). Reading pauses while the send
// queue is full (send_queue_policy::wait), so each message finds room for its echo.
inline auto echo_callbacks() {
  return coronet::callbacks().on_message([](auto& conn, const auto& message) {
    const std::error_code error = conn.try_write(message);
    // A message the codec cannot send back ("x\r", decoded from "x\r\r\n") is refused alone;
    // the queue policy's own refusals (drop, disconnect) are answered the same way.
    if (error && conn.is_open()) conn.try_write("error: " + error.message());
  });
}

}  // namespace samples
