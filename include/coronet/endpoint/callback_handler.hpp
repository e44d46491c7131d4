// The callback form of a handler (on_connect / on_message / on_error / on_disconnect): for servers
// whose per-connection logic is "react to each message". A coroutine handler like any other, and
// its steps for a server to run without a coroutine where the connection allows it.
#pragma once

#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/error.hpp>

#include "coronet/error.hpp"
#include "coronet/stream/connection_options.hpp"

namespace coronet {

namespace detail {
struct ignore_callback {
  template <typename... Args>
  void operator()(Args&&...) const noexcept {}
};

template <typename T>
struct is_awaitable : std::false_type {};
template <typename T, typename Executor>
struct is_awaitable<asio::awaitable<T, Executor>> : std::true_type {};
}  // namespace detail

/// A handler made of callbacks. Build it with coronet::callbacks() and the on_* setters:
///
///   server.serve<coronet::line_codec>(coronet::callbacks()
///       .on_connect([](auto& conn) { ... })
///       .on_message([](auto& conn, std::string_view line) { conn.try_write(line); })
///       .on_disconnect([](auto& conn, std::error_code why) { ... }));
///
/// on_message may return void; bool, false ending the connection as a coroutine handler's
/// return does (what is queued is sent first; on_disconnect gets an empty error code); or
/// asio::awaitable<void> to co_await inside (conn.write()).
/// on_error(conn, error, reason) sees recoverable codec errors (an over-long or non-UTF-8 line);
/// reading goes on after it. Setting on_error makes the connection report those errors to it
/// instead of answering them (connection_options::decode_errors). on_disconnect(conn, why) runs
/// once at the end, why being the read error (asio::error::eof for a clean close) or
/// operation_aborted when the server stops.
///
/// With send_queue_policy::wait (the default) reading pauses while the send queue is full, so
/// an on_message that answers a message with one try_write() never finds the queue full. A
/// server runs a handler whose on_message never waits (returns void or bool) without a
/// coroutine per connection (over every transport: TCP, Unix sockets, TLS, WebSocket): an idle
/// connection then holds its pending wait and nothing more (docs/handlers.md, "Handlers without
/// a coroutine").
template <typename OnConnect, typename OnMessage, typename OnError, typename OnDisconnect>
class callback_handler {
  template <typename Connection>
  using message_result = decltype(std::declval<const OnMessage&>()(
      std::declval<Connection&>(),
      *std::declval<decltype(std::declval<Connection&>().try_read())&>()));

  // Whether reading can pause while the send queue is full (framed_connection can).
  template <typename Connection>
  static constexpr bool pauses_for_room = requires(Connection& connection) {
    connection.has_room();
    connection.wait_for_room();
    connection.options().queue_policy;
  };

 public:
  callback_handler(OnConnect on_connect, OnMessage on_message, OnError on_error,
                   OnDisconnect on_disconnect)
      : on_connect_{std::move(on_connect)},
        on_message_{std::move(on_message)},
        on_error_{std::move(on_error)},
        on_disconnect_{std::move(on_disconnect)} {}

  template <typename F>
  auto on_connect(F f) && {
    return callback_handler<F, OnMessage, OnError, OnDisconnect>{
        std::move(f), std::move(on_message_), std::move(on_error_), std::move(on_disconnect_)};
  }
  template <typename F>
  auto on_message(F f) && {
    return callback_handler<OnConnect, F, OnError, OnDisconnect>{
        std::move(on_connect_), std::move(f), std::move(on_error_), std::move(on_disconnect_)};
  }
  template <typename F>
  auto on_error(F f) && {
    return callback_handler<OnConnect, OnMessage, F, OnDisconnect>{
        std::move(on_connect_), std::move(on_message_), std::move(f), std::move(on_disconnect_)};
  }
  template <typename F>
  auto on_disconnect(F f) && {
    return callback_handler<OnConnect, OnMessage, OnError, F>{
        std::move(on_connect_), std::move(on_message_), std::move(on_error_), std::move(f)};
  }

  /// The coroutine handler: what a server calls for each connection. A server runs a handler
  /// whose on_message never waits without this coroutine where the connection allows it (see
  /// runs_without_coroutine): the same steps, from the connection's completions.
  template <typename Connection>
  asio::awaitable<void> operator()(Connection& connection) const {
    start(connection);
    if constexpr (detail::is_awaitable<message_result<Connection>>::value) {
      // An on_message that waits: every message in this coroutine.
      std::error_code why;
      try {
        while (true) {
          // A burst without suspending, and a wait that holds no frame of its own (see
          // framed_connection::try_read and receive_more).
          auto message = connection.try_read();
          while (message.error() != asio::error::would_block) {
            if (message) {
              co_await on_message_(connection, *message);
            } else if (message.recoverable()) {
              on_error_(connection, message.error(), message.reason());
            } else {
              why = message.error();
              break;
            }
            message = connection.try_read();
          }
          if (why) break;
          co_await connection.receive_more();
        }
      } catch (const std::system_error& error) {
        // Cancellation (server stop) surfaces as operation_aborted; anything else is the handler's.
        if (error.code() != asio::error::operation_aborted) throw;
        why = error.code();
      }
      finish(connection, why);
    } else {
      while (true) {
        std::error_code next = take_arrived(connection);
        if (next == asio::error::would_block) {
          co_await connection.receive_more();
          continue;
        }
        if constexpr (pauses_for_room<Connection>) {
          if (next == errc::send_queue_full) {
            next = co_await connection.wait_for_room();
            if (!next) continue;
          }
        }
        finish(connection, next);
        co_return;
      }
    }
  }

  // ---- the steps, for a server that runs them without a coroutine ---------------------------

  /// Whether a server may run this handler on `Connection` without a coroutine per connection:
  /// on_message never waits (returns void or bool), and the connection can wait for input and for
  /// room with plain completions (framed_connection over any stream).
  template <typename Connection>
  static constexpr bool runs_without_coroutine =
      !detail::is_awaitable<message_result<Connection>>::value &&
      requires(Connection & connection, detail::ignore_callback resume) {
    connection.receive_then(resume);
    connection.when_room(resume);
    connection.cancel_waits();
  };

  /// The connection begins: on_connect.
  template <typename Connection>
  void start(Connection& connection) const {
    // An on_error callback answers recoverable decode errors itself; without one, the
    // connection's decode_errors policy (reply by default) does.
    if constexpr (!std::is_same_v<OnError, detail::ignore_callback>) {
      connection.set_decode_errors(decode_error_policy::report);
    }
    on_connect_(connection);
  }

  /// Hands every message that has arrived to on_message (recoverable decode errors to
  /// on_error) without waiting. Returns what to wait for next: asio::error::would_block for
  /// more input, errc::send_queue_full for room in the send queue (with
  /// send_queue_policy::wait, reading pauses while the queue is full, so a message on_message
  /// answers with try_write() always finds room); or else why the connection ends (empty when
  /// on_message returned false).
  template <typename Connection>
  std::error_code take_arrived(Connection& connection) const {
    static_assert(!detail::is_awaitable<message_result<Connection>>::value,
                  "an on_message that returns asio::awaitable runs in the coroutine handler");
    try {
      while (true) {
        if constexpr (pauses_for_room<Connection>) {
          if (!connection.has_room() &&
              connection.options().queue_policy == send_queue_policy::wait &&
              connection.is_open()) {
            return errc::send_queue_full;
          }
        }
        auto message = connection.try_read();
        if (message) {
          if constexpr (std::is_same_v<message_result<Connection>, bool>) {
            if (!on_message_(connection, *message)) return {};  // The handler is done.
          } else {
            on_message_(connection, *message);
          }
        } else if (message.recoverable()) {
          on_error_(connection, message.error(), message.reason());
        } else {
          return message.error();
        }
      }
    } catch (const std::system_error& error) {
      // Cancellation (server stop) surfaces as operation_aborted; anything else is the handler's.
      if (error.code() != asio::error::operation_aborted) throw;
      return error.code();
    }
  }

  /// The connection ends, `why` being the read error (asio::error::eof for a clean close),
  /// operation_aborted when the server stops, or empty when on_message ended it: on_disconnect.
  template <typename Connection>
  void finish(Connection& connection, std::error_code why) const {
    on_disconnect_(connection, why);
  }

 private:
  OnConnect on_connect_;
  OnMessage on_message_;
  OnError on_error_;
  OnDisconnect on_disconnect_;
};

/// An empty callback handler to add on_* callbacks to (each defaults to doing nothing).
inline auto callbacks() {
  return callback_handler<detail::ignore_callback, detail::ignore_callback, detail::ignore_callback,
                          detail::ignore_callback>{{}, {}, {}, {}};
}

}  // namespace coronet
