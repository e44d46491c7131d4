// Addresses as people type and read them: "127.0.0.1:7000", "[::1]:7000", "unix:/tmp/chat.sock".
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/local/datagram_protocol.hpp>
#include <asio/local/stream_protocol.hpp>

namespace coronet {

/// "IP:PORT" for IPv4, "[IP]:PORT" for IPv6.
std::string to_string(const asio::ip::tcp::endpoint& endpoint);
std::string to_string(const asio::ip::udp::endpoint& endpoint);
/// "unix:PATH", or "unix:(unnamed)" for an unbound peer.
std::string to_string(const asio::local::stream_protocol::endpoint& endpoint);
std::string to_string(const asio::local::datagram_protocol::endpoint& endpoint);

/// Parses an IP literal, or resolves a host name (blocking) to its first address. Throws
/// std::system_error when the host cannot be resolved.
asio::ip::address resolve_address(const std::string& host);

/// Parses an IP literal, or resolves a host name (blocking) to its first address; "" and "*"
/// mean every IPv4 interface. Throws std::system_error when the host cannot be resolved.
asio::ip::address listen_address(const std::string& host);

/// Makes `path` free for a Unix socket (stream or datagram): a stale socket file left by a dead
/// process is removed; a live socket of either type, or a file that is not a socket, is not
/// touched and address_in_use is returned.
std::error_code prepare_unix_socket_path(const std::string& path);

namespace detail {
/// The inode of the socket file at `path` (0 if none): what remove_unix_socket_file checks.
std::uint64_t unix_socket_file_inode(const std::string& path);
/// Removes `path` if it is still the socket file with `inode` (never another process's file).
void remove_unix_socket_file(const std::string& path, std::uint64_t inode);
}  // namespace detail

}  // namespace coronet
