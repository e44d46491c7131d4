// Options of a datagram endpoint: where it binds, its receive and send timeouts, its socket
// options. Every field has a safe default.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "coronet/udp/datagram_socket_options.hpp"

namespace coronet {

/// Where and how a datagram endpoint (udp_endpoint, unix_datagram_endpoint) binds, and its
/// per-call limits. A zero duration turns that timeout off.
struct datagram_options {
  /// UDP: the address to bind (an IP literal or a host name; "0.0.0.0" or "::" for every
  /// interface). Default 127.0.0.1: receiving from other hosts must be asked for.
  std::string host = "127.0.0.1";
  /// UDP: the port; 0 picks a free one (see local_endpoint()). Default 0.
  std::uint16_t port = 0;
  /// UDP over IPv6: also receive IPv4 datagrams on an IPv6 socket (IPV6_V6ONLY off). Default
  /// true.
  bool dual_stack = true;
  /// Unix datagram socket: the path to bind. A stale socket file from a dead process is
  /// replaced; a live socket's file is not. The endpoint removes its file when it closes.
  /// Default empty: unbound, which can send but cannot be answered.
  std::string unix_path;

  /// Longest a receive may wait for a datagram; it then returns errc::timed_out and the
  /// endpoint stays usable. Every receive call can override it. Default off (0): a UDP endpoint
  /// has no connection that could go idle; a client waiting for a reply should set it.
  std::chrono::milliseconds receive_timeout{0};
  /// Longest a send may wait for room: a full socket buffer, or (Unix datagram sockets) a peer
  /// whose receive queue is full. Past it the send returns errc::timed_out. Default 5 s.
  std::chrono::milliseconds send_timeout = std::chrono::seconds{5};
  /// Largest datagram received, used when the codec states no limit of its own (a codec with
  /// `options().max_datagram_size`, like datagram_codec, sets it). Larger datagrams are
  /// rejected with errc::frame_too_long. The receive buffer is this + 1 bytes, so either limit is
  /// capped at 16 MiB. Default 65,507 (the largest UDP payload over IPv4).
  std::size_t max_datagram_size = 65'507;

  /// SO_REUSEADDR, SO_BROADCAST, buffer sizes, multicast groups.
  datagram_socket_options socket;
};

}  // namespace coronet
