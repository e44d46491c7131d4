// tcp_server / unix_server over real loopback sockets: handlers, limits, refusal, timeouts,
// graceful stop, faults that must stay local to one connection, IPv6 and Unix sockets.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <coronet/coronet.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "../support/async_test.hpp"
#include "../support/log_recorder.hpp"

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using coronet::errc;
using coronet::line_codec;
using coronet::tcp_server;
using coronet_test::log_recorder;
using coronet_test::run_async;

namespace {

// The handler of the design sketch: echo each line until "exit".
struct echo_handler {
  template <typename Connection>
  asio::awaitable<void> operator()(Connection& conn) const {
    while (auto line = co_await conn.read()) {
      if (*line == "exit") co_return;
      co_await conn.write(*line);
    }
  }
};

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer{co_await asio::this_coro::executor, duration};
  co_await timer.async_wait(asio::use_awaitable);
}

coronet::connect_options quick_connect() {
  return {.timeout = 2s, .connection = {.idle_timeout = 5s}};
}

// Reads one line; "<error: ...>" when there is none, so a CHECK shows what happened.
template <typename Connection>
asio::awaitable<std::string> next_line(Connection& conn) {
  auto line = co_await conn.read();
  if (!line) co_return "<error: " + line.error().message() + ">";
  co_return std::string{*line};
}

template <typename Connection>
asio::awaitable<std::string> ask(Connection& conn, std::string line) {
  co_await conn.write(line);
  co_return co_await next_line(conn);
}

std::string eof_text() {
  return "<error: " + asio::error::make_error_code(asio::error::eof).message() + ">";
}

}  // namespace

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

TEST_CASE("tcp server serves IPv6 clients on ::1") {
  asio::io_context probe;
  asio::ip::tcp::acceptor v6{probe};
  std::error_code unavailable;
  v6.open(asio::ip::tcp::v6(), unavailable);
  if (!unavailable) v6.bind({asio::ip::make_address("::1"), 0}, unavailable);
  if (unavailable) {
    WARN("skipped: ::1 is not available here (" << unavailable.message() << ")");
    return;
  }
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tcp_server server{io, {.host = "::1"}};
    server.serve<line_codec>(echo_handler{});
    CHECK(server.local_endpoint().address().is_v6());
    auto conn = co_await coronet::connect("::1", server.local_endpoint().port(), quick_connect());
    CHECK(coronet::to_string(conn.remote_endpoint()).starts_with("[::1]:"));
    const std::string echo = co_await ask(conn, "over IPv6");
    CHECK(echo == "over IPv6");
  });
}

TEST_CASE("unix server serves clients, replaces a stale socket file and never steals a live one") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("coronet-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "echo.sock").string();
  {
    // A stale socket file, as a crashed server leaves behind.
    asio::io_context io;
    asio::local::stream_protocol::acceptor dead{io, asio::local::stream_protocol::endpoint{path}};
  }
  REQUIRE(std::filesystem::exists(path));
  run_async([&path](asio::io_context& io) -> asio::awaitable<void> {
    coronet::unix_server server{io, {.unix_path = path}};
    server.serve<line_codec>(echo_handler{});
    CHECK_THROWS_AS((coronet::unix_server{io, {.unix_path = path}}), std::system_error);
    auto conn = co_await coronet::connect_unix(path, quick_connect());
    const std::string echo = co_await ask(conn, "over a unix socket");
    CHECK(echo == "over a unix socket");
    server.stop();
  });
  CHECK_FALSE(std::filesystem::exists(path));  // Removed at stop.
  std::filesystem::remove_all(dir);
}

TEST_CASE("a client that half-closes after sending a line still gets the reply") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tcp_server server{io, {}};
    server.serve<line_codec>(echo_handler{});
    auto conn =
        co_await coronet::connect("127.0.0.1", server.local_endpoint().port(), quick_connect());
    co_await conn.write("last words");
    co_await conn.flush();
    CHECK_FALSE(conn.shutdown(asio::socket_base::shutdown_send));
    const std::string reply = co_await next_line(conn);
    CHECK(reply == "last words");
    const std::string end = co_await next_line(conn);
    CHECK(end == eof_text());
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

TEST_CASE("connect_ex returns the error and connect throws when nobody listens") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    std::uint16_t closed_port = 0;
    {
      asio::ip::tcp::acceptor probe{io, {asio::ip::make_address("127.0.0.1"), 0}};
      closed_port = probe.local_endpoint().port();
    }
    auto result = co_await coronet::connect_ex("127.0.0.1", closed_port, quick_connect());
    CHECK_FALSE(result);
    CHECK(result.error == asio::error::connection_refused);
    bool threw = false;
    try {
      co_await coronet::connect("127.0.0.1", closed_port, quick_connect());
    } catch (const std::system_error& error) {
      threw = error.code() == asio::error::connection_refused;
    }
    CHECK(threw);
  });
}

TEST_CASE("connect resolves a host name and tries its addresses") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tcp_server server{io, {.host = "127.0.0.1"}};
    server.serve<line_codec>(echo_handler{});
    // "localhost" may resolve to ::1 first, where nothing listens: the client must go on to
    // 127.0.0.1.
    auto conn =
        co_await coronet::connect("localhost", server.local_endpoint().port(), quick_connect());
    const std::string echo = co_await ask(conn, "by name");
    CHECK(echo == "by name");
  });
}

TEST_CASE("send_file over TCP delivers the file byte-exact (sendfile on Linux)") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    std::FILE* file = std::tmpfile();
    REQUIRE(file != nullptr);
    std::string contents(3 * 1024 * 1024 + 17, '\0');
    std::uint32_t state = 12345;
    for (char& byte : contents) {
      state = state * 1103515245U + 12345U;
      byte = static_cast<char>(state >> 24);
    }
    REQUIRE(std::fwrite(contents.data(), 1, contents.size(), file) == contents.size());
    std::fflush(file);
    const int fd = ::fileno(file);

    // A small send buffer makes sendfile(2) hit EAGAIN and wait for the socket many times.
    tcp_server server{io, {.socket = {.send_buffer_size = 16 * 1024}}};
    server.serve<line_codec>([fd, size = contents.size()](auto& conn) -> asio::awaitable<void> {
      auto request = co_await conn.read();
      if (request && *request == "get") co_await conn.send_file(fd, 0, size);
    });
    auto conn =
        co_await coronet::connect("127.0.0.1", server.local_endpoint().port(), quick_connect());
    co_await conn.write("get");
    std::string received(contents.size(), '\0');
    std::size_t got = 0;
    while (got < received.size()) {
      auto [error, count] =
          co_await conn.recv_into(std::span<char>{received.data() + got, received.size() - got});
      if (error) break;
      got += count;
    }
    CHECK(got == contents.size());
    CHECK(received == contents);
    std::fclose(file);
  });
}

TEST_CASE("a dual-stack server on :: accepts IPv4 clients too") {
  asio::io_context probe;
  asio::ip::tcp::acceptor v6{probe};
  std::error_code unavailable;
  v6.open(asio::ip::tcp::v6(), unavailable);
  if (!unavailable) v6.bind({asio::ip::make_address("::"), 0}, unavailable);
  if (unavailable) {
    WARN("skipped: IPv6 is not available here (" << unavailable.message() << ")");
    return;
  }
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tcp_server server{io, {.host = "::", .dual_stack = true}};
    server.serve<line_codec>(echo_handler{});
    auto conn =
        co_await coronet::connect("127.0.0.1", server.local_endpoint().port(), quick_connect());
    const std::string echo = co_await ask(conn, "v4 on a v6 socket");
    CHECK(echo == "v4 on a v6 socket");
  });
}

TEST_CASE("connect gives up with timed_out when the server never completes the handshake") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    // A listener that never accepts, with its accept queue full: Linux drops further SYNs, so a
    // new connect hangs in the handshake.
    asio::ip::tcp::acceptor stuck{io, {asio::ip::make_address("127.0.0.1"), 0}};
    stuck.listen(0);
    const auto endpoint = stuck.local_endpoint();
    std::vector<asio::ip::tcp::socket> fillers;
    bool hung = false;
    for (int i = 0; i < 8 && !hung; ++i) {
      auto result = co_await coronet::connect_ex("127.0.0.1", endpoint.port(), {.timeout = 300ms});
      if (!result) {
        CHECK(result.error == errc::timed_out);
        hung = true;
      } else {
        fillers.push_back(std::move(result.connection->stream()));
      }
    }
    CHECK(hung);
  });
}

// Not run under the sanitizer presets (CMakePresets.json excludes it): their runtimes open
// descriptors of their own while checking (UBSan's memory probe opens a pipe) and misreport
// when the process is out of them.
TEST_CASE("tcp server backs off when accept runs out of file descriptors, then recovers") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    log_recorder log;
    tcp_server server{io, {.log = log.hook()}};
    server.serve<line_codec>(echo_handler{});
    const std::uint16_t port = server.local_endpoint().port();

    // Two client sockets, then a descriptor limit that leaves room for one accepted socket only.
    asio::ip::tcp::socket first{io, asio::ip::tcp::v4()};
    asio::ip::tcp::socket second{io, asio::ip::tcp::v4()};
    int open_descriptors = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
      (void)entry;
      ++open_descriptors;
    }
    rlimit original{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &original) == 0);
    rlimit tight = original;
    // The count includes the directory iterator's own descriptor, closed since: that is the one
    // free slot. (The limit bounds descriptor numbers; ours are dense.)
    tight.rlim_cur = static_cast<rlim_t>(open_descriptors);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);

    co_await first.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
    co_await second.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
    co_await sleep_for(100ms);
    rusage before{};
    ::getrusage(RUSAGE_SELF, &before);
    co_await sleep_for(400ms);  // The second connection waits in the backlog: accept fails.
    rusage after{};
    ::getrusage(RUSAGE_SELF, &after);
    const auto cpu_us = [](const rusage& usage) {
      return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1'000'000L + usage.ru_utime.tv_usec +
             usage.ru_stime.tv_usec;
    };
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &original) == 0);
    CHECK(log.contains("accept failed"));
    CHECK(cpu_us(after) - cpu_us(before) < 100'000);  // Backing off, not spinning.

    // With descriptors available again the waiting connection is accepted and served.
    co_await asio::async_write(second, asio::buffer(std::string("recovered\n")),
                               asio::use_awaitable);
    std::string reply(10, '\0');
    co_await asio::async_read(second, asio::buffer(reply), asio::use_awaitable);
    CHECK(reply == "recovered\n");
  });
}

TEST_CASE("servers with reuse_port share one port, each on its own io_context and thread") {
  asio::io_context first_io;
  asio::io_context second_io;
  tcp_server first{first_io, {.reuse_port = true}};
  const std::uint16_t port = first.local_endpoint().port();
  tcp_server second{second_io, {.port = port, .reuse_port = true}};
  CHECK(second.local_endpoint().port() == port);
  first.serve<line_codec>(echo_handler{});
  second.serve<line_codec>(echo_handler{});
  std::thread first_thread{[&] { first_io.run_for(10s); }};
  std::thread second_thread{[&] { second_io.run_for(10s); }};
  run_async([port](asio::io_context&) -> asio::awaitable<void> {
    // Every connection is served, whichever server the kernel hands it to.
    for (int i = 0; i < 8; ++i) {
      auto conn = co_await coronet::connect("127.0.0.1", port, quick_connect());
      const std::string echo = co_await ask(conn, "client " + std::to_string(i));
      CHECK(echo == "client " + std::to_string(i));
    }
  });
  asio::post(first_io, [&first] { first.stop(); });
  asio::post(second_io, [&second] { second.stop(); });
  first_thread.join();
  second_thread.join();
}
