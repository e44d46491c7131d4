// tls_idle_memory: where the memory of an idle TLS connection goes, to the byte. It installs
// counting allocators before anything allocates (OpenSSL's through CRYPTO_set_mem_functions, which
// passes each call site's file and line; C++'s through a replaced operator new), runs a coronet
// tls_server (line echo) on a thread of its own, opens N clients from the main thread (their
// handshake, one echoed line, then idle), and prints what the server's thread holds per idle
// connection: OpenSSL's bytes by category and by call site, coronet's (C++ heap) by allocation
// size, and the same at SSL_new (before any byte). Scenarios: TLS 1.3 and 1.2, each without and
// with client certificates (mutual TLS), and a plain TCP server for comparison.
//
//   tls_idle_memory CERT_DIR [--connections N] [--sites K] [--only SCENARIO] [--ciphers LIST]
//                   [--handler callbacks|coroutine|read-loop] [--client line|idle]
//
// The server echoes with echo_server's handler (callbacks: samples/echo/echo_handler.hpp), or
// with the same echo as a coroutine, or with a read()/write() loop (--handler). Each client has
// one line echoed after its handshake, or sends nothing (--client idle).
//
// CERT_DIR is what scripts/make-dev-cert makes. Figures are requested bytes and, beside them,
// what glibc's malloc takes for them (chunk: request + 8 rounded up to 16, at least 32); RSS adds
// the allocator's free lists and page granularity (bench/compare's TLS-W4 measures RSS).

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <coronet/coronet.hpp>
#include <coronet/tls/tls_transport.hpp>

#include "echo_handler.hpp"

// ---- counting allocators ----------------------------------------------------------------------

namespace {

// Who allocated: the server's thread (what is measured) or anyone else (clients, setup).
enum owner : std::uint8_t { owner_other = 0, owner_server = 1 };
thread_local owner current_owner = owner_other;

// A 16-byte header in front of every counted block keeps the payload's alignment.
struct alignas(16) block_header {
  std::uint64_t size;
  std::uint32_t site;  // OpenSSL: index into sites; C++ heap: unused.
  std::uint8_t owner;
  std::uint8_t kind;  // 1 OpenSSL, 2 operator new.
};
static_assert(sizeof(block_header) == 16);

struct site_stats {
  const char* file = nullptr;
  int line = 0;
  long long live_bytes[2] = {};
  long long live_count[2] = {};
  long long live_chunk[2] = {};
};

constexpr std::size_t site_slots = 8192;  // Open addressing; OpenSSL has a few hundred sites.
site_stats sites[site_slots];
std::mutex sites_lock;

// The C++ heap of the server's thread, by request size (coroutine frames, connection state).
constexpr std::size_t size_slots = 70000;
long long new_live_by_size[size_slots];
long long new_live_bytes[2];
long long new_live_chunk[2];

std::size_t chunk_of(std::size_t size) {
  return std::max<std::size_t>(32, (size + 8 + 15) & ~std::size_t{15});
}

std::uint32_t site_index(const char* file, int line) {
  std::size_t hash = (reinterpret_cast<std::uintptr_t>(file) >> 3) * 31 + std::size_t(line);
  for (std::size_t probe = 0; probe < site_slots; ++probe) {
    site_stats& slot = sites[(hash + probe) % site_slots];
    if (slot.file == file && slot.line == line) return std::uint32_t((hash + probe) % site_slots);
    if (slot.file == nullptr) {
      slot.file = file;
      slot.line = line;
      return std::uint32_t((hash + probe) % site_slots);
    }
  }
  std::abort();
}

void* counted_openssl_malloc(std::size_t size, const char* file, int line) {
  auto* header = static_cast<block_header*>(std::malloc(sizeof(block_header) + size));
  if (header == nullptr) return nullptr;
  const owner who = current_owner;
  std::lock_guard lock{sites_lock};
  const std::uint32_t index = site_index(file != nullptr ? file : "?", line);
  *header = {size, index, who, 1};
  sites[index].live_bytes[who] += static_cast<long long>(size);
  sites[index].live_chunk[who] += static_cast<long long>(chunk_of(size));
  sites[index].live_count[who] += 1;
  return header + 1;
}

void counted_openssl_free(void* pointer, const char*, int) {
  if (pointer == nullptr) return;
  auto* header = static_cast<block_header*>(pointer) - 1;
  {
    std::lock_guard lock{sites_lock};
    site_stats& site = sites[header->site];
    site.live_bytes[header->owner] -= static_cast<long long>(header->size);
    site.live_chunk[header->owner] -= static_cast<long long>(chunk_of(header->size));
    site.live_count[header->owner] -= 1;
  }
  std::free(header);
}

void* counted_openssl_realloc(void* pointer, std::size_t size, const char* file, int line) {
  if (pointer == nullptr) return counted_openssl_malloc(size, file, line);
  if (size == 0) {
    counted_openssl_free(pointer, file, line);
    return nullptr;
  }
  void* grown = counted_openssl_malloc(size, file, line);
  if (grown == nullptr) return nullptr;
  const auto* header = static_cast<block_header*>(pointer) - 1;
  std::memcpy(grown, pointer, std::min<std::size_t>(header->size, size));
  counted_openssl_free(pointer, file, line);
  return grown;
}

// Before any static initializer that could make OpenSSL allocate (Asio's openssl_init): once
// OpenSSL has allocated, CRYPTO_set_mem_functions refuses.
bool hooks_installed = false;
__attribute__((constructor(101))) void install_hooks() {
  hooks_installed = CRYPTO_set_mem_functions(counted_openssl_malloc, counted_openssl_realloc,
                                             counted_openssl_free) == 1;
}

}  // namespace

void* operator new(std::size_t size) {
  auto* header = static_cast<block_header*>(std::malloc(sizeof(block_header) + size));
  if (header == nullptr) throw std::bad_alloc{};
  const owner who = current_owner;
  *header = {size, 0, who, 2};
  {
    std::lock_guard lock{sites_lock};
    new_live_bytes[who] += static_cast<long long>(size);
    new_live_chunk[who] += static_cast<long long>(chunk_of(size));
    if (who == owner_server) new_live_by_size[std::min(size, size_slots - 1)] += 1;
  }
  return header + 1;
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void operator delete(void* pointer) noexcept {
  if (pointer == nullptr) return;
  auto* header = static_cast<block_header*>(pointer) - 1;
  {
    std::lock_guard lock{sites_lock};
    new_live_bytes[header->owner] -= static_cast<long long>(header->size);
    new_live_chunk[header->owner] -= static_cast<long long>(chunk_of(header->size));
    if (header->owner == owner_server)
      new_live_by_size[std::min(header->size, size_slots - 1)] -= 1;
  }
  std::free(header);
}
void operator delete[](void* pointer) noexcept {
  operator delete(pointer);
}
void operator delete(void* pointer, std::size_t) noexcept {
  operator delete(pointer);
}
void operator delete[](void* pointer, std::size_t) noexcept {
  operator delete(pointer);
}

namespace {

// ---- snapshots ----------------------------------------------------------------------------------

struct snapshot {
  std::map<std::pair<std::string, int>, std::array<long long, 3>> by_site;  // bytes, count, chunk
  std::vector<long long> new_by_size;
  long long new_bytes = 0;
  long long new_chunk = 0;
};

snapshot take_snapshot() {
  snapshot taken;
  // Nothing may allocate under the lock (the allocators take it): room is made first.
  struct row {
    const char* file;
    int line;
    std::array<long long, 3> value;
  };
  std::vector<row> rows;
  rows.reserve(site_slots);
  taken.new_by_size.resize(size_slots);
  {
    std::lock_guard lock{sites_lock};
    for (const site_stats& site : sites) {
      if (site.file == nullptr) continue;
      rows.push_back({site.file,
                      site.line,
                      {site.live_bytes[owner_server], site.live_count[owner_server],
                       site.live_chunk[owner_server]}});
    }
    std::copy(new_live_by_size, new_live_by_size + size_slots, taken.new_by_size.begin());
    taken.new_bytes = new_live_bytes[owner_server];
    taken.new_chunk = new_live_chunk[owner_server];
  }
  for (const row& r : rows) {
    auto& sum = taken.by_site[{r.file, r.line}];  // One file may reach us through several pointers.
    for (int i = 0; i < 3; ++i)
      sum[i] += r.value[i];
  }
  return taken;
}

// OpenSSL's source files, grouped by what they hold for a connection.
std::string category_of(const std::string& file) {
  static const std::vector<std::pair<const char*, const char*>> categories = {
      {"ssl/ssl_lib.c", "SSL object and its per-SSL copies (ssl_lib.c)"},
      {"ssl/ssl_cert.c", "CERT copy (ssl_cert.c)"},
      {"ssl/ssl_sess.c", "SSL_SESSION (ssl_sess.c)"},
      {"ssl/record/", "record layer (ssl/record)"},
      {"ssl/statem/", "handshake state machine (ssl/statem)"},
      {"ssl/t1_lib.c", "extensions, groups, sigalgs (t1_lib.c)"},
      {"ssl/s3_lib.c", "SSLv3/TLS state (s3_lib.c)"},
      {"ssl/tls13_enc.c", "TLS 1.3 key schedule (tls13_enc.c)"},
      {"ssl/t1_enc.c", "TLS 1.2 key block (t1_enc.c)"},
      {"ssl/s3_enc.c", "handshake hash (s3_enc.c)"},
      {"ssl/ssl_ciph.c", "cipher lists (ssl_ciph.c)"},
      {"ssl/", "other libssl"},
      {"crypto/x509/x509_vpm.c", "X509_VERIFY_PARAM (x509_vpm.c)"},
      {"crypto/x509/", "X509 certificates, stores, verification (crypto/x509)"},
      {"crypto/asn1/", "ASN.1 decoding: parsed certificates (crypto/asn1)"},
      {"crypto/evp/", "EVP contexts: cipher, digest, MAC, keys (crypto/evp)"},
      {"providers/", "provider state: keys, cipher and digest contexts (providers)"},
      {"crypto/stack/", "stacks: cipher lists, chains, name lists (crypto/stack)"},
      {"crypto/bio/", "BIO (crypto/bio)"},
      {"crypto/ex_data.c", "ex_data (crypto/ex_data.c)"},
      {"crypto/buffer/", "BUF_MEM (crypto/buffer)"},
      {"crypto/", "other libcrypto"},
  };
  for (const auto& [prefix, name] : categories) {
    if (file.find(prefix) != std::string::npos) return name;
  }
  return "other (" + file + ")";
}

struct difference {
  std::map<std::pair<std::string, int>, std::array<long long, 3>> sites;
  std::map<std::string, std::array<long long, 3>> categories;
  std::array<long long, 3> openssl{};
  std::vector<long long> new_by_size;
  long long new_bytes = 0;
  long long new_chunk = 0;
};

difference subtract(const snapshot& after, const snapshot& before) {
  difference result;
  for (const auto& [key, value] : after.by_site) {
    std::array<long long, 3> delta = value;
    if (auto found = before.by_site.find(key); found != before.by_site.end()) {
      for (int i = 0; i < 3; ++i)
        delta[i] -= found->second[i];
    }
    if (delta[0] == 0 && delta[1] == 0) continue;
    result.sites[key] = delta;
    auto& category = result.categories[category_of(key.first)];
    for (int i = 0; i < 3; ++i) {
      category[i] += delta[i];
      result.openssl[i] += delta[i];
    }
  }
  result.new_by_size.resize(size_slots);
  for (std::size_t i = 0; i < size_slots; ++i)
    result.new_by_size[i] = after.new_by_size[i] - before.new_by_size[i];
  result.new_bytes = after.new_bytes - before.new_bytes;
  result.new_chunk = after.new_chunk - before.new_chunk;
  return result;
}

void print_difference(const char* title, const difference& d, double n, std::size_t top_sites) {
  const auto per = [n](long long value) { return static_cast<double>(value) / n; };
  std::printf("\n%s\n", title);
  std::printf("  %-66s %9s %9s %7s\n", "OpenSSL, by category", "bytes", "chunks", "allocs");
  std::vector<std::pair<std::string, std::array<long long, 3>>> categories(d.categories.begin(),
                                                                           d.categories.end());
  std::sort(categories.begin(), categories.end(),
            [](const auto& a, const auto& b) { return a.second[2] > b.second[2]; });
  for (const auto& [name, value] : categories) {
    if (std::abs(per(value[2])) < 1) continue;
    std::printf("  %-66s %9.0f %9.0f %7.1f\n", name.c_str(), per(value[0]), per(value[2]),
                per(value[1]));
  }
  std::printf("  %-66s %9.0f %9.0f %7.1f\n", "OpenSSL total", per(d.openssl[0]), per(d.openssl[2]),
              per(d.openssl[1]));
  std::printf("  %-66s %9.0f %9.0f\n", "coronet and Asio (C++ heap of the server thread)",
              per(d.new_bytes), per(d.new_chunk));
  std::printf("  %-66s %9.0f %9.0f\n", "TOTAL", per(d.openssl[0] + d.new_bytes),
              per(d.openssl[2] + d.new_chunk));
  std::vector<std::pair<std::pair<std::string, int>, std::array<long long, 3>>> sites(
      d.sites.begin(), d.sites.end());
  std::sort(sites.begin(), sites.end(),
            [](const auto& a, const auto& b) { return a.second[2] > b.second[2]; });
  std::printf(
      "  OpenSSL call sites (file:line, bytes per connection, allocations per connection):\n");
  for (std::size_t i = 0; i < std::min(top_sites, sites.size()); ++i) {
    const auto& [key, value] = sites[i];
    if (std::abs(per(value[0])) < 4) break;
    std::printf("    %-50s %7.0f B %5.2f\n", (key.first + ":" + std::to_string(key.second)).c_str(),
                per(value[0]), per(value[1]));
  }
  std::printf("  C++ heap by request size (bytes x allocations per connection):\n   ");
  int shown = 0;
  for (std::size_t size = 0; size < size_slots; ++size) {
    const double count = per(d.new_by_size[size]);
    if (count < 0.5) continue;
    std::printf(" %zu x %.2f", size, count);
    if (++shown % 6 == 0) std::printf("\n   ");
  }
  std::printf("\n");
  std::fflush(stdout);
}

// ---- the scenario: a server thread, N idle clients --------------------------------------------

// The server's echo: echo_server's (callbacks, run without a coroutine), the same as a coroutine
// handler (--handler coroutine), or a read()/write() loop (--handler read-loop).
enum class handler_form { callbacks, coroutine, read_loop };
handler_form chosen_handler = handler_form::callbacks;
// --client idle: after its handshake a client sends nothing (as bench/compare's TLS-W4 clients
// do), where by default it has one line echoed first.
bool handshake_only = false;

struct read_loop_echo {
  template <typename Connection>
  asio::awaitable<void> operator()(Connection& conn) const {
    while (auto line = co_await conn.read()) {
      co_await conn.write(*line);
    }
  }
};

template <typename Server>
void serve_echo(Server& server) {
  switch (chosen_handler) {
    case handler_form::callbacks:
      server.template serve<coronet::line_codec>(samples::echo_callbacks());
      break;
    case handler_form::coroutine:
      server.template serve<coronet::line_codec>(samples::echo_handler{});
      break;
    case handler_form::read_loop:
      server.template serve<coronet::line_codec>(read_loop_echo{});
      break;
  }
}

struct scenario {
  const char* name;
  bool tls;
  int max_version;  // TLS1_2_VERSION or TLS1_3_VERSION
  bool mutual;
};

using tls_client_stream = asio::ssl::stream<asio::ip::tcp::socket>;

// One client: connect, handshake, one line and its echo; the stream is kept (idle).
template <typename Stream>
asio::awaitable<void> client(Stream& stream, asio::ip::tcp::endpoint server_endpoint,
                             std::atomic<int>& failures) {
  try {
    co_await stream.lowest_layer().async_connect(server_endpoint, asio::use_awaitable);
    if constexpr (std::is_same_v<Stream, tls_client_stream>) {
      co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    }
    if (!handshake_only) {
      co_await asio::async_write(stream, asio::buffer("hello\n", 6), asio::use_awaitable);
      std::string line;
      co_await asio::async_read_until(stream, asio::dynamic_buffer(line), '\n',
                                      asio::use_awaitable);
      if (line != "hello\n") ++failures;
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "client: %s\n", error.what());
    ++failures;
  }
}

template <typename Stream, typename Make>
int open_clients(asio::io_context& io, std::vector<std::unique_ptr<Stream>>& streams, int count,
                 asio::ip::tcp::endpoint endpoint, Make make) {
  std::atomic<int> failures{0};
  std::atomic<int> next{0};
  streams.resize(static_cast<std::size_t>(count));
  for (int worker = 0; worker < 16; ++worker) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          for (int i = next++; i < count; i = next++) {
            streams[static_cast<std::size_t>(i)] = make();
            co_await client(*streams[static_cast<std::size_t>(i)], endpoint, failures);
          }
        },
        asio::detached);
  }
  io.run_for(std::chrono::seconds{120});
  io.restart();
  return failures;
}

template <typename Server>
struct server_thread {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::unique_ptr<Server> server;
  std::thread thread;

  template <typename... Args>
  explicit server_thread(Args&&... args) {
    server = std::make_unique<Server>(io, std::forward<Args>(args)...);
    serve_echo(*server);
    thread = std::thread{[this] {
      current_owner = owner_server;
      io.run();
    }};
  }
  void stop() {
    asio::post(io, [this] { server->stop(); });
    work.reset();
    thread.join();
    server.reset();
  }
};

coronet::server_options server_settings(int connections) {
  coronet::server_options options;
  options.max_connections = static_cast<std::size_t>(connections) + 16;
  options.connection.idle_timeout = std::chrono::minutes{10};
  options.metrics = false;
  options.log = [](coronet::log_level, std::string_view) {};
  return options;
}

void settle() {
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
}

struct idle_measurement {
  difference per_connection;
  int failures = 0;
};

/// What `connections` idle clients (each made by `make`, one echoed line, then quiet) cost the
/// server `running`, after a warm-up that creates what the first connections create once for
/// all (algorithm fetches, caches); stops the server.
template <typename Server, typename MakeStream>
idle_measurement measure_idle(Server& running, asio::io_context& client_io, int connections,
                              MakeStream make) {
  const auto endpoint = running.server->local_endpoint();
  std::vector<decltype(make())> streams;
  open_clients(client_io, streams, 8, endpoint, make);
  settle();
  streams.clear();
  settle();
  const snapshot before = take_snapshot();
  const int failures = open_clients(client_io, streams, connections, endpoint, make);
  settle();
  idle_measurement result{subtract(take_snapshot(), before), failures};
  streams.clear();
  client_io.run_for(std::chrono::milliseconds{100});
  running.stop();
  return result;
}

void run_tls(const scenario& s, const std::string& certs, int connections, std::size_t top,
             const std::string& ciphersuites) {
  coronet::tls_server_options tls;
  tls.certificate = {certs + "/server-chain.pem", certs + "/server.key"};
  if (s.mutual) {
    tls.client_ca_file = certs + "/ca.pem";
    tls.verify_client = true;
  }
  asio::ssl::context client_context{asio::ssl::context::tls_client};
  SSL_CTX_set_max_proto_version(client_context.native_handle(), s.max_version);
  client_context.set_verify_mode(asio::ssl::verify_none);
  if (!ciphersuites.empty()) {
    SSL_CTX_set_ciphersuites(client_context.native_handle(), ciphersuites.c_str());
    SSL_CTX_set_cipher_list(client_context.native_handle(), ciphersuites.c_str());
  }
  if (s.mutual) {
    client_context.use_certificate_chain_file(certs + "/client.pem");
    client_context.use_private_key_file(certs + "/client.key", asio::ssl::context::pem);
  }

  // At SSL_new: the stream the server makes for an accepted socket, before any byte.
  difference at_new;
  {
    coronet::tls_server_context context{tls};
    asio::io_context io;
    std::vector<coronet::tls_stream> streams;
    streams.reserve(static_cast<std::size_t>(connections));
    const snapshot before = take_snapshot();
    current_owner = owner_server;
    for (int i = 0; i < connections; ++i)
      streams.emplace_back(asio::ip::tcp::socket{io}, nullptr, context.context());
    current_owner = owner_other;
    at_new = subtract(take_snapshot(), before);
    current_owner = owner_server;
    streams.clear();
    current_owner = owner_other;
  }

  server_thread<coronet::tls_server> running{server_settings(connections),
                                             coronet::tls_transport{tls}};
  asio::io_context client_io;
  const auto [idle, failures] = measure_idle(running, client_io, connections, [&] {
    return std::make_unique<tls_client_stream>(client_io, client_context);
  });

  std::printf("\n==== %s: %d idle connections (%d failed) ====\n", s.name, connections, failures);
  print_difference("-- per connection at SSL_new (the stream made for an accepted socket):", at_new,
                   connections, top);
  print_difference("-- per idle connection (handshake, one echoed line, then idle):", idle,
                   connections, top);
}

void run_plain(int connections) {
  server_thread<coronet::tcp_server> running{server_settings(connections)};
  asio::io_context client_io;
  const auto [idle, failures] = measure_idle(running, client_io, connections, [&] {
    return std::make_unique<asio::ip::tcp::socket>(client_io);
  });
  std::printf("\n==== plain TCP: %d idle connections (%d failed) ====\n", connections, failures);
  print_difference("-- per idle connection (one echoed line, then idle):", idle, connections, 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (!hooks_installed) {
    std::fprintf(stderr, "tls_idle_memory: OpenSSL allocated before its allocator was set\n");
    return 1;
  }
  if (argc < 2 || std::string{argv[1]}.starts_with("-")) {
    std::fprintf(
        stderr,
        "usage: tls_idle_memory CERT_DIR [--connections N] [--sites K] [--only SCENARIO] "
        "[--ciphers LIST] [--handler callbacks|coroutine|read-loop] [--client line|idle]\n");
    return 2;
  }
  const std::string certs = argv[1];
  int connections = 1000;
  std::size_t top = 25;
  std::string only;
  std::string ciphersuites;  // The clients offer only these (TLS 1.3 suites or 1.2 cipher list).
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--connections") {
      connections = std::atoi(argv[i + 1]);
    } else if (flag == "--sites") {
      top = static_cast<std::size_t>(std::atoi(argv[i + 1]));
    } else if (flag == "--only") {
      only = argv[i + 1];
    } else if (flag == "--ciphers") {
      ciphersuites = argv[i + 1];
    } else if (flag == "--client") {
      const std::string what = argv[i + 1];
      if (what != "line" && what != "idle") {
        std::fprintf(stderr, "tls_idle_memory: --client is line or idle\n");
        return 2;
      }
      handshake_only = what == "idle";
    } else if (flag == "--handler") {
      const std::string form = argv[i + 1];
      if (form == "callbacks") {
        chosen_handler = handler_form::callbacks;
      } else if (form == "coroutine") {
        chosen_handler = handler_form::coroutine;
      } else if (form == "read-loop") {
        chosen_handler = handler_form::read_loop;
      } else {
        std::fprintf(stderr, "tls_idle_memory: --handler is callbacks, coroutine or read-loop\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "tls_idle_memory: unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);

  std::printf("tls_idle_memory: %s, %d connections, server thread only\n",
              OpenSSL_version(OPENSSL_VERSION), connections);
  const scenario scenarios[] = {
      {"TLS 1.3", true, TLS1_3_VERSION, false},
      {"TLS 1.3, mutual TLS", true, TLS1_3_VERSION, true},
      {"TLS 1.2", true, TLS1_2_VERSION, false},
      {"TLS 1.2, mutual TLS", true, TLS1_2_VERSION, true},
  };
  if (only.empty() || only == "plain") run_plain(connections);
  for (const scenario& s : scenarios) {
    if (only.empty() || only == s.name) run_tls(s, certs, connections, top, ciphersuites);
  }
  return 0;
}
