// tcp_server over real loopback sockets: handlers, limits, refusal, timeouts, graceful stop,
// faults that must stay local to one connection, the callback form.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <catch2/catch.hpp>
#include <coronet/coronet.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/async_test.hpp"
#include "../support/line_test_helpers.hpp"
#include "../support/log_recorder.hpp"

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using coronet::errc;
using coronet::line_codec;
using coronet::tcp_server;
using coronet_test::ask;
using coronet_test::echo_handler;
using coronet_test::eof_text;
using coronet_test::log_recorder;
using coronet_test::next_line;
using coronet_test::quick_connect;
using coronet_test::run_async;
using coronet_test::sleep_for;

TEST_CASE("tcp server echoes lines over IPv4 and closes a client that sends exit") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tcp_server server{io, {.port = 0}};
    server.serve<line_codec>(echo_handler{});
    const std::uint16_t port = server.local_endpoint().port();
    REQUIRE(port != 0);
    auto conn = co_await coronet::connect("127.0.0.1", port, quick_connect());
    const std::string hello = co_await ask(conn, "hello");
    CHECK(hello == "hello");
    const std::string chinese = co_await ask(conn, "你好，世界 😀");
    CHECK(chinese == "你好，世界 😀");
    co_await conn.write("exit");
    const std::string after_exit = co_await next_line(conn);
    CHECK(after_exit == eof_text());
  });
}

TEST_CASE("tcp server refuses connection N+1 with a clear line and frees a slot when one leaves") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    log_recorder log;
    tcp_server server{io, {.max_connections = 2, .log = log.hook()}};
    server.serve<line_codec>(echo_handler{});
    const std::uint16_t port = server.local_endpoint().port();
    auto first = co_await coronet::connect("127.0.0.1", port, quick_connect());
    auto second = co_await coronet::connect("127.0.0.1", port, quick_connect());
    const std::string first_echo = co_await ask(first, "one");
    const std::string second_echo = co_await ask(second, "two");
    CHECK(first_echo == "one");
    CHECK(second_echo == "two");
    CHECK(server.connection_count() == 2);

    auto third = co_await coronet::connect("127.0.0.1", port, quick_connect());
    const std::string refusal = co_await next_line(third);
    CHECK(refusal == "error: server full (2 connections)");
    const std::string refused_end = co_await next_line(third);
    CHECK(refused_end == eof_text());
    CHECK(log.contains("server full"));

    co_await first.write("exit");
    const std::string first_end = co_await next_line(first);
    CHECK(first_end == eof_text());
    auto fourth = co_await coronet::connect("127.0.0.1", port, quick_connect());
    const std::string fourth_echo = co_await ask(fourth, "four");
    CHECK(fourth_echo == "four");
  });
}

TEST_CASE("a refused client of a length-prefixed codec reads the refusal as one frame") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tcp_server server{io, {.max_connections = 1, .log = nullptr}};
    server.serve<coronet::length_prefixed_codec>(echo_handler{});
    const std::uint16_t port = server.local_endpoint().port();
    auto first = co_await coronet::connect<coronet::length_prefixed_codec>("127.0.0.1", port,
                                                                           quick_connect());
    const std::string echo = co_await ask(first, "framed");
    CHECK(echo == "framed");
    auto refused = co_await coronet::connect<coronet::length_prefixed_codec>("127.0.0.1", port,
                                                                             quick_connect());
    const std::string refusal = co_await next_line(refused);
    CHECK(refusal == "error: server full (1 connection)");
    const std::string refused_end = co_await next_line(refused);
    CHECK(refused_end == eof_text());
  });
}

TEST_CASE("tcp server with pause_accepting leaves newcomers in the backlog until a slot frees") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tcp_server server{
        io, {.max_connections = 1, .when_full = coronet::overload_policy::pause_accepting}};
    server.serve<line_codec>(echo_handler{});
    const std::uint16_t port = server.local_endpoint().port();
    auto first = co_await coronet::connect("127.0.0.1", port, quick_connect());
    const std::string first_echo = co_await ask(first, "first");
    CHECK(first_echo == "first");

    auto waiting =
        co_await coronet::connect("127.0.0.1", port, quick_connect());  // In the backlog.
    co_await waiting.write("queued");
    auto early = co_await (next_line(waiting) || sleep_for(200ms));
    CHECK(early.index() == 1);  // Not served while the slot is taken.

    co_await first.write("exit");
    const std::string served = co_await next_line(waiting);
    CHECK(served == "queued");
  });
}

TEST_CASE("tcp server logs a handler that throws and keeps serving other connections") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    log_recorder log;
    tcp_server server{io, {.log = log.hook()}};
    server.serve<line_codec>([](auto& conn) -> asio::awaitable<void> {
      while (auto line = co_await conn.read()) {
        if (*line == "boom") throw std::runtime_error("handler exploded");
        co_await conn.write(*line);
      }
    });
    const std::uint16_t port = server.local_endpoint().port();
    auto victim = co_await coronet::connect("127.0.0.1", port, quick_connect());
    auto bystander = co_await coronet::connect("127.0.0.1", port, quick_connect());
    co_await victim.write("boom");
    const std::string victim_end = co_await next_line(victim);
    CHECK(victim_end == eof_text());
    const std::string still_served = co_await ask(bystander, "still here");
    CHECK(still_served == "still here");
    CHECK(log.contains("handler exploded"));
  });
}

TEST_CASE("tcp server closes a connection that stays idle past idle_timeout") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tcp_server server{io, {.connection = {.idle_timeout = 100ms}}};
    server.serve<line_codec>(echo_handler{});
    auto conn =
        co_await coronet::connect("127.0.0.1", server.local_endpoint().port(), quick_connect());
    const std::string echo = co_await ask(conn, "ping");
    CHECK(echo == "ping");
    const auto start = std::chrono::steady_clock::now();
    const std::string end = co_await next_line(conn);
    CHECK(end == eof_text());
    CHECK(std::chrono::steady_clock::now() - start >= 90ms);
  });
}

TEST_CASE("tcp server stop delivers queued replies before closing") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tcp_server server{io, {}};
    server.serve<line_codec>([](auto& conn) -> asio::awaitable<void> {
      for (int i = 0; i < 2000; ++i)
        conn.try_write("reply " + std::to_string(i));
      while (co_await conn.read()) {
      }
    });
    auto conn =
        co_await coronet::connect("127.0.0.1", server.local_endpoint().port(), quick_connect());
    co_await sleep_for(20ms);  // The handler has queued its replies and waits in read().
    server.stop();
    int received = 0;
    std::string last;
    while (auto line = co_await conn.read()) {
      last = *line;
      ++received;
    }
    CHECK(received == 2000);
    CHECK(last == "reply 1999");
  });
}

TEST_CASE("a peer resetting mid-line ends only its own connection") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    log_recorder log;
    tcp_server server{io, {.log = log.hook()}};
    server.serve<line_codec>(echo_handler{});
    const std::uint16_t port = server.local_endpoint().port();
    auto bystander = co_await coronet::connect("127.0.0.1", port, quick_connect());
    for (int i = 0; i < 20; ++i) {
      asio::ip::tcp::socket rude{io};
      co_await rude.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
      co_await asio::async_write(rude, asio::buffer(std::string("half a li")), asio::use_awaitable);
      rude.set_option(asio::socket_base::linger{true, 0});
      rude.close();  // RST
    }
    const std::string echo = co_await ask(bystander, "unaffected");
    CHECK(echo == "unaffected");
    co_await sleep_for(50ms);
    CHECK(server.connection_count() == 1);
  });
}

TEST_CASE("a client that never reads is dropped by the disconnect policy, and others are served") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    log_recorder log;
    tcp_server server{io,
                      {.connection = {.send_queue_limit = 64 * 1024,
                                      .queue_policy = coronet::send_queue_policy::disconnect},
                       .socket = {.send_buffer_size = 16 * 1024},
                       .log = log.hook()}};
    auto largest_queue = std::make_shared<std::size_t>(0);
    server.serve<line_codec>([largest_queue](auto& conn) -> asio::awaitable<void> {
      auto first = co_await conn.read();
      if (first && *first == "flood me") {
        const std::string line(1000, 'f');
        while (!co_await conn.write(line))
          *largest_queue = std::max(*largest_queue, conn.queued_bytes());
        co_return;
      }
      while (auto line = co_await conn.read())
        co_await conn.write(*line);
    });
    const std::uint16_t port = server.local_endpoint().port();
    asio::ip::tcp::socket never_reads{io, asio::ip::tcp::v4()};
    never_reads.set_option(asio::socket_base::receive_buffer_size{16 * 1024});
    co_await never_reads.async_connect({asio::ip::make_address("127.0.0.1"), port},
                                       asio::use_awaitable);
    co_await asio::async_write(never_reads, asio::buffer(std::string("flood me\n")),
                               asio::use_awaitable);

    auto normal = co_await coronet::connect("127.0.0.1", port, quick_connect());
    co_await normal.write("hello");  // Say hello first: the server reads one line before echoing.
    const std::string echo = co_await ask(normal, "served");
    CHECK(echo == "served");
    co_await sleep_for(100ms);
    CHECK(log.contains(coronet::make_error_code(errc::slow_consumer).message()));
    CHECK(*largest_queue <= 64 * 1024 + 1001);
  });
}

TEST_CASE("the callback handler form sees connect, messages, errors and disconnect") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto events = std::make_shared<std::vector<std::string>>();
    tcp_server server{io, {}};
    server.serve<line_codec>(
        coronet::callbacks()
            .on_connect([events](auto&) { events->push_back("connect"); })
            .on_message([events](auto& conn, std::string_view line) {
              events->push_back("message " + std::string{line});
              conn.try_write(line);
            })
            .on_error([events](auto&, std::error_code error, std::string_view) {
              events->push_back("error " + error.message());
            })
            .on_disconnect([events](auto&, std::error_code) { events->push_back("disconnect"); }));
    auto conn =
        co_await coronet::connect("127.0.0.1", server.local_endpoint().port(), quick_connect());
    const std::string echo = co_await ask(conn, "hi");
    CHECK(echo == "hi");
    asio::ip::tcp::socket& raw = conn.stream();
    co_await asio::async_write(raw, asio::buffer(std::string("\xFF\n")), asio::use_awaitable);
    const std::string echo2 = co_await ask(conn, "after");
    CHECK(echo2 == "after");
    conn.close();
    co_await sleep_for(50ms);
    CHECK(*events == std::vector<std::string>{"connect", "message hi", "error invalid UTF-8",
                                              "message after", "disconnect"});
  });
}

namespace {

// A blocking client socket, for threads outside the server's io_context.
int connect_blocking(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error("cannot connect to the test server");
  }
  return fd;
}

}  // namespace

TEST_CASE("a peer that keeps its socket full does not starve the server's other connections") {
  // The flooder writes from its own thread as fast as loopback takes it, so the server's socket
  // always has data: a read loop that never gives up the thread would answer no one else until
  // the flood ends.
  asio::io_context io;
  tcp_server server{io, {.port = 0}};
  server.serve<line_codec>([](auto& conn) -> asio::awaitable<void> {
    while (auto line = co_await conn.read()) {
      if (line->starts_with("ping")) co_await conn.write(*line);
    }
  });
  const std::uint16_t port = server.local_endpoint().port();
  std::thread io_thread{[&io] { io.run_for(30s); }};
  std::atomic<bool> flooding{true};
  std::thread flooder{[port, &flooding] {
    const int fd = connect_blocking(port);
    std::string chunk;
    for (int line = 0; line < 1024; ++line)
      chunk += std::string(63, 'z') + "\n";
    const auto end = std::chrono::steady_clock::now() + 5s;
    while (flooding && std::chrono::steady_clock::now() < end) {
      if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) <= 0) break;
    }
    ::close(fd);
  }};
  std::this_thread::sleep_for(100ms);  // The flood is under way.

  const int pinger = connect_blocking(port);
  const timeval wait_limit{.tv_sec = 2, .tv_usec = 0};
  ::setsockopt(pinger, SOL_SOCKET, SO_RCVTIMEO, &wait_limit, sizeof wait_limit);
  int answered = 0;
  std::chrono::steady_clock::duration slowest{};
  for (int ping = 0; ping < 20; ++ping) {
    const std::string text = "ping " + std::to_string(ping) + "\n";
    const auto sent_at = std::chrono::steady_clock::now();
    if (::send(pinger, text.data(), text.size(), MSG_NOSIGNAL) <= 0) break;
    std::string reply;
    char byte = 0;
    while (reply.size() < text.size() && ::recv(pinger, &byte, 1, 0) == 1)
      reply += byte;
    if (reply != text) break;
    ++answered;
    slowest = std::max(slowest, std::chrono::steady_clock::now() - sent_at);
    std::this_thread::sleep_for(10ms);
  }
  ::close(pinger);
  flooding = false;
  flooder.join();
  io.stop();
  io_thread.join();
  CHECK(answered == 20);
  CHECK(slowest < 500ms);
}

TEST_CASE(
    "over TCP, a read that loses a race is cancelled alone, and the next read gets the "
    "line") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tcp_server server{io, {}};
    server.serve<line_codec>(echo_handler{});
    auto conn =
        co_await coronet::connect("127.0.0.1", server.local_endpoint().port(), quick_connect());
    for (int round = 0; round < 3; ++round) {
      // Nothing is coming: the timer wins and the socket wait is cancelled.
      auto raced = co_await (conn.read() || sleep_for(20ms));
      CHECK(raced.index() == 1);
      const std::string reply = co_await ask(conn, "round " + std::to_string(round));
      CHECK(reply == "round " + std::to_string(round));
    }
    CHECK(conn.is_open());
  });
}

TEST_CASE("over TCP, a read that the idle timeout ends returns timed_out") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    std::error_code seen;
    tcp_server server{io, {.connection = {.idle_timeout = 100ms}}};
    server.serve<line_codec>([&seen](auto& conn) -> asio::awaitable<void> {
      auto line = co_await conn.read();
      seen = line ? std::error_code{} : line.error();
    });
    auto conn =
        co_await coronet::connect("127.0.0.1", server.local_endpoint().port(), quick_connect());
    const std::string end = co_await next_line(conn);  // Closed by the server after 100 ms.
    CHECK(end == eof_text());
    CHECK(seen == errc::timed_out);
  });
}
