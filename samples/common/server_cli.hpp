// What the stream server samples (chat_server, echo_server) share: the common command-line
// options (--host, --port, --unix, --max-connections, --idle-timeout, --read-timeout, and the
// TLS ones of tls_cli.hpp), the one "listening on" line, a graceful stop on SIGINT/SIGTERM, and
// (TLS) a certificate reload on SIGHUP. run_server() picks tcp_server, unix_server or tls_server
// at run time and hands it to the sample's start function, a generic lambda.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <coronet/endpoint/address.hpp>
#include <coronet/endpoint/server.hpp>
#include <coronet/endpoint/server_options.hpp>
#include <coronet/metrics/metrics_http_server.hpp>
#include <coronet/metrics/server_collector.hpp>

#include "command_line.hpp"
#include "metrics_cli.hpp"
#include "tls_cli.hpp"

namespace samples {

/// Declares the options every server sample takes. `default_max_connections` is the sample's own.
inline void add_server_options(command_line& cli, std::string default_max_connections = "1024") {
  // --host and --port show their defaults in the help text but have no parsed default, so that
  // server_options_from() can tell whether they were given along with --unix.
  cli.option("--host", "HOST", "",
             "IP or host name to bind; '::' = all interfaces (default 127.0.0.1)")
      .option("--port", "PORT", "", "TCP port; 0 picks a free one (default 0)")
      .option("--unix", "PATH", "", "listen on a Unix socket at PATH instead of TCP")
      .option("--max-connections", "N", std::move(default_max_connections),
              "clients served at once; more are refused")
      .option("--idle-timeout", "SECONDS", "300", "close a client silent this long; 0 = never")
      .option("--read-timeout", "SECONDS", "60",
              "close a client still sending one line this long after its first byte "
              "(slowloris); 0 = never");
  add_tls_server_options(cli);
  add_metrics_option(cli);
}

/// The server options the command line asks for. Throws usage_error for unusable values.
inline coronet::server_options server_options_from(const command_line& cli) {
  coronet::server_options options;
  if (cli.has("--unix")) {
    if (cli.has("--host") || cli.has("--port")) {
      throw usage_error("--unix cannot be combined with --host or --port");
    }
    options.unix_path = cli.text("--unix");
    if (options.unix_path.empty()) throw usage_error("--unix needs a path");
  } else {
    if (cli.has("--host")) options.host = cli.text("--host");
    if (cli.has("--port"))
      options.port = static_cast<std::uint16_t>(cli.number("--port", 0, 65535));
  }
  options.max_connections = static_cast<std::size_t>(cli.number("--max-connections", 1, 1000000));
  options.connection.idle_timeout =
      std::chrono::seconds{cli.number("--idle-timeout", 0, 365LL * 24 * 3600)};
  options.connection.read_timeout =
      std::chrono::seconds{cli.number("--read-timeout", 0, 365LL * 24 * 3600)};
  options.handshake_timeout = std::chrono::seconds{cli.number("--handshake-timeout", 1, 3600)};
  return options;
}

/// Writes to a peer that has gone must fail with EPIPE, not kill the process.
inline void ignore_sigpipe() {
  std::signal(SIGPIPE, SIG_IGN);
}

namespace detail {

// Prints "stats: ..." every metrics.stats_interval, from the servers' summed metrics, until
// stop().
template <typename Server>
class stats_printer {
 public:
  stats_printer(asio::io_context& io, const std::vector<std::unique_ptr<Server>>& servers,
                const sample_metrics* metrics)
      : timer_{io}, servers_{servers}, metrics_{metrics} {
    if (metrics_ != nullptr && metrics_->stats_interval.count() > 0) {
      last_ = sum();
      arm();
    }
  }
  void stop() { timer_.cancel(); }

 private:
  coronet::server_metrics sum() const {
    coronet::server_metrics total;
    for (const auto& server : servers_)
      total += server->metrics();
    return total;
  }
  void arm() {
    timer_.expires_after(metrics_->stats_interval);
    timer_.async_wait([this](std::error_code error) {
      if (error) return;
      const double seconds = std::chrono::duration<double>(metrics_->stats_interval).count();
      coronet::server_metrics now = sum();
      std::string line = "stats: ";
      if (metrics_->stats_prefix) line += metrics_->stats_prefix(seconds) + ", ";
      line += stats_line(now, last_, seconds);
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
      last_ = std::move(now);
      arm();
    });
  }

  asio::steady_timer timer_;
  const std::vector<std::unique_ptr<Server>>& servers_;
  const sample_metrics* metrics_;
  coronet::server_metrics last_;
};

// Runs `threads` servers of type Server, each made from `options` and a transport made from
// `transport_arguments` (none, or the TLS options).
template <typename Server, typename... TransportArguments>
int serve_until_stopped(std::string_view program, coronet::server_options options,
                        std::size_t threads, auto& start, sample_metrics* metrics,
                        const TransportArguments&... transport_arguments) {
  options.name = std::string{program};  // The label server="NAME" of its metrics.
  if (threads > 1) {
    // One server per thread, each on its own io_context, all on one port: the kernel spreads
    // connections across them and no message ever crosses threads.
    options.reuse_port = true;
    options.max_connections = (options.max_connections + threads - 1) / threads;
  }
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<Server>> servers;
  for (std::size_t i = 0; i < threads; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));  // 1: one thread runs it.
    // Binds (and, for TLS, loads the certificate) now: a busy port or a file that does not load
    // throws before "listening on".
    servers.push_back(std::make_unique<Server>(
        *contexts.back(), options, typename Server::transport_type{transport_arguments...}));
    if constexpr (std::is_same_v<typename Server::protocol_type, asio::ip::tcp>) {
      options.port = servers.front()->local_endpoint().port();  // The others join its port.
    }
    start(*servers.back());
  }

  // The metrics endpoint binds now too: a busy port fails before "listening on".
  std::optional<coronet::metrics::metrics_http_server> metrics_server;
  if (metrics != nullptr) {
    for (const auto& server : servers)
      coronet::metrics::register_server(metrics->registry, *server);
    if (metrics->host) {
      coronet::http_server_options http = coronet::metrics::metrics_http_options();
      http.server.host = *metrics->host;
      http.server.port = metrics->port;
      metrics_server.emplace(contexts.front()->get_executor(), metrics->registry, std::move(http));
      metrics_server->start();
    }
  }
  stats_printer<Server> stats{*contexts.front(), servers, metrics};

  // Handle the signals before saying "listening on": whoever reads that line may signal at once.
  reload_on_sighup<Server> reloader{contexts, servers};
  asio::signal_set signals{*contexts.front(), SIGINT, SIGTERM};
  signals.async_wait([&](std::error_code error, int signal_number) {
    if (error) return;
    std::fprintf(stderr, "%.*s: %s: stopping (connections get up to %lld ms to drain)\n",
                 static_cast<int>(program.size()), program.data(),
                 signal_number == SIGINT ? "SIGINT" : "SIGTERM",
                 static_cast<long long>(options.drain_timeout.count()));
    std::error_code ignored;
    signals.clear(ignored);  // A second signal ends the process at once (default action).
    reloader.stop();
    stats.stop();
    if (metrics_server) metrics_server->stop();
    // Each server is stopped on its own thread; run() returns once its connections drained.
    for (std::size_t i = 0; i < servers.size(); ++i) {
      asio::post(*contexts[i], [server = servers[i].get()] { server->stop(); });
    }
  });
  std::printf("listening on %s\n", coronet::to_string(servers.front()->local_endpoint()).c_str());
  if (metrics_server) {
    std::printf("metrics on http://%s/metrics\n",
                coronet::to_string(metrics_server->local_endpoint()).c_str());
  }
  std::fflush(stdout);
  std::vector<std::thread> workers;
  for (std::size_t i = 1; i < contexts.size(); ++i) {
    workers.emplace_back([&context = *contexts[i]] { context.run(); });
  }
  contexts.front()->run();
  for (std::thread& worker : workers)
    worker.join();
  return 0;
}

}  // namespace detail

/// Listens as `options` say (TCP, TLS over TCP when `tls` is set, or a Unix socket when
/// options.unix_path is set), calls `start(server)` so the sample can call serve(), prints
/// "listening on HOST:PORT" (or "listening on unix:PATH") and runs until SIGINT/SIGTERM has
/// stopped the server gracefully; with TLS, SIGHUP reloads the certificate files. With
/// `threads` > 1 (TCP only) there is one server per thread on the same port (SO_REUSEPORT),
/// max_connections shared out between them. Returns the exit code (0). Throws
/// std::system_error when it cannot listen (coronet::tls_config_error when a TLS file does not
/// load).
template <typename Start>
int run_server(std::string_view program, coronet::server_options options,
               const std::optional<tls_server_settings>& tls, Start start, std::size_t threads = 1,
               sample_metrics* metrics = nullptr) {
  if (tls) {
#if defined(CORONET_HAS_TLS)
    return detail::serve_until_stopped<coronet::tls_server>(program, std::move(options), threads,
                                                            start, metrics, *tls);
#else
    throw usage_error(std::string{tls_not_built});
#endif
  }
  if (options.unix_path.empty()) {
    return detail::serve_until_stopped<coronet::tcp_server>(program, std::move(options), threads,
                                                            start, metrics);
  }
  if (threads > 1) throw usage_error("--threads needs TCP (not --unix)");
  return detail::serve_until_stopped<coronet::unix_server>(program, std::move(options), 1, start,
                                                           metrics);
}

}  // namespace samples
