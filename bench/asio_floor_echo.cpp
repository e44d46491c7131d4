// asio_floor_echo: the baseline of the network benchmarks, the line-echo server anyone would
// write with Asio's C++20 coroutines: async_read_until(socket, dynamic_buffer, '\n'), then
// async_write of that line, one coroutine per connection on one thread. Nothing else (no limits,
// no timeouts, no batching) but TCP_NODELAY, which coronet also sets by default, so the two
// differ only in how they read and write. Same command line as samples/echo's echo_server.

#include <cstdio>
#include <exception>
#include <string>
#include <type_traits>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "floor_server.hpp"

namespace {

constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

template <typename Socket>
asio::awaitable<void> echo_lines(Socket socket) {
  std::string buffer;
  while (true) {
    auto [read_error, line_size] =
        co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), '\n', as_tuple);
    if (read_error) co_return;
    auto [write_error, written] =
        co_await asio::async_write(socket, asio::buffer(buffer.data(), line_size), as_tuple);
    if (write_error) co_return;
    buffer.erase(0, line_size);
  }
}

template <typename Acceptor>
asio::awaitable<void> accept_loop(Acceptor& acceptor) {
  while (true) {
    auto [error, socket] = co_await acceptor.async_accept(as_tuple);
    if (error == asio::error::operation_aborted) co_return;
    if (error) continue;  // EMFILE and the like: try the next one.
    if constexpr (std::is_same_v<typename Acceptor::protocol_type, asio::ip::tcp>) {
      std::error_code ignored;
      socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    asio::co_spawn(acceptor.get_executor(), echo_lines(std::move(socket)), asio::detached);
  }
}

constexpr const char* usage =
    "usage: asio_floor_echo [--host HOST] [--port PORT] [--unix PATH]\n"
    "                       [--max-connections N] [--idle-timeout S] [--codec line]\n"
    "The benchmarks' baseline: a minimal single-threaded Asio coroutine line-echo server.\n"
    "Prints 'listening on HOST:PORT' when ready; exits 0 on SIGINT or SIGTERM.\n"
    "  --host HOST   address to bind (default 127.0.0.1)\n"
    "  --port PORT   TCP port; 0 picks a free one (default 0)\n"
    "  --unix PATH   listen on a Unix socket instead\n"
    "  --max-connections, --idle-timeout: accepted for echo_server compatibility, ignored\n"
    "  --codec line  the only framing it has\n";

}  // namespace

int main(int argc, char** argv) {
  const floor_server::options options = floor_server::parse(argc, argv, usage, false);
  return floor_server::run("asio_floor_echo", options,
                           [](auto& acceptor) { return accept_loop(acceptor); });
}
