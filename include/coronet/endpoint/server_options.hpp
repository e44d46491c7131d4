// Options of a coronet server (TCP or Unix socket). Every limit is on by default.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "coronet/endpoint/server_observer.hpp"
#include "coronet/endpoint/socket_options.hpp"
#include "coronet/log.hpp"
#include "coronet/stream/connection_options.hpp"

namespace coronet {

/// What a server does with a connection that arrives when max_connections are open.
enum class overload_policy {
  /// Accept it, send refusal_message through the codec, and close it. The default: the client
  /// learns why at once instead of hanging.
  refuse,
  /// Stop accepting until a slot frees; newcomers wait in the kernel's listen backlog.
  pause_accepting,
};

/// Where and how a server listens, and the limits of the connections it serves.
struct server_options {
  /// The server's name in its metrics (the label server="NAME"). Default "server".
  std::string name = "server";
  /// TCP: the address to bind (an IP literal or a host name; "::" for every IPv6 interface).
  /// Default 127.0.0.1: listening on every interface must be asked for.
  std::string host = "127.0.0.1";
  /// TCP: the port; 0 picks a free one (see local_endpoint()). Default 0.
  std::uint16_t port = 0;
  /// TCP over IPv6: also accept IPv4 clients on an IPv6 socket (IPV6_V6ONLY off). Default true.
  bool dual_stack = true;
  /// Unix socket server: the socket's path. A stale socket file from a dead server is replaced;
  /// a live server's is not. The file is removed when the server stops.
  std::string unix_path;

  /// Connections served at once. Default 1024.
  std::size_t max_connections = 1024;
  /// What happens to connections past max_connections. Default refuse.
  overload_policy when_full = overload_policy::refuse;
  /// Sent to a refused client. Empty (the default) means "error: server full (N connections)".
  std::string refusal_message;
  /// Listen backlog. Default SOMAXCONN.
  int backlog = asio::socket_base::max_listen_connections;
  /// SO_REUSEADDR on the listening TCP socket. Default true (restarts don't wait for TIME_WAIT).
  bool reuse_address = true;
  /// SO_REUSEPORT on the listening TCP socket, so that several servers (one per thread, each on
  /// its own io_context) can bind the same port and the kernel spreads connections across them.
  /// Default false.
  bool reuse_port = false;

  /// Limits and timeouts of each connection (idle timeout, send queue, ...).
  connection_options connection;
  /// Socket options applied to each accepted connection (TCP_NODELAY on by default).
  socket_options socket;
  /// stop(): how long connections may take to send what is queued before they are closed.
  /// Default 5 s.
  std::chrono::milliseconds drain_timeout = std::chrono::seconds{5};
  /// Bound on a transport's handshake (TLS, a WebSocket upgrade) between accept and the
  /// handler: a deadline for the whole handshake, not an idle timer. A connection that has not
  /// finished it by then is closed. Unused by plain TCP and Unix sockets. Default 10 s.
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds{10};
  /// Receives the server's events and its connections' traffic (see server_observer). It must
  /// stay alive while the server or any of its connections is. Default none. With metrics on,
  /// its counters are the ones metrics() reports for the traffic.
  std::shared_ptr<server_observer> observer;
  /// The built-in counters behind metrics(): a relaxed store per message and event, on the
  /// server's own thread. Off, metrics() reports zeros and connections count nothing (unless
  /// an observer is set). Default true.
  bool metrics = true;
  /// Where the server reports what it cannot return: handler exceptions, accept failures.
  /// Default: warnings and errors to stderr.
  log_hook log = log_to_stderr;
};

}  // namespace coronet
