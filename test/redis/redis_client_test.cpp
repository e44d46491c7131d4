// The Redis client and subscriber against a real redis-server the test starts (TCP and Unix
// socket, with and without AUTH), and against fake servers that answer with hostile bytes.
#include "coronet/redis/redis_client.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <coronet/codec/resp_error.hpp>
#include <coronet/error.hpp>
#include <coronet/redis/redis_subscriber.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "../support/async_test.hpp"
#include "redis_server_process.hpp"

using coronet::resp_type;
using coronet::resp_value;
using coronet::redis::pubsub_kind;
using coronet::redis::redis_client;
using coronet::redis::redis_errc;
using coronet::redis::redis_options;
using coronet::redis::redis_subscriber;
using coronet_test::redis_process;
using coronet_test::run_async;

namespace {

redis_options options_for(const redis_process& server) {
  redis_options options;
  if (!server.unix_socket().empty()) {
    options.address.unix_path = server.unix_socket();
  } else {
    options.address.host = "127.0.0.1";
    options.address.port = server.port();
  }
  return options;
}

asio::awaitable<redis_client> connect_or_throw(redis_options options) {
  auto connected = co_await redis_client::connect(std::move(options));
  if (!connected) throw std::runtime_error("connect failed: " + connected.reason);
  co_return std::move(*connected.client);
}

// A fake server on a loopback port: accepts one connection, reads a little, then writes
// `reply` (and keeps the connection open until the client closes it).
struct fake_server {
  explicit fake_server(asio::io_context& io)
      : acceptor{io, asio::ip::tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}} {}

  std::uint16_t port() const { return acceptor.local_endpoint().port(); }

  asio::awaitable<void> answer(std::string reply) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    char buffer[256];
    co_await socket.async_read_some(asio::buffer(buffer), asio::use_awaitable);
    if (!reply.empty())
      co_await asio::async_write(socket, asio::buffer(reply), asio::use_awaitable);
    // Read until the client closes: hold the connection open without answering.
    while (true) {
      auto [error, count] = co_await socket.async_read_some(
          asio::buffer(buffer), asio::experimental::as_tuple(asio::use_awaitable));
      if (error) break;
    }
  }

  asio::ip::tcp::acceptor acceptor;
};

}  // namespace

TEST_CASE("redis client sets and gets a key over TCP") {
  redis_process server;
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    redis_client client = co_await connect_or_throw(options_for(server));
    const auto set = co_await client.command({"SET", "greeting", "hello\r\nworld"});
    REQUIRE(set);
    CHECK(set.value == resp_value::simple("OK"));
    const auto get = co_await client.command({"GET", "greeting"});
    CHECK(get.value == resp_value::bulk("hello\r\nworld"));
    const auto missing = co_await client.command({"GET", "nothing"});
    CHECK(missing.value.is_null());
  });
}

TEST_CASE("redis client works over a Unix socket") {
  coronet_test::temp_directory directory;
  redis_process server{{.unix_socket = directory.file("redis.sock")}};
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    redis_client client = co_await connect_or_throw(options_for(server));
    const auto reply = co_await client.command({"PING"});
    CHECK(reply.value == resp_value::simple("PONG"));
  });
}

TEST_CASE("redis client returns an error reply as a value and stays usable") {
  redis_process server;
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    redis_client client = co_await connect_or_throw(options_for(server));
    co_await client.command({"SET", "text", "abc"});
    const auto reply = co_await client.command({"INCR", "text"});
    CHECK_FALSE(reply.error);
    CHECK(reply.value.type == resp_type::error);
    CHECK_FALSE(static_cast<bool>(reply));
    const auto after = co_await client.command({"INCR", "counter"});
    CHECK(after.value == resp_value::number(1));
  });
}

TEST_CASE("redis client pipelines commands and matches replies in order") {
  redis_process server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    redis_client client = co_await connect_or_throw(options_for(server));
    std::vector<coronet::redis::redis_command> commands;
    for (int i = 1; i <= 500; ++i)
      commands.emplace_back("INCR", "n");
    const auto replies = co_await client.pipeline(std::move(commands));
    REQUIRE(replies.size() == 500);
    bool in_order = true;
    for (std::size_t i = 0; i < replies.size(); ++i)
      in_order = in_order && replies[i].value == resp_value::number(static_cast<int>(i) + 1);
    CHECK(in_order);

    // Several coroutines at once: each gets the reply to its own command.
    int finished = 0;
    bool all_matched = true;
    for (int i = 0; i < 50; ++i) {
      asio::co_spawn(
          io,
          [&client, &finished, &all_matched, i]() -> asio::awaitable<void> {
            const std::string key = "key" + std::to_string(i);
            co_await client.command({"SET", key, std::to_string(i * i)});
            const auto reply = co_await client.command({"GET", key});
            all_matched = all_matched && reply.value == resp_value::bulk(std::to_string(i * i));
            ++finished;
          },
          asio::detached);
    }
    for (int wait = 0; wait < 500 && finished < 50; ++wait)
      co_await coronet_test::sleep_for(std::chrono::milliseconds{10});
    CHECK(finished == 50);
    CHECK(all_matched);
  });
}

TEST_CASE("read_password_file ignores one trailing newline") {
  coronet_test::temp_directory directory;
  const std::string path = directory.file("password");
  std::ofstream{path} << "s3cret pass\n";
  std::string password;
  REQUIRE_FALSE(coronet::redis::read_password_file(path, password));
  CHECK(password == "s3cret pass");
  std::ofstream{path, std::ios::trunc} << "crlf\r\n";
  REQUIRE_FALSE(coronet::redis::read_password_file(path, password));
  CHECK(password == "crlf");
  CHECK(coronet::redis::read_password_file(directory.file("missing"), password) ==
        redis_errc::password_file);
}

TEST_CASE("redis client authenticates with user and password and reports a wrong password") {
  redis_process server{{.password = "right-password", .user = "chat"}};
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    redis_options options = options_for(server);
    options.user = "chat";
    options.password = "right-password";
    redis_client client = co_await connect_or_throw(options);
    const auto reply = co_await client.command({"PING"});
    CHECK(reply.value == resp_value::simple("PONG"));

    options.password = "wrong";
    const auto refused = co_await redis_client::connect(options);
    CHECK_FALSE(refused);
    CHECK(refused.error == redis_errc::authentication_failed);
    CHECK(refused.reason.find("WRONGPASS") != std::string::npos);

    options.user.clear();
    options.password.reset();
    redis_client anonymous = co_await connect_or_throw(options);
    const auto denied = co_await anonymous.command({"GET", "x"});
    CHECK(denied.value.text.starts_with("NOAUTH"));
  });
}

TEST_CASE("redis client reports a refused connection") {
  const std::uint16_t port = coronet_test::free_tcp_port();
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    redis_options options;
    options.address.port = port;
    const auto result = co_await redis_client::connect(options);
    CHECK_FALSE(result);
    CHECK(result.error == asio::error::connection_refused);
  });
}

TEST_CASE("redis client command times out and closes when the server does not answer") {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    fake_server silent{io};
    asio::co_spawn(io, silent.answer(""), asio::detached);
    redis_options options;
    options.address.port = silent.port();
    options.command_timeout = std::chrono::milliseconds{200};
    redis_client client = co_await connect_or_throw(options);
    const auto reply = co_await client.command({"PING"});
    CHECK(reply.error == coronet::errc::timed_out);
    CHECK_FALSE(client.is_open());
    const auto after = co_await client.command({"PING"});
    CHECK(after.error == coronet::errc::timed_out);
  });
}

TEST_CASE("redis client turns hostile replies into a codec error and a closed connection") {
  std::string deep;
  for (int i = 0; i < 100; ++i)
    deep += "*1\r\n";
  const std::vector<std::string> replies{
      "$99999999999\r\n",                    // bulk length far beyond max_bulk_length
      "hello there, this is not redis\r\n",  // garbage
      ":12x\r\n",                            // malformed integer
      deep,                                  // nesting far beyond max_depth
  };
  for (const std::string& reply : replies) {
    INFO(reply.substr(0, 20));
    run_async([&](asio::io_context& io) -> asio::awaitable<void> {
      fake_server server{io};
      asio::co_spawn(io, server.answer(reply), asio::detached);
      redis_options options;
      options.address.port = server.port();
      redis_client client = co_await connect_or_throw(options);
      const auto result = co_await client.command({"PING"});
      CHECK(result.error.category() == coronet::resp_category());
      CHECK_FALSE(client.is_open());
      CHECK(client.error() == result.error);
    });
  }
}

TEST_CASE("redis subscriber receives messages for channels patterns and shard channels") {
  redis_process server;
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    auto connected = co_await redis_subscriber::connect(options_for(server));
    REQUIRE(connected);
    redis_subscriber subscriber = std::move(*connected.client);
    REQUIRE_FALSE(subscriber.subscribe({"room:a", "room:b"}));
    REQUIRE_FALSE(subscriber.psubscribe({"news.*"}));
    REQUIRE_FALSE(subscriber.ssubscribe({"shard:1"}));
    for (int expected = 1; expected <= 4; ++expected) {
      const auto confirmed = co_await subscriber.next();
      REQUIRE(confirmed);
      CHECK(confirmed.event.kind == pubsub_kind::subscribed);
    }
    redis_client publisher = co_await connect_or_throw(options_for(server));
    co_await publisher.command({"PUBLISH", "room:b", "first"});
    co_await publisher.command({"PUBLISH", "news.sport", "goal"});
    co_await publisher.command({"SPUBLISH", "shard:1", "sharded"});
    co_await publisher.command({"PUBLISH", "room:a", std::string(100'000, 'x')});

    const auto first = co_await subscriber.next();
    CHECK(first.event.kind == pubsub_kind::message);
    CHECK(first.event.channel == "room:b");
    CHECK(first.event.payload == "first");
    const auto pattern = co_await subscriber.next();
    CHECK(pattern.event.kind == pubsub_kind::pmessage);
    CHECK(pattern.event.pattern == "news.*");
    CHECK(pattern.event.channel == "news.sport");
    const auto shard = co_await subscriber.next();
    CHECK(shard.event.kind == pubsub_kind::smessage);
    CHECK(shard.event.payload == "sharded");
    const auto big = co_await subscriber.next();
    CHECK(big.event.payload.size() == 100'000);

    REQUIRE_FALSE(subscriber.ping("alive"));
    const auto pong = co_await subscriber.next();
    CHECK(pong.event.kind == pubsub_kind::pong);
    CHECK(pong.event.payload == "alive");
  });
}

TEST_CASE("redis subscriber reports the connection Redis kills with CLIENT KILL") {
  redis_process server;
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    auto connected = co_await redis_subscriber::connect(options_for(server));
    REQUIRE(connected);
    redis_subscriber subscriber = std::move(*connected.client);
    subscriber.subscribe({"room"});
    const auto confirmed = co_await subscriber.next();
    REQUIRE(confirmed);
    const resp_value killed = server.command({"CLIENT", "KILL", "TYPE", "pubsub"});
    CHECK(killed == resp_value::number(1));
    const auto next = co_await subscriber.next();
    CHECK_FALSE(next);
    CHECK(next.error == asio::error::eof);
  });
}

TEST_CASE("redis subscriber gets its PING answered before it subscribes to anything") {
  redis_process server;
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    auto connected = co_await redis_subscriber::connect(options_for(server));
    REQUIRE(connected);
    redis_subscriber subscriber = std::move(*connected.client);
    REQUIRE_FALSE(subscriber.ping("first"));
    const auto pong = co_await subscriber.next();
    REQUIRE(pong);
    CHECK(pong.event.kind == pubsub_kind::pong);
    CHECK(pong.event.payload == "first");
  });
}
