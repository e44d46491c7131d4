// chat_client: sends each UTF-8 line typed on stdin to a chat_server and prints every line the
// server sends as "receive data: <line>". After "exit" or at the end of stdin it half-closes
// (the server reads the end of the stream after the last line) and goes on printing what the
// server still sends until the server closes, for at most wait_for_close; then it exits 0. So
// `printf 'hi\n' | chat_client ...` sees the answers to its lines. A client the server refuses
// (its first line is "error: server full ...") says so on stderr and exits 1. Stdin may be a
// terminal, a pipe or a file. With --tls it connects over TLS and verifies the server first: a
// server that fails verification gets one "error: ..." line on stderr, nothing sent, exit 1.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <coronet/codec/line_codec.hpp>
#include <coronet/endpoint/client.hpp>
#include <coronet/stream/stream_concepts.hpp>

#include "command_line.hpp"
#include "server_cli.hpp"
#include "stdin_reader.hpp"
#include "tls_cli.hpp"

#if defined(CORONET_HAS_TLS)
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <asio/ssl/error.hpp>

#include <coronet/tls/tls_client.hpp>

#include "tls_half_close.hpp"
#endif

namespace {

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

constexpr std::string_view program = "chat_client";

// How long the client goes on printing once its input has ended, for a server that does not
// close when it reads the end of the stream (chat_server and echo_server close at once).
constexpr std::chrono::seconds wait_for_close{5};

// The first line a full server sends before it closes ("error: server full (N connections)").
constexpr std::string_view refusal = "error: server full";

void print_stdout(std::string_view prefix, std::string_view line) {
  std::fwrite(prefix.data(), 1, prefix.size(), stdout);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void print_error(const std::string& message) {
  std::fprintf(stderr, "chat_client: %s\n", message.c_str());
}

// What to do about a TLS connection the server ended with an alert after our side of the
// handshake had finished (a TLS 1.3 server checks the client's certificate then); empty for
// any other error.
std::string tls_alert_hint(std::error_code error) {
#if defined(CORONET_HAS_TLS)
  if (error.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(error.value())) ==
          SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED) {
    return "; the server requires a client certificate (--tls-cert and --tls-key)";
  }
#endif
  static_cast<void>(error);
  return {};
}

// Shared by the two halves of a session.
struct session {
  bool done_sending = false;  // Half-closed: the server closing now is the expected answer.
  bool received_any = false;
  bool refused = false;  // The server's first line was a refusal.
};

// The server ended TCP without TLS's close_notify: anyone on the path can cut a TLS stream
// short that way, so what came last (an unterminated line) is not to be trusted.
template <typename Connection>
bool ended_without_close_notify(Connection& conn) {
  if constexpr (requires { conn.stream().truncated(); }) {
    return conn.stream().truncated();
  } else {
    return false;
  }
}

// Prints what the server sends until it closes; the exit code when that ends the session.
template <typename Connection>
asio::awaitable<int> print_received(Connection& conn, session& state) {
  while (true) {
    auto line = co_await conn.read();
    if (line && ended_without_close_notify(conn)) {
      print_error(
          "not shown: an unterminated last line (the server ended TCP without TLS's "
          "close_notify, so it may be cut short)");
      continue;
    }
    if (line) {
      if (!state.received_any && line->starts_with(refusal)) {
        // Not a chat line but why this client cannot join; the server closes next.
        state.refused = true;
        const std::string_view reason = line->substr(std::string_view{"error: "}.size());
        print_error("refused by the server: " + std::string{reason});
      } else {
        print_stdout("receive data: ", *line);
      }
      state.received_any = true;
      continue;
    }
    if (line.recoverable()) {
      print_error("received a line that is not valid: " + line.error().message());
      continue;
    }
    if (state.refused) co_return 1;  // However the refused connection ended.
    if (line.error() == asio::error::operation_aborted) co_return 0;  // We stopped waiting.
    if (line.error() == asio::error::eof) {
      if (state.done_sending) co_return 0;  // The answer to our half-close.
      print_stdout("chat_client: ", ended_without_close_notify(conn)
                                        ? "the server closed the connection (TCP only, without "
                                          "TLS's close_notify)"
                                        : "the server closed the connection");
      co_return 0;
    }
    print_error("connection lost: " + line.error().message() + tls_alert_hint(line.error()));
    co_return 1;
  }
}

// The lines of stdin, decoded by the same line codec the server uses: lines that are not UTF-8,
// or too long, are reported on stderr and skipped.
class stdin_lines {
 public:
  explicit stdin_lines(samples::stdin_reader& input) : input_{input} {}

  /// The next valid line; nullopt at the end of stdin (or when the wait is cancelled).
  asio::awaitable<std::optional<std::string>> next() {
    while (true) {
      auto decoded = ended_ ? codec_.decode_eof(buffered_) : codec_.decode(buffered_);
      std::optional<std::string> line;
      if (decoded.has_message()) line.emplace(decoded.message());
      if (decoded.has_error()) {
        print_error("not sent: " + decoded.error().message() + " (" +
                    std::string{decoded.reason()} + ")");
      }
      buffered_.erase(0, decoded.consumed());
      if (line) co_return line;
      if (decoded.has_error()) continue;
      if (ended_) co_return std::nullopt;
      samples::stdin_chunk chunk = co_await input_.next();
      if (chunk.error == asio::error::operation_aborted) co_return std::nullopt;
      if (chunk.error) print_error("cannot read stdin: " + chunk.error.message());
      buffered_ += chunk.bytes;
      ended_ = chunk.end;
    }
  }

 private:
  samples::stdin_reader& input_;
  coronet::line_codec codec_;
  std::string buffered_;  // Read from stdin, not decoded yet.
  bool ended_ = false;
};

// Half-closes: the server reads the end of the stream after our last line. Over TLS that is
// close_notify, sent while print_received goes on reading.
template <typename Connection>
asio::awaitable<void> half_close(Connection& conn) {
  if constexpr (coronet::socket_stream<typename Connection::stream_type>) {
    conn.shutdown(asio::socket_base::shutdown_send);
  } else {
#if defined(CORONET_HAS_TLS)
    co_await samples::send_close_notify(conn.stream());
#endif
  }
  co_return;
}

// Once there is nothing more to send: hands what is queued to the operating system and
// half-closes, so that the server reads the end of the stream after our last line and can still
// answer it. Then waits up to wait_for_close: print_received ends the session first (which
// cancels this wait) as soon as the server closes.
template <typename Connection>
asio::awaitable<int> finish_sending(Connection& conn, session& state) {
  state.done_sending = true;
  // A failed flush is the end of the connection, which print_received reports.
  if (!co_await conn.flush()) co_await half_close(conn);
  asio::steady_timer timer{co_await asio::this_coro::executor, wait_for_close};
  auto [cancelled] = co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  if (!cancelled) {
    print_error("the server has not closed the connection " +
                std::to_string(wait_for_close.count()) +
                " s after the end of the input; not waiting longer");
  }
  co_return 0;
}

// Sends stdin's lines until "exit" (which is sent too) or the end of stdin, then finishes.
template <typename Connection>
asio::awaitable<int> send_stdin(Connection& conn, samples::stdin_reader& input, session& state) {
  stdin_lines lines{input};
  while (true) {
    const std::optional<std::string> line = co_await lines.next();
    asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
    if (cancellation.cancelled() != asio::cancellation_type::none) co_return 0;  // Server first.
    if (!line) co_return co_await finish_sending(conn, state);
    if (const std::error_code error = co_await conn.write(*line)) {
      // The connection is gone: let print_received say how (bounded), then give up.
      asio::steady_timer grace{co_await asio::this_coro::executor, 2s};
      co_await grace.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      print_error("cannot send: " + error.message());
      co_return 1;
    }
    if (*line == "exit") co_return co_await finish_sending(conn, state);
  }
}

// The session ends with whichever half ends first: the server closing (print_received), or no
// close within wait_for_close of the end of our input (send_stdin). The connection closes when
// this returns.
template <typename Connection>
asio::awaitable<int> chat(Connection conn, samples::stdin_reader& input) {
  session state;
  auto ended = co_await (print_received(conn, state) || send_stdin(conn, input, state));
  co_return ended.index() == 0 ? std::get<0>(ended) : std::get<1>(ended);
}

struct client_config {
  std::string host;
  std::uint16_t port = 0;
  std::string unix_path;
  coronet::connect_options connect;
  std::optional<samples::tls_client_settings> tls;  // nullopt: plain TCP.
};

#if defined(CORONET_HAS_TLS)

// Why a TLS connection failed, in words that say what to do about it. A refused certificate is
// reported in tls_verify_category ("certificate verify failed: certificate has expired", ...).
std::string describe_tls_failure(const client_config& config, std::error_code error) {
  std::string text = error.message();
  if (error.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(error.value())) == SSL_R_WRONG_VERSION_NUMBER) {
    return text + "; the server does not seem to speak TLS on this port";
  }
  if (error.category() != coronet::tls_verify_category()) return text;
  const std::string name = config.tls->server_name.empty() ? config.host : config.tls->server_name;
  switch (error.value()) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return text + " (the server's certificate does not carry the name '" + name +
             "'; --tls-server-name sets the name to expect)";
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return text + " (the server's certificate is no longer valid; the server must renew it)";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return text + " (the server's certificate is not issued by a CA trusted here: " +
             (config.tls->ca_file.empty() ? std::string{"the system's CAs"}
                                          : "--tls-ca " + config.tls->ca_file) +
             ")";
    default:
      return text;
  }
}

asio::awaitable<int> run_tls_client(const client_config& config, samples::stdin_reader& input) {
  if (config.tls->insecure_skip_verification) {
    std::fprintf(stderr,
                 "warning: --tls-insecure: the server's certificate is not verified; this "
                 "connection is insecure (anyone in the middle can read and change it)\n");
  }
  auto result =
      co_await coronet::connect_tls_ex(config.host, config.port, *config.tls, config.connect);
  if (!result) {
    std::fprintf(stderr, "error: cannot connect over TLS to %s:%u: %s\n", config.host.c_str(),
                 static_cast<unsigned>(config.port),
                 describe_tls_failure(config, result.error).c_str());
    co_return 1;
  }
  co_return co_await chat(std::move(*result.connection), input);
}

#endif

asio::awaitable<int> run_client(client_config config, samples::stdin_reader& input) {
#if defined(CORONET_HAS_TLS)
  if (config.tls) co_return co_await run_tls_client(config, input);
#endif
  if (!config.unix_path.empty()) {
    auto result = co_await coronet::connect_unix_ex(config.unix_path, config.connect);
    if (!result) {
      print_error("cannot connect to unix:" + config.unix_path + ": " + result.error.message());
      co_return 1;
    }
    co_return co_await chat(std::move(*result.connection), input);
  }
  auto result = co_await coronet::connect_ex(config.host, config.port, config.connect);
  if (!result) {
    print_error("cannot connect to " + config.host + ":" + std::to_string(config.port) + ": " +
                result.error.message());
    co_return 1;
  }
  co_return co_await chat(std::move(*result.connection), input);
}

client_config config_from(const samples::command_line& cli) {
  client_config config;
  if (cli.has("--unix")) {
    if (cli.has("--host") || cli.has("--port")) {
      throw samples::usage_error("--unix cannot be combined with --host or --port");
    }
    config.unix_path = cli.text("--unix");
  } else {
    if (!cli.has("--port")) throw samples::usage_error("--port (or --unix) is required");
    config.host = cli.has("--host") ? cli.text("--host") : "127.0.0.1";
    config.port = static_cast<std::uint16_t>(cli.number("--port", 1, 65535));
  }
  config.connect.timeout = std::chrono::seconds{cli.number("--connect-timeout", 1, 3600)};
  // A chat client may sit silent for hours; the server decides when an idle client goes.
  config.connect.connection.idle_timeout = std::chrono::milliseconds{0};
  // A line from the server that is not valid is shown here, not answered to the room.
  config.connect.connection.decode_errors = coronet::decode_error_policy::report;
  config.tls = samples::tls_client_settings_from(cli);
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  samples::ignore_sigpipe();
  samples::command_line cli{
      std::string{program},
      "Chat with a chat_server: each line typed on stdin is sent; every line from the server\n"
      "is printed as 'receive data: <line>'. Type 'exit' (or end stdin, Ctrl-D) to leave: the\n"
      "client then half-closes and prints what the server still sends until it closes (at\n"
      "most 5 s). Exits 1 when the server refuses it (server full) or the connection fails.\n"
      "With --tls it connects over TLS, after verifying the server's certificate."};
  cli.option("--host", "HOST", "", "server host name or IP (default 127.0.0.1)")
      .option("--port", "PORT", "", "server TCP port (required unless --unix)")
      .option("--unix", "PATH", "", "connect to a Unix socket at PATH instead of TCP")
      .option("--connect-timeout", "SECONDS", "10",
              "give up connecting (TLS: and the handshake) after this long");
  samples::add_tls_client_options(cli);
  return samples::run_main(cli, program, [&] {
    cli.parse(argc, argv);
    const client_config config = config_from(cli);
    asio::io_context io;
    samples::stdin_reader input{io.get_executor()};
    int exit_code = 1;
    asio::co_spawn(io, run_client(config, input), [&](std::exception_ptr failure, int code) {
      if (failure) std::rethrow_exception(failure);
      exit_code = code;
    });
    io.run();
    return exit_code;
  });
}
