// asio_floor_chat: the baseline of the chat benchmarks (C1-C3 in bench/compare), the chat relay
// anyone would write after Asio's own C++20 chat example (asio/example/cpp20/coroutines/
// chat_server.cpp): a room of participants, and per member one reader coroutine
// (async_read_until '\n') and one writer coroutine that sleeps on a timer while its unbounded
// std::deque of lines is empty and otherwise async_writes the front line, one line per write.
// One thread. What chat_server (samples/chat) does with a line, it does too: every line a member
// sends goes to every *other* member as "[IP:PORT] line" ("[IP]:PORT" for IPv6, "unix:N" for the
// N-th Unix socket client), a '\r' before the '\n' dropped; it prints the same "listening on"
// line. It has no limits (line length, queue, members), no UTF-8 check and no "exit" command:
// it is the floor, not a server. Same command line as samples/echo's echo_server.

#include <cstdio>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <type_traits>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "floor_server.hpp"

namespace {

constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// A member of the room, as in Asio's example: the room only hands it lines.
class participant {
 public:
  virtual ~participant() = default;
  virtual void deliver(const std::string& line) = 0;
};

using participant_ptr = std::shared_ptr<participant>;

class chat_room {
 public:
  void join(participant_ptr member) { members_.insert(std::move(member)); }
  void leave(const participant_ptr& member) { members_.erase(member); }

  // To every member but its sender; each member's queue gets its own copy (as in the example).
  void deliver(const participant* from, const std::string& line) {
    for (const participant_ptr& member : members_) {
      if (member.get() != from) member->deliver(line);
    }
  }

 private:
  std::set<participant_ptr> members_;
};

// chat_server's label: "IP:PORT", "[IP]:PORT" for IPv6, "unix:N" for Unix socket clients.
std::string label_of(const asio::ip::tcp::endpoint& peer, std::size_t) {
  const std::string ip = peer.address().to_string();
  const std::string port = std::to_string(peer.port());
  return peer.address().is_v6() ? "[" + ip + "]:" + port : ip + ":" + port;
}

std::string label_of(const asio::local::stream_protocol::endpoint&, std::size_t number) {
  return "unix:" + std::to_string(number);
}

template <typename Socket>
class chat_session : public participant, public std::enable_shared_from_this<chat_session<Socket>> {
 public:
  chat_session(Socket socket, chat_room& room, std::string label)
      : socket_{std::move(socket)},
        timer_{socket_.get_executor()},
        room_{room},
        prefix_{"[" + label + "] "} {
    timer_.expires_at(asio::steady_timer::time_point::max());
  }

  void start() {
    room_.join(this->shared_from_this());
    asio::co_spawn(socket_.get_executor(), reader(this->shared_from_this()), asio::detached);
    asio::co_spawn(socket_.get_executor(), writer(this->shared_from_this()), asio::detached);
  }

  void deliver(const std::string& line) override {
    lines_.push_back(line);
    timer_.cancel_one();  // Wakes the writer if it sleeps.
  }

 private:
  // Each coroutine holds `self`, so the session lives until both have ended.
  asio::awaitable<void> reader(std::shared_ptr<chat_session>) {
    std::string buffer;
    while (true) {
      auto [error, size] =
          co_await asio::async_read_until(socket_, asio::dynamic_buffer(buffer), '\n', as_tuple);
      if (error) break;
      std::size_t end = size - 1;  // Without '\n', and without a '\r' before it.
      if (end > 0 && buffer[end - 1] == '\r') --end;
      std::string relayed = prefix_;
      relayed.append(buffer, 0, end);
      relayed += '\n';
      room_.deliver(this, relayed);
      buffer.erase(0, size);
    }
    stop();
  }

  asio::awaitable<void> writer(std::shared_ptr<chat_session>) {
    while (socket_.is_open()) {
      if (lines_.empty()) {
        co_await timer_.async_wait(as_tuple);  // Cancelled by deliver() or stop().
        continue;
      }
      auto [error, written] =
          co_await asio::async_write(socket_, asio::buffer(lines_.front()), as_tuple);
      if (error) break;
      lines_.pop_front();
    }
    stop();
  }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    room_.leave(this->shared_from_this());
    std::error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
  }

  Socket socket_;
  asio::steady_timer timer_;
  chat_room& room_;
  std::string prefix_;  // "[IP:PORT] "
  std::deque<std::string> lines_;
  bool stopped_ = false;
};

template <typename Acceptor>
asio::awaitable<void> accept_loop(Acceptor& acceptor) {
  using socket_type = typename Acceptor::protocol_type::socket;
  chat_room room;
  std::size_t clients_seen = 0;
  while (true) {
    auto [error, socket] = co_await acceptor.async_accept(as_tuple);
    if (error == asio::error::operation_aborted) co_return;
    if (error) continue;  // EMFILE and the like: try the next one.
    std::error_code peer_error;
    const auto peer = socket.remote_endpoint(peer_error);
    if (peer_error) continue;  // Gone already.
    if constexpr (std::is_same_v<typename Acceptor::protocol_type, asio::ip::tcp>) {
      std::error_code ignored;
      socket.set_option(asio::ip::tcp::no_delay(true), ignored);  // As coronet does.
    }
    std::string label = label_of(peer, ++clients_seen);
    std::make_shared<chat_session<socket_type>>(std::move(socket), room, std::move(label))->start();
  }
}

constexpr const char* usage =
    "usage: asio_floor_chat [--host HOST] [--port PORT] [--unix PATH]\n"
    "                       [--max-connections N] [--idle-timeout S] [--codec line]\n"
    "The chat benchmarks' baseline: a single-threaded chat relay after Asio's C++20 chat\n"
    "example. Every line a client sends goes to all other clients as '[IP:PORT] line'.\n"
    "Prints 'listening on HOST:PORT' when ready; exits 0 on SIGINT or SIGTERM.\n"
    "  --host HOST   address to bind (default 127.0.0.1)\n"
    "  --port PORT   TCP port; 0 picks a free one (default 0)\n"
    "  --unix PATH   listen on a Unix socket instead\n"
    "  --max-connections, --idle-timeout: accepted for chat_server compatibility, ignored\n"
    "  --codec line  the only framing it has\n";

}  // namespace

int main(int argc, char** argv) {
  const floor_server::options options = floor_server::parse(argc, argv, usage, false);
  return floor_server::run("asio_floor_chat", options,
                           [](auto& acceptor) { return accept_loop(acceptor); });
}
