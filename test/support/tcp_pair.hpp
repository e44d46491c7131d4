// A connected loopback TCP pair, for tests of what a connection does on a real socket.
#pragma once
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <utility>

namespace coronet_test {

struct tcp_pair {
  asio::ip::tcp::socket served;  // The side a framed_connection reads.
  asio::ip::tcp::socket peer;
};

/// Connects two sockets over 127.0.0.1; the served side's socket runs on `served_executor`.
inline asio::awaitable<tcp_pair> connect_tcp_pair(asio::any_io_executor served_executor) {
  using asio::ip::tcp;
  const auto executor = co_await asio::this_coro::executor;
  tcp::acceptor acceptor{executor, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
  tcp::socket peer{executor};
  tcp::socket served{served_executor};
  co_await peer.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
  co_await acceptor.async_accept(served, asio::use_awaitable);
  co_return tcp_pair{std::move(served), std::move(peer)};
}

}  // namespace coronet_test
