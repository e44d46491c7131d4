// udp_echo_server: sends every valid datagram (UTF-8, at most 65,507 bytes) back to its sender,
// over UDP or a Unix datagram socket. Invalid datagrams are dropped and counted: answering them
// would let a forged sender address turn this server against a third party.
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <coronet/endpoint/address.hpp>
#include <coronet/metrics/metrics_http_server.hpp>
#include <coronet/metrics/server_collector.hpp>
#include <coronet/udp/datagram_server.hpp>

#include "command_line.hpp"
#include "metrics_cli.hpp"
#include "udp_cli.hpp"

namespace {

struct echo_handler {
  template <typename Datagram>
  asio::awaitable<void> operator()(Datagram& datagram) const {
    co_await datagram.reply(datagram.message);
  }
};

// Serves until SIGINT or SIGTERM, then stops gracefully (running handlers finish) and returns.
template <typename Server>
int serve(asio::io_context& io, const coronet::datagram_server_options& options,
          samples::sample_metrics& metrics) {
  Server server{io, options};  // Binds now: a busy port throws before "listening on".
  server.serve(echo_handler{});
  coronet::metrics::register_server(metrics.registry, server);
  std::optional<coronet::metrics::metrics_http_server> metrics_server;
  if (metrics.host) {
    coronet::http_server_options http = coronet::metrics::metrics_http_options();
    http.server.host = *metrics.host;
    http.server.port = metrics.port;
    metrics_server.emplace(io, metrics.registry, std::move(http));
    metrics_server->start();
  }
  std::printf("listening on %s\n", coronet::to_string(server.local_endpoint()).c_str());
  if (metrics_server) {
    std::printf("metrics on http://%s/metrics\n",
                coronet::to_string(metrics_server->local_endpoint()).c_str());
  }
  std::fflush(stdout);

  asio::signal_set signals{io, SIGINT, SIGTERM};
  signals.async_wait([&](std::error_code error, int) {
    if (error) return;
    server.stop();
    if (metrics_server) metrics_server->stop();
  });
  io.run();  // Returns once the server has stopped: nothing else is left to run.

  const coronet::datagram_server_stats stats = server.stats();
  std::fprintf(stderr,
               "udp_echo_server: stopped; %llu datagrams echoed, %llu not UTF-8, %llu too long\n",
               static_cast<unsigned long long>(stats.endpoint.sent),
               static_cast<unsigned long long>(stats.endpoint.rejected_invalid_utf8),
               static_cast<unsigned long long>(stats.endpoint.rejected_oversize));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  samples::command_line cli{"udp_echo_server",
                            "Sends every valid UTF-8 datagram back to its sender."};
  samples::udp::add_target_options(
      cli, "address to bind, an IP or a host name; '::' = every IPv6 and IPv4 interface",
      "UDP port; 0 picks a free one, printed on the 'listening on' line (default 0)",
      "serve on a Unix datagram socket at PATH instead of UDP");
  cli.option("--max-handlers", "N", "256", "datagrams answered at once; the rest wait");
  samples::add_metrics_option(cli);
  return samples::run_main(cli, "udp_echo_server", [&] {
    cli.parse(argc, argv);
    const samples::udp::target target = samples::udp::target_from(cli);
    coronet::datagram_server_options options;
    options.endpoint.host = target.host;
    options.endpoint.port = target.port;
    options.endpoint.unix_path = target.unix_path;
    options.max_concurrent_handlers =
        static_cast<std::size_t>(cli.number("--max-handlers", 1, 1'000'000));
    options.name = "udp_echo_server";  // The label server="NAME" of its metrics.
    samples::sample_metrics metrics;
    samples::metrics_settings_from(cli, metrics);
    asio::io_context io;
    if (target.unix_path.empty()) return serve<coronet::udp_server<>>(io, options, metrics);
    return serve<coronet::unix_datagram_server<>>(io, options, metrics);
  });
}
