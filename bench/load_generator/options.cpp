// The load generator's command line: parsing and --help.
#include "options.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "messages.hpp"

namespace load {

std::string usage() {
  return R"(usage: load_generator [options]

Drives a line-echo server (over TCP lines, TLS or WebSocket) or chat_servers from one thread
and verifies every reply.

modes (--mode):
  echo   C connections, each keeping D messages of S bytes in flight (pipelined); every echo
         is checked (content and order). Prints messages/s, MB/s of payload echoed, p50/p99
         round-trip latency and errors.
  idle   opens C connections (one echoed line each unless --no-ping), prints
         "holding N connections", holds them for T seconds, then closes them.
  chat   C clients of chat_server: each sends lines, every line must reach all C-1 others as
         "[IP:PORT] line", in the order its sender sent them. D = lines a sender may have not yet
         delivered to everyone. Without --rate each sender keeps its window full; with --rate R
         the senders take turns to send R lines/s in all (light load: latency at a fixed rate).
         Prints deliveries/s and delivery latency. With several ports (chat_servers sharing a
         room through Redis) client i connects to the (i mod N)-th: the RESULT line adds the
         latency of deliveries within one server (local_*) and across servers (remote_*).
  handshake
         C connections in parallel, each over and over: connect, handshake (with --tls), send
         one S-byte line, read its echo, close (a TCP reset: no TIME_WAIT, no close_notify).
         Prints handshakes/s (complete cycles), the cycle's latency and failures.

options:
  --mode echo|idle|chat|handshake  default echo
  --host HOST              default 127.0.0.1
  --port PORT[,PORT...]    TCP port (required unless --unix); several: connections are
                           spread over them in turn (connection i to the (i mod N)-th)
  --unix PATH              connect to a Unix socket instead
  -c, --connections C      default 1
  -s, --size S             bytes per message including '\n', >= 24; default 64
  -d, --depth D            messages in flight per connection (chat: per sender); default 1
  --rate R                 chat: R lines/s from all senders together, each still within its
                           window (a line no sender may send yet is counted as held_back);
                           default 0, no pacing: every sender keeps D lines in flight
  -t, --duration SECONDS   measured time (idle: holding time); default 5
  --warmup SECONDS         unmeasured time before it; default 1
  --connect-timeout SECONDS  per connection attempt; default 10
  --drain-timeout SECONDS  after the measured time, how long the last replies may take; default 5
  --connect-concurrency N  connection attempts in progress at once; default 128
  --no-ping                idle: do not echo one line per connection before holding
  --tls                    every mode over TLS: each connection handshakes first (bounded
                           by --connect-timeout); needs --tls-ca or --tls-insecure
  --tls-ca FILE            trust this CA (PEM) and check that the server's certificate names
                           --tls-name
  --tls-insecure           accept any certificate (no verification)
  --tls-name NAME          the server's name to check and send with SNI; default --host
                           (localhost with --unix); an IP address is checked, not sent
  --websocket              echo: WebSocket instead of lines (RFC 6455, ws://): each
                           connection handshakes (a random Sec-WebSocket-Key; the Accept is
                           checked), then sends S-byte text messages (the message without
                           its '\n', plus one byte) in masked frames; every echo is checked
  --websocket-path PATH    the handshake's request target; default /
  -q, --quiet              only the RESULT line (and errors)

The last line of output is machine-readable: "RESULT key=value ...". Exit status: 0 when every
reply was verified and nothing failed, 1 on any error (connect failure, wrong echo, closed
connection, timeout), 2 for a bad command line.
)";
}

namespace {

std::size_t parse_count(std::string_view name, std::string_view text, std::size_t low,
                        std::size_t high) {
  std::size_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < low || value > high) {
    throw usage_error(std::string{name} + ": expected a number from " + std::to_string(low) +
                      " to " + std::to_string(high) + ", got '" + std::string{text} + "'");
  }
  return value;
}

std::chrono::milliseconds parse_seconds(std::string_view name, std::string_view text) {
  try {
    std::size_t used = 0;
    const double seconds = std::stod(std::string{text}, &used);
    if (used == text.size() && seconds >= 0 && seconds <= 86400) {
      return std::chrono::milliseconds{static_cast<long long>(seconds * 1000 + 0.5)};
    }
  } catch (const std::exception&) {
  }
  throw usage_error(std::string{name} + ": expected seconds from 0 to 86400, got '" +
                    std::string{text} + "'");
}

std::vector<std::uint16_t> parse_ports(std::string_view text) {
  std::vector<std::uint16_t> ports;
  while (true) {
    const std::size_t comma = text.find(',');
    ports.push_back(
        static_cast<std::uint16_t>(parse_count("--port", text.substr(0, comma), 1, 65535)));
    if (comma == std::string_view::npos) return ports;
    text.remove_prefix(comma + 1);
  }
}

load::mode parse_mode(std::string_view text) {
  if (text == "echo") return mode::echo;
  if (text == "idle") return mode::idle;
  if (text == "chat") return mode::chat;
  if (text == "handshake") return mode::handshake;
  throw usage_error("--mode: expected echo, idle, chat or handshake, got '" + std::string{text} +
                    "'");
}

// The TLS options go together: --tls with exactly one way of trusting the server.
void check_tls(options& result) {
  const bool has_ca = !result.tls_ca.empty();
  if (!result.tls) {
    if (has_ca || result.tls_insecure || !result.tls_name.empty())
      throw usage_error("--tls-ca, --tls-insecure and --tls-name need --tls");
    return;
  }
#ifndef CORONET_HAS_TLS
  throw usage_error("--tls: this load_generator was built without TLS (CORONET_WITH_TLS=OFF)");
#endif
  if (has_ca == result.tls_insecure)
    throw usage_error("--tls needs exactly one of --tls-ca FILE and --tls-insecure");
  if (result.tls_name.empty())
    result.tls_name = result.unix_path.empty() ? result.host : "localhost";
}

}  // namespace

options parse_options(int argc, char** argv) {
  options result;
  bool has_port = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage().c_str(), stdout);
      std::exit(0);
    }
    if (arg == "--no-ping") {
      result.idle_ping = false;
      continue;
    }
    if (arg == "--quiet" || arg == "-q") {
      result.quiet = true;
      continue;
    }
    if (arg == "--websocket") {
      result.websocket = true;
      continue;
    }
    if (arg == "--tls" || arg == "--tls-insecure") {
      (arg == "--tls" ? result.tls : result.tls_insecure) = true;
      continue;
    }
    if (i + 1 >= argc)
      throw usage_error("unknown option or missing value: '" + std::string{arg} + "'");
    const std::string_view value = argv[++i];
    if (arg == "--mode") {
      result.mode = parse_mode(value);
    } else if (arg == "--host") {
      result.host = value;
    } else if (arg == "--port") {
      result.ports = parse_ports(value);
      result.port = result.ports.front();
      has_port = true;
    } else if (arg == "--unix") {
      result.unix_path = value;
    } else if (arg == "--connections" || arg == "-c") {
      result.connections = parse_count(arg, value, 1, 1000000);
    } else if (arg == "--size" || arg == "-s") {
      result.message_size = parse_count(arg, value, min_message_size, 16 * 1024 * 1024);
    } else if (arg == "--depth" || arg == "-d") {
      result.depth = parse_count(arg, value, 1, 1000000);
    } else if (arg == "--rate") {
      result.rate = parse_count(arg, value, 1, 100000000);
    } else if (arg == "--duration" || arg == "-t") {
      result.duration = parse_seconds(arg, value);
    } else if (arg == "--warmup") {
      result.warmup = parse_seconds(arg, value);
    } else if (arg == "--connect-timeout") {
      result.connect_timeout = parse_seconds(arg, value);
    } else if (arg == "--drain-timeout") {
      result.drain_timeout = parse_seconds(arg, value);
    } else if (arg == "--connect-concurrency") {
      result.connect_concurrency = parse_count(arg, value, 1, 100000);
    } else if (arg == "--tls-ca") {
      result.tls_ca = value;
    } else if (arg == "--websocket-path") {
      if (!value.starts_with("/")) throw usage_error("--websocket-path must start with '/'");
      result.websocket_path = value;
    } else if (arg == "--tls-name") {
      result.tls_name = value;
    } else {
      throw usage_error("unknown option '" + std::string{arg} + "'");
    }
  }
  if (result.unix_path.empty() && !has_port) throw usage_error("--port (or --unix) is required");
  if (!result.unix_path.empty() && has_port)
    throw usage_error("--unix and --port exclude each other");
  if (result.mode == mode::chat && result.connections < 2) {
    throw usage_error("--mode chat needs at least 2 connections");
  }
  if (result.rate > 0 && result.mode != mode::chat) throw usage_error("--rate needs --mode chat");
  if (result.websocket && (result.mode != mode::echo || result.tls || !result.unix_path.empty()))
    throw usage_error("--websocket needs --mode echo over plain TCP (no --tls, no --unix)");
  if (result.ports.size() > 1 && result.mode != mode::chat)
    throw usage_error("several ports need --mode chat");
  check_tls(result);
  return result;
}

const char* mode_name(mode mode) noexcept {
  switch (mode) {
    case mode::echo:
      return "echo";
    case mode::idle:
      return "idle";
    case mode::chat:
      return "chat";
    case mode::handshake:
      return "handshake";
  }
  return "?";
}

std::string target_name(const options& options) {
  if (!options.unix_path.empty()) return "unix:" + options.unix_path;
  std::string name = options.host + ":";
  for (std::size_t i = 0; i < options.ports.size(); ++i) {
    if (i > 0) name += ',';
    name += std::to_string(options.ports[i]);
  }
  return name;
}

}  // namespace load
