// Servers over each transport and socket feature: IPv6, dual-stack, Unix sockets, half-close,
// sendfile, reuse_port across threads, and running out of file descriptors.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/strand.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <coronet/coronet.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "../support/async_test.hpp"
#include "../support/line_test_helpers.hpp"
#include "../support/log_recorder.hpp"

using namespace std::chrono_literals;
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

TEST_CASE("a server on a strand of an io_context run by two threads enforces its idle timeout") {
  // The deadline queue is per io_context and fires on whichever thread runs its timer; the
  // timeout must reach the connection through its own strand.
  asio::io_context io{2};
  const asio::any_io_executor server_strand = asio::make_strand(io);
  tcp_server server{server_strand, {.connection = {.idle_timeout = 100ms}}};
  server.serve<line_codec>(echo_handler{});
  const std::uint16_t port = server.local_endpoint().port();
  std::string echo;
  std::string end;
  std::chrono::steady_clock::duration silence{};
  asio::co_spawn(
      asio::make_strand(io),
      [&]() -> asio::awaitable<void> {
        auto conn = co_await coronet::connect("127.0.0.1", port, quick_connect());
        echo = co_await ask(conn, "ping");
        const auto start = std::chrono::steady_clock::now();
        end = co_await next_line(conn);
        silence = std::chrono::steady_clock::now() - start;
        asio::post(server_strand, [&server] { server.stop(); });
      },
      [](std::exception_ptr failure) {
        if (failure) std::rethrow_exception(failure);
      });
  std::thread other{[&io] { io.run_for(5s); }};
  io.run_for(5s);
  other.join();
  CHECK(echo == "ping");
  CHECK(end == eof_text());
  CHECK(silence >= 90ms);
  CHECK(silence < 2s);
}
