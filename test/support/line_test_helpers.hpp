// Helpers for tests that talk lines over real sockets: an echo handler, a sleep, reading a line
// as text (or what went wrong), and asking a question.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <coronet/endpoint/client.hpp>
#include <string>

#include "async_test.hpp"

namespace coronet_test {

/// The handler of the design sketch: echo each line until "exit".
struct echo_handler {
  template <typename Connection>
  asio::awaitable<void> operator()(Connection& conn) const {
    while (auto line = co_await conn.read()) {
      if (*line == "exit") co_return;
      co_await conn.write(*line);
    }
  }
};

/// Connect options for loopback tests: fail fast, and do not outlive a stuck test.
inline coronet::connect_options quick_connect() {
  using namespace std::chrono_literals;
  return {.timeout = 2s, .connection = {.idle_timeout = 5s}};
}

/// Reads one line; "<error: ...>" when there is none, so a CHECK shows what happened.
template <typename Connection>
asio::awaitable<std::string> next_line(Connection& conn) {
  auto line = co_await conn.read();
  if (!line) co_return "<error: " + line.error().message() + ">";
  co_return std::string{*line};
}

/// Sends `line` and returns the next line received.
template <typename Connection>
asio::awaitable<std::string> ask(Connection& conn, std::string line) {
  co_await conn.write(line);
  co_return co_await next_line(conn);
}

/// What next_line() returns at the end of the stream.
inline std::string eof_text() {
  return "<error: " + asio::error::make_error_code(asio::error::eof).message() + ">";
}

}  // namespace coronet_test
