// The load generator's command line.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace load {

enum class mode { echo, idle, chat, handshake };

/// "echo", "idle", "chat" or "handshake".
const char* mode_name(mode mode) noexcept;

/// Everything a run is told on the command line (defaults in usage()).
struct options {
  load::mode mode = load::mode::echo;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;            // The first of `ports`.
  std::vector<std::uint16_t> ports;  // --port P1,P2,...: connection i goes to ports[i % size].
  std::string unix_path;             // Non-empty: connect to this Unix socket instead of host:port.
  std::size_t connections = 1;
  std::size_t message_size = 64;  // Bytes per message, '\n' included.
  std::size_t depth = 1;          // echo: messages in flight per connection; chat: the window.
  std::size_t rate = 0;           // chat: lines per second from all senders together; 0: no pacing.
  std::chrono::milliseconds duration{5000};
  std::chrono::milliseconds warmup{1000};
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds drain_timeout{5000};
  std::size_t connect_concurrency = 128;  // Connection attempts in progress at once.
  bool idle_ping = true;                  // idle: one echo per connection before holding.
  bool tls = false;                       // Every connection is TLS (after a handshake).
  std::string tls_ca;                     // --tls: trust this CA and check the server's name.
  bool tls_insecure = false;              // --tls: no verification at all.
  std::string tls_name;                   // --tls: the name to verify and send (SNI).
  bool websocket = false;                 // echo: WebSocket text messages instead of lines.
  std::string websocket_path = "/";       // --websocket: the request target of the handshake.
  bool quiet = false;
};

/// Thrown for an unusable command line; main() prints it with the usage.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The --help text.
std::string usage();

/// Parses argv; throws usage_error. Prints usage() and exits 0 for --help.
options parse_options(int argc, char** argv);

/// "127.0.0.1:7000" (several ports: "127.0.0.1:7000,7001") or "unix:/path", for messages.
std::string target_name(const options& options);

}  // namespace load
