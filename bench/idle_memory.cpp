// idle_memory: what one idle server-side connection holds, heap block by heap block (W4 of
// bench/compare measures the same thing as RSS, from outside, without saying what it is made of).
//
// Runs a tcp_server with echo_server's handler (same options: metrics on, 300 s idle timeout;
// --coroutine: the same echo as a coroutine handler, for comparison)
// on a thread of its own, opens N loopback connections with plain POSIX sockets (no heap use on
// the client side), echoes one line on each, lets the server go quiet, then prints the heap
// blocks the server holds per connection, grouped by requested size. The malloc family is
// interposed in this executable (every C++ allocation, Asio's aligned_alloc included, lands
// there), so the table shows sizes as requested; malloc's own view (mallinfo2, headers and
// rounding included) is printed beside it. With --trace the first allocation of each size made
// while connections are set up prints its call stack (for naming the blocks).
#include <arpa/inet.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <coronet/codec/line_codec.hpp>
#include <coronet/endpoint/server.hpp>

#include "echo_handler.hpp"

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* block, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void __libc_free(void* block);
}

namespace {

// ---- the allocation ledger: live blocks by requested size, in a fixed table ------------------

constexpr std::size_t max_tracked_size = 1 << 16;  // Larger blocks share the last row.
constexpr std::size_t table_slots = std::size_t{1} << 21;

struct slot {
  void* block;
  std::size_t size;
};

slot* ledger = nullptr;  // Open addressing on the block's address; tombstones are (nullptr, 1).
std::array<std::int64_t, max_tracked_size + 1> live_by_size{};
std::atomic_flag ledger_lock = ATOMIC_FLAG_INIT;
thread_local bool inside_hook = false;
std::atomic<bool> tracing{false};
std::array<bool, max_tracked_size + 1> traced{};

struct lock_guard {
  lock_guard() {
    while (ledger_lock.test_and_set(std::memory_order_acquire)) {
    }
  }
  ~lock_guard() { ledger_lock.clear(std::memory_order_release); }
};

std::size_t hash(void* block) {
  return (reinterpret_cast<std::uintptr_t>(block) >> 4) * 0x9E3779B97F4A7C15ull >> 43;
}

std::size_t row(std::size_t size) {
  return size < max_tracked_size ? size : max_tracked_size;
}

void remember(void* block, std::size_t size) {
  if (block == nullptr || ledger == nullptr) return;
  bool trace_now = false;
  {
    lock_guard locked;
    for (std::size_t i = hash(block);; i = (i + 1) & (table_slots - 1)) {
      if (ledger[i].block == nullptr) {
        ledger[i] = {block, size};
        break;
      }
    }
    ++live_by_size[row(size)];
    if (tracing && !traced[row(size)]) trace_now = traced[row(size)] = true;
  }
  if (trace_now && !inside_hook) {
    inside_hook = true;
    void* frames[12];
    const int depth = backtrace(frames, 12);
    std::fprintf(stderr, "--- first block of %zu bytes:\n", size);
    backtrace_symbols_fd(frames, depth, 2);
    inside_hook = false;
  }
}

void forget(void* block) {
  if (block == nullptr || ledger == nullptr) return;
  lock_guard locked;
  for (std::size_t i = hash(block);; i = (i + 1) & (table_slots - 1)) {
    if (ledger[i].block == block) {
      --live_by_size[row(ledger[i].size)];
      ledger[i] = {nullptr, 1};  // A tombstone: later entries of the chain stay reachable.
      return;
    }
    if (ledger[i].block == nullptr && ledger[i].size == 0) return;  // Not tracked.
  }
}

}  // namespace

// ---- the malloc family, interposed ----------------------------------------------------------

extern "C" {
void* malloc(std::size_t size) {
  void* block = __libc_malloc(size);
  remember(block, size);
  return block;
}
void* calloc(std::size_t count, std::size_t size) {
  void* block = __libc_calloc(count, size);
  remember(block, count * size);
  return block;
}
void* realloc(void* old_block, std::size_t size) {
  forget(old_block);
  void* block = __libc_realloc(old_block, size);
  remember(block, size);
  return block;
}
void free(void* block) {
  forget(block);
  __libc_free(block);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
  void* block = __libc_memalign(alignment, size);
  remember(block, size);
  return block;
}
void* memalign(std::size_t alignment, std::size_t size) {
  void* block = __libc_memalign(alignment, size);
  remember(block, size);
  return block;
}
int posix_memalign(void** result, std::size_t alignment, std::size_t size) {
  *result = __libc_memalign(alignment, size);
  remember(*result, size);
  return *result ? 0 : ENOMEM;
}
}

namespace {

std::array<std::int64_t, max_tracked_size + 1> snapshot() {
  lock_guard locked;
  return live_by_size;
}

std::size_t malloc_in_use() {
  return mallinfo2().uordblks;
}

void fail(const char* what) {
  std::perror(what);
  std::exit(1);
}

// One connection, one echoed line: the server has accepted it and run its handler to its idle
// read.
int connect_and_ping(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fail("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("connect");
  const char line[] = "ping\n";
  if (::send(fd, line, sizeof line - 1, 0) != sizeof line - 1) fail("send");
  char reply[16];
  std::size_t got = 0;
  while (got < sizeof line - 1) {
    const ssize_t count = ::recv(fd, reply + got, sizeof reply - got, 0);
    if (count <= 0) fail("recv (no echo)");
    got += static_cast<std::size_t>(count);
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t connections = 2000;
  bool coroutine = false;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    if (argument == "--trace") {
      tracing = true;
    } else if (argument == "--coroutine") {
      coroutine = true;
    } else if (argument == "-c" && i + 1 < argc) {
      connections = std::strtoul(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr,
                   "usage: idle_memory [-c CONNECTIONS (2000)] [--coroutine] [--trace]\n"
                   "Prints the heap blocks an idle coronet TCP connection holds, per connection.\n"
                   "--coroutine: the same echo as a coroutine handler (samples::echo_handler).\n");
      return 2;
    }
  }
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
  if (connections == 0 || 2 * connections + 64 > files.rlim_cur) {
    std::fprintf(stderr, "idle_memory: -c must be 1..%zu here (descriptor limit)\n",
                 static_cast<std::size_t>((files.rlim_cur - 64) / 2));
    return 2;
  }
  ledger = static_cast<slot*>(__libc_calloc(table_slots, sizeof(slot)));

  asio::io_context io{1};
  coronet::server_options options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.max_connections = connections + 16;
  options.connection.idle_timeout = std::chrono::seconds{300};
  coronet::tcp_server server{io, options};
  if (coroutine) {
    server.serve<coronet::line_codec>(samples::echo_handler{});
  } else {
    server.serve<coronet::line_codec>(samples::echo_callbacks());
  }
  const std::uint16_t port = server.local_endpoint().port();
  std::thread runner{[&io] { io.run(); }};

  // Warm up: the first connections make one-time things (deadline service, Asio's caches).
  std::vector<int> sockets;
  for (int i = 0; i < 16; ++i)
    sockets.push_back(connect_and_ping(port));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto before = snapshot();
  const std::size_t heap_before = malloc_in_use();
  for (std::size_t i = 0; i < connections; ++i) {
    sockets.push_back(connect_and_ping(port));
    tracing = false;  // Only the first measured connection's blocks.
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // The last replies' buffers go.
  const auto after = snapshot();
  const std::size_t heap_after = malloc_in_use();

  std::printf("idle connections: %zu (server: %zu sessions)\n", connections,
              server.connection_count());
  std::printf("%8s %10s %12s\n", "bytes", "blocks/conn", "bytes/conn");
  double requested = 0, blocks = 0;
  for (std::size_t size = 0; size <= max_tracked_size; ++size) {
    const double per_connection =
        static_cast<double>(after[size] - before[size]) / static_cast<double>(connections);
    if (per_connection < 0.05 && per_connection > -0.05) continue;
    std::printf("%8zu %10.2f %12.1f\n", size, per_connection,
                per_connection * static_cast<double>(size));
    requested += per_connection * static_cast<double>(size);
    blocks += per_connection;
  }
  std::printf("requested: %.0f bytes in %.2f blocks per connection\n", requested, blocks);
  std::printf("malloc in use (mallinfo2, headers included): %.0f bytes per connection\n",
              static_cast<double>(heap_after - heap_before) / static_cast<double>(connections));

  for (const int fd : sockets)
    ::close(fd);
  asio::post(io, [&server] { server.stop(); });
  runner.join();
  return 0;
}
