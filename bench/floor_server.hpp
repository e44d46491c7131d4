// What the Asio floors (asio_floor_echo, asio_floor_tls_echo, asio_floor_chat) share apart from
// the code they measure: their command line (echo_server's, so bench/compare starts them the
// same way) and the listener, the "listening on" line and the stop on SIGINT/SIGTERM around
// their accept loop.
#pragma once

#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/signal_set.hpp>

namespace floor_server {

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string unix_path;
  std::string certificate_chain;  // --tls-cert, when `with_tls`
  std::string private_key;        // --tls-key, when `with_tls`
};

/// Parses echo_server's options (--max-connections and --idle-timeout are accepted and ignored;
/// --codec must be line), plus --tls-cert and --tls-key, required, when `with_tls`. Prints
/// `usage` and exits for --help (0) or a bad command line (2).
inline options parse(int argc, char** argv, const char* usage, bool with_tls) {
  const auto fail = [usage](int status) {
    std::fputs(usage, status == 0 ? stdout : stderr);
    std::exit(status);
  };
  options result;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") fail(0);
    if (i + 1 >= argc) fail(2);
    const std::string value = argv[++i];
    if (arg == "--host") {
      result.host = value;
    } else if (arg == "--port") {
      const long port = std::strtol(value.c_str(), nullptr, 10);
      if (port < 0 || port > 65535) fail(2);
      result.port = static_cast<std::uint16_t>(port);
    } else if (arg == "--unix") {
      result.unix_path = value;
    } else if (with_tls && arg == "--tls-cert") {
      result.certificate_chain = value;
    } else if (with_tls && arg == "--tls-key") {
      result.private_key = value;
    } else if (arg == "--codec") {
      if (value != "line") fail(2);
    } else if (arg != "--max-connections" && arg != "--idle-timeout") {
      fail(2);
    }
  }
  if (with_tls && (result.certificate_chain.empty() || result.private_key.empty())) fail(2);
  return result;
}

/// Listens as `options` asks (TCP or a Unix socket), prints "listening on ADDRESS", spawns
/// `accept_loop(acceptor)` and runs until SIGINT or SIGTERM. Returns the exit status.
template <typename AcceptLoop>
int run(const char* program, const options& options, AcceptLoop accept_loop) {
  const auto serve = [&](asio::io_context& io, auto& acceptor, const std::string& shown) {
    std::printf("listening on %s\n", shown.c_str());
    std::fflush(stdout);
    asio::co_spawn(io, accept_loop(acceptor), asio::detached);
    asio::signal_set signals{io, SIGINT, SIGTERM};
    signals.async_wait([&io](std::error_code, int) { io.stop(); });
    io.run();
    return 0;
  };
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
    std::fprintf(stderr, "%s: %s\n", program, error.what());
    return 1;
  }
}

}  // namespace floor_server
