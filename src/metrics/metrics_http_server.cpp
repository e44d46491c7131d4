#include "coronet/metrics/metrics_http_server.hpp"

#include "coronet/metrics/server_collector.hpp"

namespace coronet::metrics {

http_server_options metrics_http_options() {
  http_server_options options;
  options.server.name = "metrics";
  return options;
}

metrics_http_server::metrics_http_server(const asio::any_io_executor& executor,
                                         metrics_registry& registry, http_server_options options)
    : registry_{registry},
      server_{executor, std::move(options)},
      own_metrics_{register_server(registry, server_.server())} {
  server_.get("/metrics", [&registry](const http_request&) {
    return http_response::with_body(200, registry.write_text(), std::string{text_content_type});
  });
}

metrics_http_server::~metrics_http_server() {
  registry_.remove_collector(own_metrics_);
}

}  // namespace coronet::metrics
