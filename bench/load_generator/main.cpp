// load_generator: drives a line-echo server (lines, TLS or WebSocket) or chat_servers from one
// thread and verifies every reply. Plain Asio sockets (or asio::ssl over them, --tls), a memchr
// line splitter and its own WebSocket framing, not coronet's framed connection or client, so the
// figures measure the server rather than the client library.
// See `load_generator --help` and docs/performance.md ("Network benchmarks").
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <exception>

#include "common.hpp"
#include "modes.hpp"
#include "options.hpp"

namespace {

// Thousands of connections need thousands of descriptors: take all the hard limit allows.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    std::perror("load_generator: cannot raise the open-file limit");
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // A write to a server that has gone is an error, not a death.
  raise_descriptor_limit();
  try {
    const load::options options = load::parse_options(argc, argv);
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    if (options.connections + 16 > limit.rlim_cur) {
      std::fprintf(stderr,
                   "load_generator: %zu connections need more descriptors than the limit "
                   "(%llu); raise the hard limit (ulimit -Hn)\n",
                   options.connections, static_cast<unsigned long long>(limit.rlim_cur));
      return 1;
    }
    switch (options.mode) {
      case load::mode::echo:
        return load::run_echo(options);
      case load::mode::idle:
        return load::run_idle(options);
      case load::mode::chat:
        return load::run_chat(options);
      case load::mode::handshake:
        return load::run_handshake(options);
    }
  } catch (const load::usage_error& error) {
    std::fprintf(stderr, "load_generator: %s\n\n%s", error.what(), load::usage().c_str());
    return 2;
  } catch (const load::connect_error& error) {
    std::fprintf(stderr, "load_generator: %s\n", error.what());
    return 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "load_generator: %s\n", error.what());
    return 1;
  }
  return 1;
}
