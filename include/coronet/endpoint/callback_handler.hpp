// The callback form of a handler (on_connect / on_message / on_error / on_disconnect), built on
// the coroutine form: for servers whose per-connection logic is "react to each message".
#pragma once

#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/error.hpp>

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
/// on_message may return void, or asio::awaitable<void> to co_await inside (conn.write()).
/// on_error(conn, error, reason) sees recoverable codec errors (an over-long or non-UTF-8 line);
/// reading goes on after it. Setting on_error makes the connection report those errors to it
/// instead of answering them (connection_options::decode_errors). on_disconnect(conn, why) runs
/// once at the end, why being the read error (asio::error::eof for a clean close) or
/// operation_aborted when the server stops.
template <typename OnConnect, typename OnMessage, typename OnError, typename OnDisconnect>
class callback_handler {
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

  /// The coroutine handler: what a server calls for each connection.
  template <typename Connection>
  asio::awaitable<void> operator()(Connection& connection) const {
    // An on_error callback answers recoverable decode errors itself; without one, the
    // connection's decode_errors policy (reply by default) does.
    if constexpr (!std::is_same_v<OnError, detail::ignore_callback>) {
      connection.set_decode_errors(decode_error_policy::report);
    }
    on_connect_(connection);
    std::error_code why;
    try {
      while (true) {
        // A burst without suspending, and a wait that holds no frame of its own (see
        // framed_connection::try_read and receive_more).
        auto message = connection.try_read();
        while (message.error() != asio::error::would_block) {
          if (message) {
            using result = decltype(on_message_(connection, *message));
            if constexpr (detail::is_awaitable<result>::value) {
              co_await on_message_(connection, *message);
            } else {
              on_message_(connection, *message);
            }
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
