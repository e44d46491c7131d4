// asio_floor_echo: the baseline of the network benchmarks, the line-echo server anyone would
// write with Asio's C++20 coroutines: async_read_until(socket, dynamic_buffer, '\n'), then
// async_write of that line, one coroutine per connection on one thread. Nothing else (no limits,
// no timeouts, no batching) but TCP_NODELAY, which coronet also sets by default, so the two
// differ only in how they read and write. Same command line as samples/echo's echo_server.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read_until.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

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

struct command_line {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string unix_path;
};

[[noreturn]] void usage(int status) {
  std::fputs(
      "usage: asio_floor_echo [--host HOST] [--port PORT] [--unix PATH]\n"
      "                       [--max-connections N] [--idle-timeout S] [--codec line]\n"
      "The benchmarks' baseline: a minimal single-threaded Asio coroutine line-echo server.\n"
      "Prints 'listening on HOST:PORT' when ready; exits 0 on SIGINT or SIGTERM.\n"
      "  --host HOST   address to bind (default 127.0.0.1)\n"
      "  --port PORT   TCP port; 0 picks a free one (default 0)\n"
      "  --unix PATH   listen on a Unix socket instead\n"
      "  --max-connections, --idle-timeout: accepted for echo_server compatibility, ignored\n"
      "  --codec line  the only framing it has\n",
      status == 0 ? stdout : stderr);
  std::exit(status);
}

command_line parse(int argc, char** argv) {
  command_line result;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") usage(0);
    if (i + 1 >= argc) usage(2);
    const std::string value = argv[++i];
    if (arg == "--host") {
      result.host = value;
    } else if (arg == "--port") {
      const long port = std::strtol(value.c_str(), nullptr, 10);
      if (port < 0 || port > 65535) usage(2);
      result.port = static_cast<std::uint16_t>(port);
    } else if (arg == "--unix") {
      result.unix_path = value;
    } else if (arg == "--codec") {
      if (value != "line") usage(2);
    } else if (arg != "--max-connections" && arg != "--idle-timeout") {
      usage(2);
    }
  }
  return result;
}

template <typename Acceptor>
int serve(asio::io_context& io, Acceptor& acceptor, const std::string& shown) {
  std::printf("listening on %s\n", shown.c_str());
  std::fflush(stdout);
  asio::co_spawn(io, accept_loop(acceptor), asio::detached);
  asio::signal_set signals{io, SIGINT, SIGTERM};
  signals.async_wait([&io](std::error_code, int) { io.stop(); });
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const command_line options = parse(argc, argv);
  try {
    asio::io_context io{1};
    if (!options.unix_path.empty()) {
      ::unlink(options.unix_path.c_str());
      asio::local::stream_protocol::acceptor acceptor{
          io, asio::local::stream_protocol::endpoint{options.unix_path}};
      const int status = serve(io, acceptor, "unix:" + options.unix_path);
      ::unlink(options.unix_path.c_str());
      return status;
    }
    asio::ip::tcp::resolver resolver{io};
    const auto endpoint =
        resolver.resolve(options.host, std::to_string(options.port)).begin()->endpoint();
    asio::ip::tcp::acceptor acceptor{io, endpoint};  // SO_REUSEADDR, listen(SOMAXCONN).
    const auto bound = acceptor.local_endpoint();
    const std::string address = bound.address().to_string();
    const std::string shown = (bound.address().is_v6() ? "[" + address + "]" : address) + ":" +
                              std::to_string(bound.port());
    return serve(io, acceptor, shown);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "asio_floor_echo: %s\n", error.what());
    return 1;
  }
}
