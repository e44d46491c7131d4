// What the server tests share: an observer that records what a server reports, and a raw TCP
// connection to a loopback server (for clients that must misbehave).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <coronet/connection_observer.hpp>
#include <coronet/endpoint/server_observer.hpp>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace coronet_test {

/// Records what a server reports.
struct counting_observer : coronet::server_observer {
  int sessions_started = 0;
  int refused = 0;
  std::vector<std::string> ended;
  std::vector<std::error_code> decode_errors;
  std::vector<std::pair<std::error_code, bool>> handshakes_failed;
  int queue_drops = 0;

  void on_session_start() override { ++sessions_started; }
  void on_session_end(coronet::close_reason reason) override {
    ended.emplace_back(coronet::to_string(reason));
  }
  void on_refused() override { ++refused; }
  void on_handshake_failed(std::error_code error, bool timed_out) override {
    handshakes_failed.emplace_back(error, timed_out);
  }
  void on_decode_error(std::error_code error, bool) override { decode_errors.push_back(error); }
  void on_send_queue_drop() override { ++queue_drops; }
};

/// A plain TCP connection to 127.0.0.1:`port`.
inline asio::awaitable<asio::ip::tcp::socket> raw_connect(std::uint16_t port) {
  asio::ip::tcp::socket socket{co_await asio::this_coro::executor};
  co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
  co_return socket;
}

}  // namespace coronet_test
