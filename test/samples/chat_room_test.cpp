// chat_room (samples/chat/chat_room.hpp), the logic of chat_server, driven on the in-memory
// transport: no sockets, deterministic, and it shows how to unit-test a handler.
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <coronet/codec/line_codec.hpp>
#include <coronet/stream/framed_connection.hpp>
#include <coronet/stream/websocket_connection.hpp>
#include <coronet/testing/memory_stream.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/async_test.hpp"

#include "chat/chat_room.hpp"

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using connection = coronet::framed_connection<coronet::line_codec, coronet::testing::memory_stream>;
using room_type = samples::chat_room;
using coronet_test::run_async;
using coronet_test::sleep_for;

namespace {

// One member: the client's end, and the server's end that the room serves.
struct member {
  connection client;
  connection server;
  std::shared_ptr<bool> left = std::make_shared<bool>(false);
};

// What a server does for each connection: run the room's session, then close gracefully.
asio::awaitable<void> serve_member(room_type& room, member& m, std::string name) {
  co_await room.join(m.server, std::move(name));
  co_await m.server.close_gracefully(1s);
  *m.left = true;
}

std::unique_ptr<member> join(asio::io_context& io, room_type& room, std::string name,
                             coronet::connection_options options = {},
                             std::size_t pipe_capacity = 64 * 1024) {
  auto [client_end, server_end] =
      coronet::testing::make_memory_stream_pair(io.get_executor(), pipe_capacity);
  auto m = std::unique_ptr<member>(new member{
      connection{std::move(client_end)},
      connection{std::move(server_end), coronet::line_codec{}, options},
  });
  asio::co_spawn(io, serve_member(room, *m, std::move(name)), [](std::exception_ptr failure) {
    if (failure) std::rethrow_exception(failure);
  });
  return m;
}

// The next line, "<timeout>" when none comes within `limit`, or "<error: ...>".
asio::awaitable<std::string> next_line(connection& conn, std::chrono::milliseconds limit = 2s) {
  auto result = co_await (conn.read() || sleep_for(limit));
  if (result.index() == 1) co_return "<timeout>";
  auto& line = std::get<0>(result);
  if (!line) co_return "<error: " + line.error().message() + ">";
  co_return std::string{*line};
}

std::string eof_text() {
  return "<error: " + asio::error::make_error_code(asio::error::eof).message() + ">";
}

// Closes the members' client ends and waits until the room has let every one go, so that no
// session outlives the connections and the room it uses (they are the test's locals).
template <typename... Members>
asio::awaitable<void> leave_all(Members&... each) {
  const std::vector<member*> members{&each...};
  for (member* m : members)
    m->client.close();
  for (int wait = 0; wait < 400; ++wait) {
    bool all_left = true;
    for (member* m : members)
      all_left = all_left && *m->left;
    if (all_left) co_return;
    co_await sleep_for(5ms);
  }
  throw std::runtime_error("the room did not let its members go within 2 s");
}

// Lets the room's sessions run (they join and relay on the same thread).
asio::awaitable<void> settle() {
  co_await sleep_for(5ms);
}

}  // namespace

TEST_CASE("chat room sends a line to every other member and not back to its sender") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    room_type room{coronet::send_queue_policy::disconnect};
    auto alice = join(io, room, "alice");
    auto bob = join(io, room, "bob");
    auto carol = join(io, room, "carol");
    co_await settle();
    CHECK(room.size() == 3);

    co_await alice->client.write("hello, room");
    const std::string at_bob = co_await next_line(bob->client);
    const std::string at_carol = co_await next_line(carol->client);
    CHECK(at_bob == "[alice] hello, room");
    CHECK(at_carol == "[alice] hello, room");
    const std::string at_alice = co_await next_line(alice->client, 50ms);
    CHECK(at_alice == "<timeout>");

    co_await carol->client.write("你好，世界 😀");
    const std::string chinese = co_await next_line(alice->client);
    CHECK(chinese == "[carol] 你好，世界 😀");
    co_await leave_all(*alice, *bob, *carol);
  });
}

TEST_CASE("chat room keeps each sender's order while senders interleave") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    room_type room{coronet::send_queue_policy::disconnect};
    auto alice = join(io, room, "alice");
    auto bob = join(io, room, "bob");
    auto carol = join(io, room, "carol");
    co_await settle();

    constexpr int count = 200;
    for (int i = 0; i < count; ++i) {
      alice->client.try_write("a" + std::to_string(i));
      bob->client.try_write("b" + std::to_string(i));
    }
    std::vector<std::string> from_alice, from_bob, at_bob;
    for (int i = 0; i < 2 * count; ++i) {
      const std::string line = co_await next_line(carol->client);
      if (line.starts_with("[alice] ")) from_alice.push_back(line.substr(8));
      if (line.starts_with("[bob] ")) from_bob.push_back(line.substr(6));
    }
    for (int i = 0; i < count; ++i)
      at_bob.push_back(co_await next_line(bob->client));

    std::vector<std::string> expected_alice, expected_bob, expected_at_bob;
    for (int i = 0; i < count; ++i) {
      expected_alice.push_back("a" + std::to_string(i));
      expected_bob.push_back("b" + std::to_string(i));
      expected_at_bob.push_back("[alice] a" + std::to_string(i));
    }
    CHECK(from_alice == expected_alice);
    CHECK(from_bob == expected_bob);
    CHECK(at_bob == expected_at_bob);  // Never its own lines.
    co_await leave_all(*alice, *bob, *carol);
  });
}

TEST_CASE("chat room: a member that sends exit leaves and the others go on") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    room_type room{coronet::send_queue_policy::disconnect};
    auto alice = join(io, room, "alice");
    auto bob = join(io, room, "bob");
    auto carol = join(io, room, "carol");
    co_await settle();

    co_await alice->client.write("exit");
    const std::string alice_end = co_await next_line(alice->client);
    CHECK(alice_end == eof_text());
    CHECK(*alice->left);
    CHECK(room.size() == 2);

    co_await bob->client.write("still here");
    const std::string at_carol = co_await next_line(carol->client);
    CHECK(at_carol == "[bob] still here");
    // "exit" itself is not relayed.
    const std::string nothing = co_await next_line(bob->client, 50ms);
    CHECK(nothing == "<timeout>");
    co_await leave_all(*alice, *bob, *carol);
  });
}

TEST_CASE("chat room: a member that closes its end leaves the room") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    room_type room{coronet::send_queue_policy::disconnect};
    auto alice = join(io, room, "alice");
    auto bob = join(io, room, "bob");
    co_await settle();
    alice->client.close();
    co_await settle();
    CHECK(*alice->left);
    CHECK(room.size() == 1);
    CHECK_FALSE(*bob->left);
    co_await leave_all(*alice, *bob);
  });
}

namespace {

// alice sends `raw` (bytes her own codec would refuse to send); returns the line she gets back,
// after checking that bob hears nothing of it and that her next line still reaches him.
std::string reply_to_unrelayable(const std::string& raw) {
  std::string reply;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    room_type room{coronet::send_queue_policy::disconnect};
    auto alice = join(io, room, "alice");
    auto bob = join(io, room, "bob");
    co_await settle();
    co_await asio::async_write(alice->client.stream(), asio::buffer(raw), asio::use_awaitable);
    reply = co_await next_line(alice->client);
    const std::string at_bob = co_await next_line(bob->client, 50ms);
    CHECK(at_bob == "<timeout>");
    co_await alice->client.write("fine again");
    const std::string relayed = co_await next_line(bob->client);
    CHECK(relayed == "[alice] fine again");
    co_await leave_all(*alice, *bob);
  });
  return reply;
}

}  // namespace

TEST_CASE("chat room answers a line that is not UTF-8 with an error to its sender only") {
  const std::string reply = reply_to_unrelayable("bad \xFF\xFE\n");
  CHECK(reply.starts_with("error: invalid UTF-8"));
}

TEST_CASE("chat room tells the sender of a line it cannot relay, and relays the next one") {
  // "x\r\r\n" decodes to "x\r" (CRLF tolerance), which no line can carry back out.
  const std::string reply = reply_to_unrelayable("x\r\r\n");
  CHECK(reply.starts_with("error: "));
  CHECK(reply.ends_with("(not relayed)"));
}

TEST_CASE("chat room with the disconnect policy drops a member that never reads") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    room_type room{coronet::send_queue_policy::disconnect};
    const coronet::connection_options small_queue{
        .send_queue_limit = 4096, .queue_policy = coronet::send_queue_policy::disconnect};
    auto sender = join(io, room, "sender", small_queue);
    auto reader = join(io, room, "reader", small_queue);
    auto sleeper = join(io, room, "sleeper", small_queue, 1024);  // Never reads.
    co_await settle();

    constexpr int count = 300;
    const std::string padding(100, '.');
    int received = 0;
    for (int i = 0; i < count; ++i) {
      co_await sender->client.write(std::to_string(i) + padding);
      const std::string line = co_await next_line(reader->client);
      if (line == "[sender] " + std::to_string(i) + padding) ++received;
    }
    CHECK(received == count);  // The reader got everything, in order.
    co_await settle();
    CHECK(*sleeper->left);
    CHECK(sleeper->server.error() == coronet::errc::slow_consumer);
    CHECK(room.size() == 2);
    co_await leave_all(*sender, *reader, *sleeper);
  });
}

TEST_CASE("chat room with the wait policy paces the sender to a slow member and loses nothing") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    room_type room{coronet::send_queue_policy::wait};
    const coronet::connection_options small_queue{.send_queue_limit = 1024,
                                                  .queue_policy = coronet::send_queue_policy::wait};
    auto sender = join(io, room, "sender", small_queue);
    auto slow = join(io, room, "slow", small_queue, 1024);
    co_await settle();

    constexpr int count = 200;
    for (int i = 0; i < count; ++i)
      sender->client.try_write(std::string(50, 'x') + std::to_string(i));
    co_await sleep_for(20ms);  // The room is now blocked on the slow member's full queue.
    int in_order = 0;
    for (int i = 0; i < count; ++i) {
      const std::string line = co_await next_line(slow->client);
      if (line == "[sender] " + std::string(50, 'x') + std::to_string(i)) ++in_order;
    }
    CHECK(in_order == count);
    co_await leave_all(*sender, *slow);
  });
}

TEST_CASE("chat room: a slow member leaving while a broadcast waits for it frees the sender") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    room_type room{coronet::send_queue_policy::wait};
    const coronet::connection_options small_queue{.send_queue_limit = 1024,
                                                  .queue_policy = coronet::send_queue_policy::wait};
    auto sender = join(io, room, "sender", small_queue);
    auto reader = join(io, room, "reader", small_queue);
    auto slow = join(io, room, "slow", small_queue, 1024);  // Reads nothing, then leaves.
    co_await settle();

    constexpr int count = 100;
    for (int i = 0; i < count; ++i)
      sender->client.try_write(std::string(50, 'y') + std::to_string(i));
    int received = 0;
    for (int i = 0; i < 10; ++i) {
      const std::string line = co_await next_line(reader->client);
      if (line.starts_with("[sender] ")) ++received;
    }
    slow->client.close();  // The sender's session is blocked in a write to it.
    for (int i = 10; i < count; ++i) {
      const std::string line = co_await next_line(reader->client);
      if (line == "[sender] " + std::string(50, 'y') + std::to_string(i)) ++received;
    }
    CHECK(received == count);
    CHECK(*slow->left);
    CHECK(room.size() == 2);
    co_await leave_all(*sender, *reader, *slow);
  });
}

namespace {

using web_connection = coronet::websocket_connection<coronet::testing::memory_stream>;

// A WebSocket member: a client-role connection at the test's end, the server role at the room's.
struct web_member {
  web_connection client;
  web_connection server;
  std::shared_ptr<bool> left = std::make_shared<bool>(false);
};

std::unique_ptr<web_member> join_web(asio::io_context& io, room_type& room, std::string name) {
  auto [client_end, server_end] = coronet::testing::make_memory_stream_pair(io.get_executor());
  coronet::websocket_options client_role;
  client_role.codec.role = coronet::websocket_role::client;
  client_role.ping_interval = 0ms;
  coronet::websocket_options server_role;
  server_role.ping_interval = 0ms;
  auto m = std::unique_ptr<web_member>(new web_member{
      web_connection{std::move(client_end), client_role},
      web_connection{std::move(server_end), server_role},
  });
  auto session = [](room_type& room, web_member& m, std::string name) -> asio::awaitable<void> {
    co_await room.join(m.server, std::move(name));
    co_await m.server.close_gracefully(1s);
    *m.left = true;
  };
  asio::co_spawn(io, session(room, *m, std::move(name)), [](std::exception_ptr failure) {
    if (failure) std::rethrow_exception(failure);
  });
  return m;
}

// The next text message, "<timeout>" when none comes within `limit`, or "<error: ...>".
asio::awaitable<std::string> next_message(web_connection& conn,
                                          std::chrono::milliseconds limit = 2s) {
  auto result = co_await (conn.read() || sleep_for(limit));
  if (result.index() == 1) co_return "<timeout>";
  auto& message = std::get<0>(result);
  if (!message) co_return "<error: " + message.error().message() + ">";
  co_return std::string{*message};
}

}  // namespace

TEST_CASE("chat room relays between line members and WebSocket members both ways") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    room_type room{coronet::send_queue_policy::disconnect};
    auto alice = join(io, room, "alice");
    auto web = join_web(io, room, "web");
    co_await settle();
    CHECK(room.size() == 2);
    const std::string greeting = co_await next_message(web->client);
    CHECK(greeting == "* you are web");

    co_await alice->client.write("to the browser");
    const std::string at_web = co_await next_message(web->client);
    CHECK(at_web == "[alice] to the browser");  // One message, no newline.
    co_await web->client.write("to the terminal <b>as text</b>");
    const std::string at_alice = co_await next_line(alice->client);
    CHECK(at_alice == "[web] to the terminal <b>as text</b>");
    const std::string echoed = co_await next_message(web->client, 50ms);
    CHECK(echoed == "<timeout>");  // Never its own line.

    // A message that cannot be a line is refused to its sender alone.
    co_await web->client.write("two\nlines");
    const std::string refusal = co_await next_message(web->client);
    CHECK(refusal.starts_with("error: "));
    CHECK(refusal.ends_with("(not relayed)"));
    const std::string nothing = co_await next_line(alice->client, 50ms);
    CHECK(nothing == "<timeout>");
    co_await leave_all(*alice);
    const std::string left = co_await next_message(web->client);
    CHECK(left == "* alice left");
    web->client.close();
    for (int wait = 0; wait < 400 && !*web->left; ++wait)
      co_await sleep_for(5ms);
    CHECK(*web->left);
  });
}

TEST_CASE("chat room tells WebSocket members who joins and leaves but not line members") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    room_type room{coronet::send_queue_policy::disconnect};
    auto first = join_web(io, room, "first");
    co_await settle();
    const std::string greeting = co_await next_message(first->client);
    CHECK(greeting == "* you are first");
    auto line = join(io, room, "line");
    const std::string joined = co_await next_message(first->client);
    CHECK(joined == "* line joined");
    auto second = join_web(io, room, "second");
    const std::string second_joined = co_await next_message(first->client);
    CHECK(second_joined == "* second joined");
    const std::string second_greeting = co_await next_message(second->client);
    CHECK(second_greeting == "* you are second");
    const std::string at_line = co_await next_line(line->client, 50ms);
    CHECK(at_line == "<timeout>");  // Line clients read chat lines only.

    co_await second->client.write("exit");
    const std::string second_left = co_await next_message(first->client);
    CHECK(second_left == "* second left");
    const std::string closed = co_await next_message(second->client);
    CHECK(closed == "<error: " + asio::error::make_error_code(asio::error::eof).message() + ">");
    co_await leave_all(*line);
    first->client.close();
    for (int wait = 0; wait < 400 && !(*first->left && *second->left); ++wait)
      co_await sleep_for(5ms);
    CHECK(*first->left);
    CHECK(*second->left);
  });
}
