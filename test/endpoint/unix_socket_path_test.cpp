// prepare_unix_socket_path: how a server decides whether the socket file at its path belongs to
// a live server (leave it alone) or to a dead one (replace it), without disturbing a live one.
#include <unistd.h>

#include <asio/local/stream_protocol.hpp>
#include <catch2/catch.hpp>
#include <coronet/coronet.hpp>
#include <filesystem>
#include <string>
#include <system_error>

#include "../support/async_test.hpp"
#include "../support/line_test_helpers.hpp"

using namespace std::chrono_literals;
using coronet::line_codec;
using coronet_test::run_async;
using coronet_test::sleep_for;

namespace {

// A fresh directory for socket files, removed with everything in it.
struct socket_dir {
  socket_dir() {
    static int count = 0;
    path = std::filesystem::temp_directory_path() /
           ("coronet-unix-path-" + std::to_string(::getpid()) + "-" + std::to_string(++count));
    std::filesystem::create_directories(path);
  }
  ~socket_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }

  std::filesystem::path path;
};

}  // namespace

TEST_CASE("a second server on a live unix socket path fails without connecting to the first") {
  socket_dir dir;
  const std::string path = dir.file("live.sock");
  run_async([&path](asio::io_context& io) -> asio::awaitable<void> {
    int connections = 0;
    coronet::unix_server server{io, {.unix_path = path}};
    server.serve<line_codec>([&connections](auto&) -> asio::awaitable<void> {
      ++connections;
      co_return;
    });

    CHECK(coronet::prepare_unix_socket_path(path) ==
          std::make_error_code(std::errc::address_in_use));
    bool refused = false;
    try {
      coronet::unix_server second{io, {.unix_path = path}};
    } catch (const std::system_error& error) {
      refused = error.code() == std::errc::address_in_use;
    }
    CHECK(refused);
    co_await sleep_for(200ms);  // Time for a probe connection, had there been one, to arrive.
    CHECK(connections == 0);
    CHECK(std::filesystem::is_socket(path));  // Still the first server's.
    server.stop();
  });
}

TEST_CASE("a stale unix socket file left by a closed socket is replaced") {
  socket_dir dir;
  const std::string path = dir.file("stale.sock");
  {
    // Bound, listening, then closed without unlinking: what a crashed server leaves behind.
    asio::io_context io;
    asio::local::stream_protocol::acceptor dead{io, asio::local::stream_protocol::endpoint{path}};
  }
  REQUIRE(std::filesystem::is_socket(path));
  CHECK_FALSE(coronet::prepare_unix_socket_path(path));
  CHECK_FALSE(std::filesystem::exists(path));

  run_async([&path](asio::io_context& io) -> asio::awaitable<void> {
    {
      asio::local::stream_protocol::acceptor dead{io, asio::local::stream_protocol::endpoint{path}};
    }
    coronet::unix_server server{io, {.unix_path = path}};  // Replaces the stale file again.
    server.serve<line_codec>(coronet_test::echo_handler{});
    auto conn = co_await coronet::connect_unix(path, coronet_test::quick_connect());
    const std::string echo = co_await coronet_test::ask(conn, "served");
    CHECK(echo == "served");
    server.stop();
  });
}
