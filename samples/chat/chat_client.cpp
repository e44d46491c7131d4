// chat_client: sends each UTF-8 line typed on stdin to a chat_server and prints every line the
// server sends as "receive data: <line>". "exit" (or the end of stdin) sends "exit", closes and
// exits 0; so does the server closing first. Stdin may be a terminal, a pipe or a file.
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

#include "command_line.hpp"
#include "server_cli.hpp"
#include "stdin_reader.hpp"

namespace {

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

constexpr std::string_view program = "chat_client";

void print_stdout(std::string_view prefix, std::string_view line) {
  std::fwrite(prefix.data(), 1, prefix.size(), stdout);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void print_error(const std::string& message) {
  std::fprintf(stderr, "chat_client: %s\n", message.c_str());
}

// Shared by the two halves of a session.
struct session {
  bool said_exit = false;  // "exit" is queued: the server closing now is the expected answer.
};

// Prints what the server sends until it closes; the exit code when that ends the session.
template <typename Connection>
asio::awaitable<int> print_received(Connection& conn, const session& state) {
  while (true) {
    auto line = co_await conn.read();
    if (line) {
      print_stdout("receive data: ", *line);
      continue;
    }
    if (line.recoverable()) {
      print_error("received a line that is not valid: " + line.error().message());
      continue;
    }
    if (line.error() == asio::error::operation_aborted) co_return 0;  // We said "exit" first.
    if (line.error() == asio::error::eof) {
      if (state.said_exit) co_return 0;
      print_stdout("chat_client: ", "the server closed the connection");
      co_return 0;
    }
    print_error("connection lost: " + line.error().message());
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

// Sends stdin's lines until "exit" or the end of stdin, which sends "exit" too. Returns once
// "exit" has been handed to the operating system.
template <typename Connection>
asio::awaitable<int> send_stdin(Connection& conn, samples::stdin_reader& input, session& state) {
  stdin_lines lines{input};
  while (true) {
    const std::optional<std::string> line = co_await lines.next();
    asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
    if (cancellation.cancelled() != asio::cancellation_type::none) co_return 0;  // Server first.
    const std::string text = line.value_or("exit");
    if (const std::error_code error = co_await conn.write(text)) {
      // The connection is gone: let print_received say how (bounded), then give up.
      asio::steady_timer grace{co_await asio::this_coro::executor, 2s};
      co_await grace.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      print_error("cannot send: " + error.message());
      co_return 1;
    }
    if (text == "exit") {
      state.said_exit = true;
      co_await conn.flush();
      co_return 0;
    }
  }
}

template <typename Connection>
asio::awaitable<int> chat(Connection conn, samples::stdin_reader& input) {
  session state;
  auto ended = co_await (print_received(conn, state) || send_stdin(conn, input, state));
  if (ended.index() == 0) co_return std::get<0>(ended);
  // We said "exit": the server closes its side; wait for that (bounded) so nothing we sent is
  // lost to a reset, and close.
  co_await conn.close_gracefully(2s);
  co_return std::get<1>(ended);
}

struct client_config {
  std::string host;
  std::uint16_t port = 0;
  std::string unix_path;
  coronet::connect_options connect;
};

asio::awaitable<int> run_client(client_config config, samples::stdin_reader& input) {
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
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  samples::ignore_sigpipe();
  samples::command_line cli{
      std::string{program},
      "Chat with a chat_server: each line typed on stdin is sent; every line from the server\n"
      "is printed as 'receive data: <line>'. Type 'exit' (or end stdin, Ctrl-D) to leave."};
  cli.option("--host", "HOST", "", "server host name or IP (default 127.0.0.1)")
      .option("--port", "PORT", "", "server TCP port (required unless --unix)")
      .option("--unix", "PATH", "", "connect to a Unix socket at PATH instead of TCP")
      .option("--connect-timeout", "SECONDS", "10", "give up connecting after this long");
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
