// echo_server: sends every message back to the client that sent it, framed by --codec: "line"
// (newline-delimited UTF-8 text) or "length" (a 4-byte big-endian length, then the payload).
// Also the target of the throughput benchmarks. With --tls-cert/--tls-key it speaks TLS on its
// TCP port; SIGHUP then reloads the certificate. With --websocket it serves WebSocket (ws://,
// any path) instead: every text message comes back as one text message, through the same
// handler.
#include <string>

#include <coronet/endpoint/websocket_transport.hpp>

#include <coronet/codec/length_prefixed_codec.hpp>
#include <coronet/codec/line_codec.hpp>

#include "command_line.hpp"
#include "echo_handler.hpp"
#include "server_cli.hpp"

int main(int argc, char** argv) {
  samples::ignore_sigpipe();
  samples::command_line cli{
      "echo_server",
      "Sends every message back to its sender. With --tls-cert and --tls-key it serves TLS;\n"
      "SIGHUP reloads the certificate files."};
  samples::add_server_options(cli);
  cli.option("--codec", "CODEC", "line",
             "line (UTF-8 text lines) or length (4-byte big-endian length + payload)");
  cli.flag("--websocket",
           "serve WebSocket (ws://HOST:PORT/, any path; --codec line only): each text message "
           "comes back as one text message");
  cli.option("--web-max-message", "BYTES", "1048576",
             "largest WebSocket message accepted (larger: closed with 1009)");
  cli.option("--threads", "N", "1",
             "threads, each with its own server on the same port (TCP only); max-connections "
             "is shared out between them");
  return samples::run_main(cli, "echo_server", [&] {
    cli.parse(argc, argv);
    const coronet::server_options options = samples::server_options_from(cli);
    const auto tls = samples::tls_server_settings_from(cli);
    const std::string codec = cli.text("--codec");
    if (codec != "line" && codec != "length") {
      throw samples::usage_error("--codec: expected line or length, got '" + codec + "'");
    }
    const auto threads = static_cast<std::size_t>(cli.number("--threads", 1, 64));
    samples::sample_metrics metrics;
    samples::metrics_settings_from(cli, metrics);
    if (cli.has("--websocket")) {
      if (codec != "line") throw samples::usage_error("--websocket carries text: use --codec line");
      if (tls || !options.unix_path.empty()) {
        throw samples::usage_error("--websocket serves plain TCP here (no --tls-cert or --unix)");
      }
      coronet::websocket_server_options web;
      web.connection.codec.max_message_size =
          static_cast<std::size_t>(cli.number("--web-max-message", 1, 1LL << 30));
      auto start = [](auto& server) {
        server.template serve<coronet::line_codec>(samples::echo_callbacks());
      };
      return samples::detail::serve_until_stopped<coronet::websocket_server>(
          "echo_server", options, threads, start, &metrics, web);
    }
    return samples::run_server(
        "echo_server", options, tls,
        [&codec](auto& server) {
          if (codec == "line") {
            server.template serve<coronet::line_codec>(samples::echo_callbacks());
          } else {
            server.template serve<coronet::length_prefixed_codec>(samples::echo_callbacks());
          }
        },
        threads, &metrics);
  });
}
