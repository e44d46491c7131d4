// What the HTTP server tests share: a raw-socket HTTP client that reads one response at a time
// (Content-Length framed), an echo line server beside the HTTP server with a probe that measures
// how long it takes to answer, descriptor counting, and running curl.
#pragma once

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <coronet/codec/line_codec.hpp>
#include <coronet/endpoint/server.hpp>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "support/async_test.hpp"
#include "support/server_test_helpers.hpp"

namespace coronet_test {

/// One response as a raw client read it.
struct raw_response {
  std::string head;  ///< Status line and fields, up to and including the empty line.
  std::string body;
  bool ok = false;  ///< A whole response was read.

  int status() const { return head.size() >= 12 ? std::stoi(head.substr(9, 3)) : 0; }
  bool has(std::string_view text) const { return head.find(text) != std::string::npos; }
};

/// Reads one response from `socket` (`pending` keeps bytes read past it). No body for HEAD.
inline asio::awaitable<raw_response> read_response(asio::ip::tcp::socket& socket,
                                                   std::string& pending, bool head_only = false) {
  raw_response response;
  auto [error, head_size] =
      co_await asio::async_read_until(socket, asio::dynamic_buffer(pending), "\r\n\r\n",
                                      asio::experimental::as_tuple(asio::use_awaitable));
  if (error) co_return response;
  response.head = pending.substr(0, head_size);
  pending.erase(0, head_size);
  std::size_t length = 0;
  if (const std::size_t field = response.head.find("Content-Length: ");
      field != std::string::npos) {
    length = std::stoul(response.head.substr(field + 16));
  }
  if (head_only) length = 0;
  if (pending.size() < length) {
    auto [read_error, count] = co_await asio::async_read(
        socket, asio::dynamic_buffer(pending), asio::transfer_exactly(length - pending.size()),
        asio::experimental::as_tuple(asio::use_awaitable));
    if (read_error) co_return response;
  }
  response.body = pending.substr(0, length);
  pending.erase(0, length);
  response.ok = true;
  co_return response;
}

/// Whether the server closed `socket` (end of stream or reset) before `limit`, discarding
/// whatever arrives first.
inline asio::awaitable<bool> closed_by_peer(asio::ip::tcp::socket& socket,
                                            std::chrono::milliseconds limit) {
  // Shared with the deadline's handler, which may already be queued when the read ends.
  struct watch {
    asio::ip::tcp::socket* socket;
    bool expired = false;
  };
  auto watched = std::make_shared<watch>(watch{&socket});
  asio::steady_timer deadline{co_await asio::this_coro::executor, limit};
  deadline.async_wait([watched](std::error_code error) {
    if (error || watched->socket == nullptr) return;
    watched->expired = true;
    std::error_code ignored;
    watched->socket->cancel(ignored);
  });
  char scratch[4096];
  while (true) {
    auto [error, count] = co_await socket.async_read_some(
        asio::buffer(scratch), asio::experimental::as_tuple(asio::use_awaitable));
    if (error) break;
  }
  watched->socket = nullptr;
  deadline.cancel();
  co_return !watched->expired;
}

/// Open descriptors of this process.
inline int open_descriptors() {
  int count = 0;
  if (DIR* directory = ::opendir("/proc/self/fd")) {
    while (::readdir(directory) != nullptr)
      ++count;
    ::closedir(directory);
  }
  return count;
}

/// Raises the soft descriptor limit towards `wanted` (the hard limit caps it).
inline void raise_descriptor_limit(rlim_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

/// An echo line server and a probe that pings it every 100 ms and keeps the slowest answer.
struct echo_beside {
  explicit echo_beside(asio::io_context& io) : server{io, coronet::server_options{}} {
    server.serve<coronet::line_codec>([](auto& connection) -> asio::awaitable<void> {
      while (auto line = co_await connection.read())
        co_await connection.write(*line);
    });
  }

  /// Pings until `*stop` is set; returns false if an answer was missing or wrong.
  asio::awaitable<bool> probe(std::shared_ptr<bool> stop) {
    auto socket = co_await raw_connect(server.local_endpoint().port());
    std::string pending;
    for (int ping = 0; ping < 600 && !*stop; ++ping) {
      const std::string text = "ping " + std::to_string(ping) + "\n";
      const auto sent_at = std::chrono::steady_clock::now();
      co_await asio::async_write(socket, asio::buffer(text), asio::use_awaitable);
      const std::size_t size = co_await asio::async_read_until(
          socket, asio::dynamic_buffer(pending), "\n", asio::use_awaitable);
      slowest = std::max(slowest, std::chrono::steady_clock::now() - sent_at);
      if (pending.substr(0, size) != text) co_return false;
      pending.erase(0, size);
      ++answered;
      co_await sleep_for(std::chrono::milliseconds{100});
    }
    co_return true;
  }

  coronet::tcp_server server;
  std::chrono::steady_clock::duration slowest{};
  int answered = 0;
};

/// Runs `command` through the shell and returns what it printed on stdout.
inline std::string run_command(const std::string& command) {
  std::string output;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char chunk[4096];
    std::size_t count = 0;
    while ((count = std::fread(chunk, 1, sizeof chunk, pipe)) > 0)
      output.append(chunk, count);
    ::pclose(pipe);
  }
  return output;
}

}  // namespace coronet_test
