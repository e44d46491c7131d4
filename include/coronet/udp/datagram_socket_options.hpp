// Socket options of a datagram endpoint (UDP or Unix datagram socket): the setsockopt() calls a
// Python SOCK_DGRAM program makes, as one struct. Unset fields keep the OS default.
#pragma once

#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <asio/ip/udp.hpp>
#include <asio/local/datagram_protocol.hpp>

namespace coronet {

/// Per-socket options of a datagram endpoint. Only set fields are applied, before bind().
struct datagram_socket_options {
  /// SO_REUSEADDR. Default false: on UDP it lets another socket bind the same port and take
  /// datagrams meant for this one (unlike TCP, where it only skips TIME_WAIT). Turn it on for
  /// several multicast receivers on one port.
  bool reuse_address = false;
  /// SO_BROADCAST (UDP only): allow sending to a broadcast address. Default false.
  bool broadcast = false;
  /// SO_SNDBUF in bytes. Default: OS default.
  std::optional<int> send_buffer_size;
  /// SO_RCVBUF in bytes: how many datagrams the kernel holds while nobody receives (it drops
  /// the rest). Linux doubles the value and caps it at net.core.rmem_max. Default: OS default.
  std::optional<int> receive_buffer_size;
  /// Multicast groups to join on the default interface (UDP only): IP literals such as
  /// "239.255.0.1" or "ff02::1", of the socket's family. Default none. A receiver must bind the
  /// group's port on the unspecified address ("0.0.0.0" / "::"), not on 127.0.0.1.
  std::vector<std::string> multicast_groups;
  /// IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP (UDP only): whether our own multicast datagrams
  /// reach receivers on this host. Default: OS default (on).
  std::optional<bool> multicast_loopback;
  /// IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS (UDP only). Default: OS default (1: this link).
  std::optional<int> multicast_hops;
};

/// Applies the set fields of `options` to an open UDP socket; returns the first error.
std::error_code apply_datagram_socket_options(asio::ip::udp::socket& socket,
                                              const datagram_socket_options& options);

/// Applies the fields that make sense on a Unix datagram socket (buffer sizes); the UDP-only
/// fields must be left unset, or asio::error::operation_not_supported is returned.
std::error_code apply_datagram_socket_options(asio::local::datagram_protocol::socket& socket,
                                              const datagram_socket_options& options);

}  // namespace coronet
