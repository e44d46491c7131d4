// chat_server: a line-based chat room. Every line a client sends goes to all other clients as
// "[IP:PORT] line"; "exit" disconnects that client; clients past --max-connections (default 3)
// get "error: server full (N connections)". Works with chat_client, nc, socat or a few lines of
// Python as clients. With --tls-cert/--tls-key it speaks TLS on its TCP port (chat_client --tls,
// openssl s_client, Python's ssl module); SIGHUP then reloads the certificate.
#include <cstdio>
#include <memory>
#include <string>
#include <type_traits>

#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <coronet/codec/line_codec.hpp>
#include <coronet/endpoint/address.hpp>
#include <coronet/stream/connection_options.hpp>

#include "chat_room.hpp"
#include "command_line.hpp"
#include "server_cli.hpp"

namespace {

coronet::send_queue_policy slow_client_policy(const std::string& name) {
  if (name == "wait") return coronet::send_queue_policy::wait;
  if (name == "disconnect") return coronet::send_queue_policy::disconnect;
  if (name == "drop") return coronet::send_queue_policy::drop;
  throw samples::usage_error("--slow-client: expected wait, disconnect or drop, got '" + name +
                             "'");
}

// How a client appears in the server's log, Python style (socket.accept()'s address tuple), and
// the name its lines carry. Unix socket clients have no address: they are numbered.
struct client_label {
  std::string address;
  std::string name;
};

client_label label(const asio::ip::tcp::endpoint& peer, std::size_t) {
  const std::string ip = peer.address().to_string();
  const std::string port = std::to_string(peer.port());
  if (peer.address().is_v6()) {
    const auto scope = std::to_string(peer.address().to_v6().scope_id());
    return {"('" + ip + "', " + port + ", 0, " + scope + ")", coronet::to_string(peer)};
  }
  return {"('" + ip + "', " + port + ")", coronet::to_string(peer)};
}

client_label label(const asio::local::stream_protocol::endpoint&, std::size_t number) {
  return {"('unix', " + std::to_string(number) + ")", "unix:" + std::to_string(number)};
}

void print_line(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

template <typename Server>
void start_chat(Server& server, coronet::send_queue_policy policy) {
  using connection = typename Server::template connection_type<coronet::line_codec>;
  auto room = std::make_shared<samples::chat_room<connection>>(policy);
  auto clients_seen = std::make_shared<std::size_t>(0);
  // The server keeps this handler (and so the room) alive while any session runs.
  server.template serve<coronet::line_codec>(
      [room, clients_seen](connection& conn) -> asio::awaitable<void> {
        const client_label client = label(conn.remote_endpoint(), ++*clients_seen);
        print_line("Linked @ Addr " + client.address);
        co_await room->join(conn, client.name);
        print_line("Unlinked @ Addr " + client.address);
      });
}

}  // namespace

int main(int argc, char** argv) {
  samples::ignore_sigpipe();
  samples::command_line cli{
      "chat_server",
      "A chat room: every line a client sends goes to all other clients as '[IP:PORT] line';\n"
      "a client that sends 'exit' is disconnected. Stop it with Ctrl-C (SIGINT) or SIGTERM.\n"
      "With --tls-cert and --tls-key it serves TLS; SIGHUP reloads the certificate files."};
  samples::add_server_options(cli, "3");
  cli.option("--slow-client", "POLICY", "disconnect",
             "a client not reading: disconnect it, drop lines for it, or wait (pause senders)");
  return samples::run_main(cli, "chat_server", [&] {
    cli.parse(argc, argv);
    coronet::server_options options = samples::server_options_from(cli);
    const auto tls = samples::tls_server_settings_from(cli);
    const coronet::send_queue_policy policy = slow_client_policy(cli.text("--slow-client"));
    options.connection.queue_policy = policy;
    // One thread: the room is shared by every session.
    return samples::run_server("chat_server", options, tls,
                               [policy](auto& server) { start_chat(server, policy); });
  });
}
