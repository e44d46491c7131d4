// chat_web: chat_server's web port (--web HOST:PORT). One WebSocket server serves both `GET /`
// (the chat page, samples/chat/chat_page.html, embedded at build time) and `GET /ws` (the
// upgrade into the room the TCP clients are in); with --tls-cert/--tls-key it is https and wss.
// It runs on the chat server's thread, stops on SIGINT/SIGTERM with it (web members get 1001),
// and, under TLS, reloads its certificate on SIGHUP with it.
#pragma once

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <coronet/codec/http_message.hpp>
#include <coronet/endpoint/address.hpp>
#include <coronet/endpoint/server_options.hpp>
#include <coronet/endpoint/websocket_transport.hpp>
#include <coronet/metrics/metrics_registry.hpp>
#include <coronet/metrics/server_collector.hpp>

#include "chat_page.hpp"  // Generated from chat_page.html (see CMakeLists.txt).
#include "command_line.hpp"
#include "tls_cli.hpp"

namespace samples {

/// What --web, --web-max-message and --web-max-connections ask for.
struct web_settings {
  std::string host;
  std::uint16_t port = 0;
  std::size_t max_message = 1024 * 1024;
  /// The web port's own cap on open connections. 0: the room's cap plus web_spare_connections.
  std::size_t max_connections = 0;
};

/// Connections the web port keeps beyond the room's seats by default: a browser loading the page
/// opens more than its WebSocket (the page, its favicon, and idle connections it opens ahead in
/// case it needs them, which last until the handshake deadline closes them). Members themselves
/// are capped by the room's seats, TCP and web together, whatever this allows.
inline constexpr std::size_t web_spare_connections = 64;

/// Declares --web and --web-max-message.
inline void add_web_options(command_line& cli) {
  cli.option("--web", "HOST:PORT", "",
             "also serve the chat page (GET /) and WebSocket (GET /ws) into the same room; "
             "port 0 picks one; https/wss with --tls-cert")
      .option("--web-max-message", "BYTES", "1048576",
              "largest WebSocket message accepted (larger: closed with 1009)")
      .option("--web-max-connections", "N", "",
              "open connections on the web port, page fetches included (default: "
              "--max-connections + 64); members stay capped by --max-connections");
}

/// The web port the command line asks for, if any. Throws usage_error for a bad address.
inline std::optional<web_settings> web_settings_from(const command_line& cli) {
  if (!cli.has("--web")) return std::nullopt;
  const std::string address = cli.text("--web");
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    throw usage_error("--web: expected HOST:PORT, got '" + address + "'");
  }
  web_settings settings;
  settings.host = address.substr(0, colon);
  if (settings.host.size() > 2 && settings.host.front() == '[' && settings.host.back() == ']') {
    settings.host = settings.host.substr(1, settings.host.size() - 2);  // [::1]:8080
  }
  const std::string port = address.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
      std::stoul(port) > 65535) {
    throw usage_error("--web: expected a port from 0 to 65535, got '" + port + "'");
  }
  settings.port = static_cast<std::uint16_t>(std::stoul(port));
  settings.max_message = static_cast<std::size_t>(cli.number("--web-max-message", 1, 1LL << 30));
  if (!cli.text("--web-max-connections").empty()) {
    settings.max_connections =
        static_cast<std::size_t>(cli.number("--web-max-connections", 1, 1'000'000));
  }
  return settings;
}

/// The answers to plain HTTP requests on the web port: the page at "/", 400 at "/ws" without an
/// upgrade, 405 for other methods, 404 elsewhere. Each connection serves one request.
inline coronet::http_response chat_page_response(const coronet::http_request& request) {
  const std::string_view path = request.path();
  if (path != "/" && path != "/index.html" && path != "/ws") {
    return coronet::http_response::with_body(404, "not found\n");
  }
  if (request.method != "GET") {
    coronet::http_response refusal = coronet::http_response::with_body(405, "GET only\n");
    refusal.headers.add("Allow", "GET");
    return refusal;
  }
  if (path == "/ws") {
    return coronet::http_response::with_body(400, "a WebSocket handshake is expected here\n");
  }
  coronet::http_response page = coronet::http_response::with_body(
      200, std::string{chat_page_html()}, "text/html; charset=utf-8");
  // The page fetches nothing: say so to the browser too, so that a line that somehow became
  // markup could neither run a script of its own nor reach another origin.
  page.headers.add("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                   "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'");
  page.headers.add("Cache-Control", "no-cache");
  page.headers.add("X-Content-Type-Options", "nosniff");
  return page;
}

/// The running web port of chat_server.
class chat_web {
 public:
  virtual ~chat_web() = default;

  /// Starts the web port on `executor` with the chat server's `options` (limits, timeouts) and
  /// the cap in `settings` at `settings`' address, serving `handler` (the chat session, as on the
  /// TCP port). Prints "web on http(s)://HOST:PORT/" once the executor runs, so after "listening
  /// on". Its connection metrics go into `registry` as server="chat_server_web". Throws
  /// std::system_error when the address cannot be bound.
  template <typename Handler>
  static std::unique_ptr<chat_web> start(const asio::any_io_executor& executor,
                                         coronet::server_options options,
                                         const web_settings& settings,
                                         const std::optional<tls_server_settings>& tls,
                                         coronet::metrics::metrics_registry& registry,
                                         Handler handler) {
    options.name = "chat_server_web";
    options.max_connections = settings.max_connections != 0
                                  ? settings.max_connections
                                  : options.max_connections + web_spare_connections;
    options.host = settings.host;
    options.port = settings.port;
    options.unix_path.clear();
    options.reuse_port = false;
    coronet::websocket_server_options web;
    web.path = "/ws";
    web.http_handler = chat_page_response;
    web.connection.codec.max_message_size = settings.max_message;
    if (tls) {
#if defined(CORONET_HAS_TLS)
      using server = coronet::basic_server<coronet::websocket_transport<coronet::tls_transport>>;
      return std::make_unique<web_of<server>>(
          executor, options,
          coronet::websocket_transport<coronet::tls_transport>{web, coronet::tls_transport{*tls}},
          registry, std::move(handler), "https");
#else
      throw usage_error(std::string{tls_not_built});
#endif
    }
    return std::make_unique<web_of<coronet::websocket_server>>(
        executor, options, coronet::websocket_transport<>{web}, registry, std::move(handler),
        "http");
  }

 private:
  template <typename Server>
  class web_of;
};

template <typename Server>
class chat_web::web_of final : public chat_web {
 public:
  template <typename Handler>
  web_of(const asio::any_io_executor& executor, const coronet::server_options& options,
         typename Server::transport_type transport, coronet::metrics::metrics_registry& registry,
         Handler handler, std::string scheme)
      : server_{executor, options, std::move(transport)},
        stops_{executor, SIGINT, SIGTERM},
        hangups_{executor} {
    coronet::metrics::register_server(registry, server_);
    server_.template serve<coronet::line_codec>(std::move(handler));
    // Every signal_set waiting for a signal gets it: the TCP port's stop and this one both run.
    stops_.async_wait([this](std::error_code error, int) {
      if (error) return;
      std::error_code ignored;
      stops_.clear(ignored);
      hangups_.cancel(ignored);
      server_.stop();
    });
    if (scheme == "https") {
      std::error_code ignored;
      hangups_.add(SIGHUP, ignored);
      reload_on_hangup();
    }
    asio::post(executor,
               [url = scheme + "://" + coronet::to_string(server_.local_endpoint()) + "/"] {
                 std::printf("web on %s\n", url.c_str());
                 std::fflush(stdout);
               });
  }

 private:
  // The TCP port's certificate reload reports; this one only says when it fails.
  void reload_on_hangup() {
    hangups_.async_wait([this](std::error_code error, int) {
      if (error) return;
      if constexpr (requires { server_.transport().base().reload(); }) {
        try {
          server_.transport().base().reload();
        } catch (const std::exception& failure) {
          std::fprintf(stderr, "chat_server: web: reload failed: %s\n", failure.what());
        }
      }
      reload_on_hangup();
    });
  }

  Server server_;
  asio::signal_set stops_;
  asio::signal_set hangups_;
};

}  // namespace samples
