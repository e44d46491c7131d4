// udp_client: sends each line of standard input as one datagram (until it has sent "exit") and
// prints each reply as "receive data: <line>". UDP may lose a datagram, so each reply is waited
// for --timeout ms at most; when none came it says so and goes on with the next line.
//
// Standard input is read with a blocking std::getline on the main thread, which works the same
// for a terminal, a pipe and a regular file; each exchange then runs the io_context until it is
// done, which the receive timeout bounds.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <system_error>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <coronet/endpoint/address.hpp>
#include <coronet/udp/datagram_client.hpp>

#include "command_line.hpp"
#include "udp_cli.hpp"

namespace {

// ---- the client's own Unix socket path -------------------------------------------------------

// A Unix datagram server can only answer a client bound to a path: this one lives in a fresh
// directory under $TMPDIR (or /tmp), removed at exit, and also on SIGINT/SIGTERM/SIGHUP (unlink
// and rmdir are async-signal-safe; the paths are plain arrays for that reason).
char own_socket_path[108];
char own_directory[108];

void remove_own_socket() {
  if (own_socket_path[0] != '\0') ::unlink(own_socket_path);
  if (own_directory[0] != '\0') ::rmdir(own_directory);
}

extern "C" void remove_and_reraise(int signal_number) {
  remove_own_socket();
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

struct own_socket {
  own_socket() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string{tmp != nullptr && *tmp != '\0' ? tmp : "/tmp"} + "/udp_client.XXXXXX";
    if (pattern.size() + std::strlen("/client.sock") >= sizeof own_socket_path) {
      throw std::runtime_error("TMPDIR is too long for a Unix socket path");
    }
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::system_category(), "cannot create " + pattern);
    }
    std::snprintf(own_directory, sizeof own_directory, "%s", pattern.c_str());
    std::snprintf(own_socket_path, sizeof own_socket_path, "%s/client.sock", pattern.c_str());
    for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
      ::signal(signal_number, remove_and_reraise);
    }
  }
  ~own_socket() { remove_own_socket(); }
  own_socket(const own_socket&) = delete;
  own_socket& operator=(const own_socket&) = delete;

  std::string path() const { return own_socket_path; }
};

// ---- one exchange ------------------------------------------------------------------------------

// Runs `work` on `io` until it is done; rethrows what it threw.
void run_to_completion(asio::io_context& io, asio::awaitable<void> work) {
  std::exception_ptr failure;
  io.restart();
  asio::co_spawn(io, std::move(work), [&failure](std::exception_ptr error) { failure = error; });
  io.run();
  if (failure) std::rethrow_exception(failure);
}

template <typename Reply>
void print_reply(const Reply& reply, std::chrono::milliseconds timeout, const std::string& peer) {
  if (reply) {
    std::printf("receive data: %.*s\n", static_cast<int>(reply->size()), reply->data());
  } else if (reply.error() == coronet::errc::timed_out) {
    std::printf("no reply within %lld ms (UDP may lose datagrams; is the server running?)\n",
                static_cast<long long>(timeout.count()));
  } else if (reply.error() == asio::error::connection_refused) {
    std::printf("no reply: nothing is listening at %s (connection refused)\n", peer.c_str());
  } else {
    std::printf("bad reply: %s%s%.*s\n", reply.error().message().c_str(),
                reply.reason().empty() ? "" : ": ", static_cast<int>(reply.reason().size()),
                reply.reason().data());
  }
  std::fflush(stdout);
}

template <typename Endpoint>
asio::awaitable<void> exchange(Endpoint& endpoint, const std::string& line, bool wait_for_reply,
                               std::chrono::milliseconds timeout, const std::string& peer) {
  if (const std::error_code error = co_await endpoint.send(line)) {
    std::printf("not sent: %s\n", error.message().c_str());
    std::fflush(stdout);
    co_return;
  }
  if (!wait_for_reply) co_return;
  auto reply = co_await endpoint.receive(timeout);
  print_reply(reply, timeout, peer);
}

// Replies that arrived after we stopped waiting for them: print them before the next line.
template <typename Endpoint>
asio::awaitable<void> print_late_replies(Endpoint& endpoint, std::chrono::milliseconds timeout,
                                         const std::string& peer) {
  std::error_code error;
  while (endpoint.socket().available(error) > 0 && !error) {
    auto reply = co_await endpoint.receive(timeout);
    print_reply(reply, timeout, peer);
  }
}

template <typename Endpoint>
int talk(asio::io_context& io, Endpoint& endpoint, std::chrono::milliseconds timeout) {
  const std::string peer = coronet::to_string(endpoint.remote_endpoint());
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const bool last = line == "exit";
    run_to_completion(io, print_late_replies(endpoint, timeout, peer));
    run_to_completion(io, exchange(endpoint, line, !last, timeout, peer));
    if (last) break;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  samples::command_line cli{
      "udp_client",
      "Sends each line of standard input as one datagram, until it has sent 'exit', and prints\n"
      "each reply as 'receive data: <line>'."};
  samples::udp::add_target_options(cli, "server address, an IP or a host name",
                                   "server UDP port (required unless --unix)",
                                   "talk to the Unix datagram socket at PATH instead of UDP");
  cli.option("--timeout", "MS", "2000", "how long to wait for each reply");
  return samples::run_main(cli, "udp_client", [&] {
    cli.parse(argc, argv);
    const samples::udp::target target = samples::udp::target_from(cli, /*port_required=*/true);
    const std::chrono::milliseconds timeout{cli.number("--timeout", 1, 3'600'000)};
    asio::io_context io;
    coronet::datagram_options options;
    options.receive_timeout = timeout;
    if (target.unix_path.empty()) {
      auto endpoint = coronet::udp_connect(io, target.host, target.port, options);
      return talk(io, endpoint, timeout);
    }
    const own_socket own;  // Declared first: removed after the endpoint has closed.
    options.unix_path = own.path();
    auto endpoint = coronet::unix_datagram_connect(io, target.unix_path, options);
    return talk(io, endpoint, timeout);
  });
}
