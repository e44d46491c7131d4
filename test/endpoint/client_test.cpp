// coronet::connect and connect_ex: errors as values or exceptions, name resolution, the
// connect timeout.
#include <asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <coronet/coronet.hpp>
#include <string>

#include "../support/async_test.hpp"
#include "../support/line_test_helpers.hpp"
#include "../support/log_recorder.hpp"

using namespace std::chrono_literals;
using coronet::errc;
using coronet::line_codec;
using coronet::tcp_server;
using coronet_test::ask;
using coronet_test::echo_handler;
using coronet_test::log_recorder;
using coronet_test::quick_connect;
using coronet_test::run_async;

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
  // "localhost" comes from /etc/hosts, which a bare root (a debootstrap chroot, some containers)
  // does not have: there the name cannot resolve, whatever coronet does.
  asio::io_context probe;
  asio::ip::tcp::resolver resolver{probe};
  std::error_code unresolved;
  const auto addresses = resolver.resolve("localhost", "", unresolved);
  if (unresolved || addresses.empty()) {
    WARN("skipped: 'localhost' does not resolve on this machine ("
         << (unresolved ? unresolved.message() : std::string{"no addresses"})
         << "; is /etc/hosts missing?)");
    return;
  }
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
