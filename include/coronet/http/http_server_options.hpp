// Options of an HTTP server: the server's own (address, max_connections, timeouts) with
// defaults chosen for HTTP, the request codec's limits, and keep-alive's bound.
#pragma once

#include <chrono>
#include <cstddef>

#include "coronet/codec/http_request_codec.hpp"
#include "coronet/endpoint/server_options.hpp"

namespace coronet {

/// server_options with HTTP's defaults: a keep-alive connection idle for 15 s is closed
/// (connection.idle_timeout, which also bounds the wait for the first request), and a request
/// must arrive whole within 10 s of its first byte (connection.read_timeout: a client trickling
/// bytes is cut then). Everything else is server_options' default (max_connections 1024, ...).
server_options http_default_server_options();

/// Where an HTTP server listens and its limits. Every limit is on by default.
struct http_server_options {
  /// Address, max_connections (a refused client gets a 503), timeouts, observer, log.
  server_options server = http_default_server_options();
  /// Request limits: request line 8 KiB (414), header 8 KiB and 100 fields (431), body 1 MiB
  /// (413).
  http_request_codec_options codec;
  /// Requests served on one keep-alive connection; the last response says "Connection: close".
  /// Default 100.
  std::size_t max_requests_per_connection = 100;
};

}  // namespace coronet
