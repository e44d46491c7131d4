// Where a Redis server is and how to talk to it: its address (HOST:PORT or unix:PATH), AUTH
// credentials (the password from a file, never from a command line), timeouts and limits.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "coronet/codec/resp_codec.hpp"

namespace coronet::redis {

/// A Redis server's address: TCP host and port, or a Unix socket path.
struct redis_address {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string unix_path;  ///< Non-empty: connect to this Unix socket instead of host:port.

  bool is_unix() const noexcept { return !unix_path.empty(); }
  /// "HOST:PORT" ("[::1]:6379" for IPv6) or "unix:PATH": how logs name the server.
  std::string to_string() const;
  /// Parses "HOST:PORT", "[V6]:PORT" or "unix:PATH"; nullopt for anything else.
  static std::optional<redis_address> parse(std::string_view text);
};

/// How a Redis client or subscriber connects. Every wait is bounded by default.
struct redis_options {
  redis_address address;
  /// ACL user for AUTH; empty means the default user (AUTH with the password alone).
  std::string user;
  /// Password for AUTH; nullopt sends no AUTH. Read it with read_password_file().
  std::optional<std::string> password;
  /// Bound on connecting (name resolution and each address). Default 5 s.
  std::chrono::milliseconds connect_timeout = std::chrono::seconds{5};
  /// Bound on each command's reply (AUTH included); past it the connection is closed and every
  /// command in flight fails with errc::timed_out. 0 turns it off. Default 5 s.
  std::chrono::milliseconds command_timeout = std::chrono::seconds{5};
  /// Most commands in flight (sent, reply not yet read) on one client. Default 10,000.
  std::size_t max_pending = 10'000;
  /// Bytes of commands queued for sending before command() fails with errc::send_queue_full.
  /// Default 8 MiB.
  std::size_t send_queue_limit = 8 * 1024 * 1024;
  /// Limits on what the server may send (bulk length, nesting, elements, message size).
  resp_codec_options codec;
};

/// Reads a password from `path`: the whole file without one trailing "\n" (or "\r\n").
/// Returns redis_errc::password_file (and leaves `password` alone) if it cannot be read.
std::error_code read_password_file(const std::string& path, std::string& password);

}  // namespace coronet::redis
