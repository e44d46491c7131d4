// metrics_http_server: the HTTP endpoint Prometheus scrapes. GET /metrics answers with a
// metrics_registry's text exposition (format 0.0.4); any other path is a 404. It is an
// http_server like any other, with every limit of one, and it counts its own connections in
// the same registry under server="metrics" (its options' name).
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "coronet/http/http_server.hpp"
#include "coronet/http/http_server_options.hpp"
#include "coronet/metrics/metrics_registry.hpp"
#include "coronet/metrics/text_format.hpp"

namespace coronet::metrics {

/// http_server_options for a metrics endpoint: the name "metrics", HTTP's defaults otherwise
/// (127.0.0.1, a free port, 1,024 connections, 15 s keep-alive idle, 10 s per request).
http_server_options metrics_http_options();

/// Serves GET /metrics from a registry. Use it from the thread running its executor; the
/// registry may be written from any thread meanwhile (its metrics are lock-free).
class metrics_http_server {
 public:
  /// Binds and listens (local_endpoint() is known at once); `registry` must outlive this
  /// object. Throws std::system_error if the address cannot be bound.
  metrics_http_server(const asio::any_io_executor& executor, metrics_registry& registry,
                      http_server_options options = metrics_http_options());
  metrics_http_server(asio::io_context& io, metrics_registry& registry,
                      http_server_options options = metrics_http_options())
      : metrics_http_server(io.get_executor(), registry, std::move(options)) {}

  metrics_http_server(const metrics_http_server&) = delete;
  metrics_http_server& operator=(const metrics_http_server&) = delete;
  /// Takes this endpoint's own metrics out of the registry.
  ~metrics_http_server();

  /// Starts accepting scrapes.
  void start() { server_.start(); }
  /// Graceful stop (see basic_server::stop).
  void stop() { server_.stop(); }
  /// The bound address (with the real port when the port option was 0).
  asio::ip::tcp::endpoint local_endpoint() const { return server_.local_endpoint(); }
  /// The HTTP server, for its own controls and metrics.
  http_server& server() noexcept { return server_; }

 private:
  metrics_registry& registry_;
  http_server server_;
  collector_id own_metrics_;
};

}  // namespace coronet::metrics
