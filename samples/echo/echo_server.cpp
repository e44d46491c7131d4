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
#include "server_cli.hpp"

namespace {

// Echoes each message. A line that is not UTF-8 or too long is answered by the connection
// itself ("error: invalid UTF-8 (reason)": decode_error_policy::reply, the default) and reading
// goes on; a length-prefixed stream that lost its framing ends.
struct echo_handler {
  template <typename Connection>
  asio::awaitable<void> operator()(Connection& conn) const {
    while (true) {
      // What is already received is taken without suspending, and so is the reply while the
      // send queue has room: a co_await resumes this coroutine even when nothing needs waiting
      // for, which costs as much as the echo itself. So one resumption per burst of messages.
      auto message = conn.try_read();
      if (message.error() == asio::error::would_block) message = co_await conn.read();
      // Recoverable decode errors never get here: the connection answers them.
      if (!message) co_return;
      std::error_code error;
      if (conn.has_room()) {
        error = conn.try_write(*message);
      } else {
        error = co_await conn.write(*message);  // Waits for room (send_queue_policy::wait).
      }
      if (error) {
        if (!conn.is_open()) co_return;
        // A message the codec cannot send back ("x\r", decoded from "x\r\r\n": a trailing '\r'
        // would not survive the trip) is refused alone; the connection goes on.
        co_await send_error(conn, error);
      }
    }
  }

  // A coroutine of its own: the reply text then takes room in the echo loop's frame, which
  // every idle connection holds, only while an error is being answered.
  template <typename Connection>
  static asio::awaitable<void> send_error(Connection& conn, std::error_code error) {
    const std::string reply = "error: " + error.message();
    co_await conn.write(reply);
  }
};

}  // namespace

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
      auto start = [](auto& server) { server.template serve<coronet::line_codec>(echo_handler{}); };
      return samples::detail::serve_until_stopped<coronet::websocket_server>(
          "echo_server", options, threads, start, &metrics, web);
    }
    return samples::run_server(
        "echo_server", options, tls,
        [&codec](auto& server) {
          if (codec == "line") {
            server.template serve<coronet::line_codec>(echo_handler{});
          } else {
            server.template serve<coronet::length_prefixed_codec>(echo_handler{});
          }
        },
        threads, &metrics);
  });
}
