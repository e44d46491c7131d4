// chat_server: a line-based chat room. Every line a client sends goes to all other clients as
// "[IP:PORT] line"; "exit" disconnects that client; clients past --max-connections (default 3)
// get "error: server full (N connections)". Works with chat_client, nc, socat or a few lines of
// Python as clients. With --tls-cert/--tls-key it speaks TLS on its TCP port (chat_client --tls,
// openssl s_client, Python's ssl module); SIGHUP then reloads the certificate. With --redis the
// room spans every chat_server on that Redis (a backplane, coronet/broadcast/redis_hub.hpp).
// With --web HOST:PORT it also serves the chat page and WebSocket into the same room
// (chat_web.hpp); --max-connections then counts members of both kinds, and the page fetches
// and idle connections browsers open besides count only against --web-max-connections.
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/signal_set.hpp>
#include <coronet/broadcast/redis_hub.hpp>
#include <coronet/codec/line_codec.hpp>
#include <coronet/endpoint/address.hpp>
#include <coronet/metrics/hub_collector.hpp>
#include <coronet/metrics/metrics_registry.hpp>
#include <coronet/stream/connection_options.hpp>

#include "chat_room.hpp"
#include "chat_web.hpp"
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

// Set when the backplane failed for good (authentication): the exit status is then 1.
std::atomic<bool> backplane_failed{false};

// --redis and its companions, when given.
struct backplane_settings {
  coronet::broadcast::redis_hub_options hub;
  std::string room;
};

std::optional<backplane_settings> backplane_settings_from(const samples::command_line& cli) {
  if (!cli.has("--redis") || cli.text("--redis").empty()) return std::nullopt;
  const auto address = coronet::redis::redis_address::parse(cli.text("--redis"));
  if (!address) {
    throw samples::usage_error("--redis: expected HOST:PORT or unix:PATH, got '" +
                               cli.text("--redis") + "'");
  }
  backplane_settings settings;
  settings.hub.redis.address = *address;
  settings.hub.redis.user = cli.text("--redis-user");
  settings.hub.sharded = cli.has("--redis-sharded");
  settings.room = cli.text("--room");
  if (settings.room.empty()) throw samples::usage_error("--room: the name must not be empty");
  if (const std::string file = cli.text("--redis-password-file"); !file.empty()) {
    std::string password;
    if (coronet::redis::read_password_file(file, password)) {
      throw std::runtime_error("backplane: error: cannot read the password file '" + file + "'");
    }
    settings.hub.redis.password = std::move(password);
  }
  settings.hub.on_status = [](const coronet::broadcast::backplane_status& status) {
    if (status.state == coronet::broadcast::backplane_state::failed) {
      std::fprintf(stderr, "%s\n", status.line().c_str());
      backplane_failed = true;
      std::raise(SIGTERM);  // The graceful stop every signal gets; main returns 1.
      return;
    }
    print_line(status.line());
  };
  return settings;
}

// The chat's own metrics, in the registry beside the server's.
struct chat_metrics {
  explicit chat_metrics(coronet::metrics::metrics_registry& registry_in)
      : registry{registry_in},
        members{registry.add_gauge("chat_members", "Members in the room on this server now.")},
        relayed{registry.add_counter("chat_lines_relayed_total",
                                     "Lines relayed to the room (once per line, not per "
                                     "recipient).")} {}
  coronet::metrics::metrics_registry& registry;  // The backplane's hub registers here.
  coronet::metrics::gauge& members;
  coronet::metrics::counter& relayed;
};

// "3 members, 12.0 lines/s": the chat's part of the --stats-interval line.
std::function<std::string(double)> chat_stats(const chat_metrics& chat) {
  return [&chat, last = chat.relayed.value()](double seconds) mutable {
    const std::uint64_t now = chat.relayed.value();
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.1f", static_cast<double>(now - last) / seconds);
    last = now;
    return std::to_string(static_cast<long long>(chat.members.value())) + " members, " + rate +
           " lines/s";
  };
}

// The room's seats: --max-connections members, TCP and web together. The TCP port's server caps
// its connections at the same number; the web port's at --web-max-connections, since a browser
// holds a few connections (the page, idle ones opened ahead) besides its member's WebSocket.
struct chat_seats {
  std::size_t cap;
  std::size_t taken = 0;
};

std::string server_full_line(std::size_t cap) {
  return "error: server full (" + std::to_string(cap) +
         (cap == 1 ? " connection)" : " connections)");
}

template <typename Server>
void start_chat(Server& server, coronet::send_queue_policy policy,
                const std::optional<backplane_settings>& backplane, const chat_metrics& chat,
                const coronet::server_options& options,
                const std::optional<samples::web_settings>& web_settings,
                const std::optional<samples::tls_server_settings>& tls) {
  std::shared_ptr<samples::chat_room> room;
  if (backplane) {
    // Kept alive by the room, which the handler keeps: both outlive every session.
    auto hub =
        std::make_shared<coronet::broadcast::redis_hub>(server.get_executor(), backplane->hub);
    room =
        std::shared_ptr<samples::chat_room>(new samples::chat_room(policy, *hub, backplane->room),
                                            [hub](samples::chat_room* owned) { delete owned; });
    // Its counters under hub="chat_server" (the collector keeps them, not the hub).
    coronet::metrics::register_hub(chat.registry, *hub, "chat_server");
    // The hub's connections and timers would keep the io_context running after the server
    // stopped: the signals that stop the server stop the hub too (every signal_set registered
    // for a signal is told; cleared after one, as run_server does, so a second ends at once).
    auto stop_signals = std::make_shared<asio::signal_set>(server.get_executor(), SIGINT, SIGTERM);
    stop_signals->async_wait([hub, stop_signals](std::error_code error, int) {
      std::error_code ignored;
      stop_signals->clear(ignored);
      if (!error) hub->stop();
    });
    hub->start();  // Connects once the server runs, after "listening on".
  } else {
    room = std::make_shared<samples::chat_room>(policy);
  }
  room->count_into(chat.members, chat.relayed);
  auto clients_seen = std::make_shared<std::size_t>(0);
  auto seats = std::make_shared<chat_seats>(chat_seats{options.max_connections});
  // One session, whichever port the member came in by. The servers keep this handler (and so
  // the room) alive while any session runs.
  auto session = [room, clients_seen, seats](auto& conn) -> asio::awaitable<void> {
    const client_label client = label(conn.remote_endpoint(), ++*clients_seen);
    if (seats->taken >= seats->cap) {
      // The other port's members fill the room: refused like the server refuses past its cap.
      std::fprintf(stderr, "chat_server: refused %s: server full\n", client.name.c_str());
      const std::string refusal = server_full_line(seats->cap);
      co_await conn.write(refusal);
      co_return;  // The server closes gracefully: the line, then the end (a close frame).
    }
    ++seats->taken;
    print_line("Linked @ Addr " + client.address);
    co_await room->join(conn, client.name);
    print_line("Unlinked @ Addr " + client.address);
    --seats->taken;
  };
  if (!web_settings) {
    server.template serve<coronet::line_codec>(session);
    return;
  }
  // The web port lives as long as the chat port's handler: the chat port's server, which
  // run_server destroys before its io_context, releases it then (the web port's own handler must
  // not own it: that would be a cycle).
  std::shared_ptr<samples::chat_web> web = samples::chat_web::start(
      server.get_executor(), options, *web_settings, tls, chat.registry, session);
  server.template serve<coronet::line_codec>(
      [session, web](auto& conn) -> asio::awaitable<void> { co_await session(conn); });
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
  cli.option("--redis", "HOST:PORT|unix:PATH", "",
             "join the room on every chat_server using this Redis (a backplane)")
      .option("--room", "NAME", "lobby", "the room's name on the backplane")
      .option("--redis-password-file", "FILE", "",
              "AUTH with the password in FILE (its trailing newline ignored)")
      .option("--redis-user", "NAME", "", "AUTH as this ACL user (with --redis-password-file)")
      .flag("--redis-sharded",
            "sharded pub/sub (SSUBSCRIBE/SPUBLISH, Redis 7): every instance of the room must "
            "use it");
  samples::add_stats_option(cli);
  samples::add_web_options(cli);
  return samples::run_main(cli, "chat_server", [&] {
    cli.parse(argc, argv);
    coronet::server_options options = samples::server_options_from(cli);
    const auto tls = samples::tls_server_settings_from(cli);
    const coronet::send_queue_policy policy = slow_client_policy(cli.text("--slow-client"));
    options.connection.queue_policy = policy;
    const std::optional<backplane_settings> backplane = backplane_settings_from(cli);
    samples::sample_metrics metrics;
    samples::metrics_settings_from(cli, metrics);
    const chat_metrics chat{metrics.registry};
    metrics.stats_prefix = chat_stats(chat);
    const std::optional<samples::web_settings> web_settings = samples::web_settings_from(cli);
    // One thread: the room (and the backplane) is shared by every session.
    const int status = samples::run_server(
        "chat_server", options, tls,
        [&](auto& server) {
          start_chat(server, policy, backplane, chat, options, web_settings, tls);
        },
        1, &metrics);
    return backplane_failed ? 1 : status;
  });
}
