// The HTTP server component over TCP: routes, statuses, keep-alive and HEAD with raw sockets and
// curl; hostile clients (a 1 MiB header line, garbage, bytes one per second, 1,000 idle
// connections) get their answer and are closed while an echo server on the same io_context
// keeps answering within 1 s; the upgrade seam hands a connection over with its stream.
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <coronet/http/http_server.hpp>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "http/http_test_support.hpp"
#include "support/async_test.hpp"
#include "support/server_test_helpers.hpp"

using coronet::http_request;
using coronet::http_response;
using coronet::http_server;
using coronet::http_server_options;
using coronet_test::raw_connect;
using coronet_test::read_response;
using namespace std::chrono_literals;

namespace {

// The routes every test serves.
void add_routes(http_server& server) {
  server.get("/hello",
             [](const http_request&) { return http_response::with_body(200, "hello, world\n"); });
  server.get("/metrics", [](const http_request&) -> asio::awaitable<http_response> {
    co_return http_response::with_body(200, "up 1\n", "text/plain; version=0.0.4; charset=utf-8");
  });
  server.route("POST", "/echo", [](const http_request& request) {
    return http_response::with_body(200, request.body, "application/octet-stream");
  });
  server.get("/throws",
             [](const http_request&) -> http_response { throw std::runtime_error("handler bug"); });
}

http_server_options quiet_options() {
  http_server_options options;
  options.server.log = [](coronet::log_level, std::string_view) {};
  return options;
}

asio::awaitable<coronet_test::raw_response> exchange(std::uint16_t port, std::string request,
                                                     bool head_only = false) {
  auto socket = co_await raw_connect(port);
  co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
  std::string pending;
  co_return co_await read_response(socket, pending, head_only);
}

}  // namespace

TEST_CASE("http server answers a GET with 200 and its body and Content-Type") {
  coronet_test::run_async([](asio::io_context& io) -> asio::awaitable<void> {
    http_server server{io, quiet_options()};
    add_routes(server);
    server.start();
    const auto port = server.local_endpoint().port();
    const auto response = co_await exchange(port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(response.ok);
    CHECK(response.status() == 200);
    CHECK(response.has("Content-Type: text/plain; charset=utf-8\r\n"));
    CHECK(response.has("Content-Length: 13\r\n"));
    CHECK(response.has("Date: "));
    CHECK(response.body == "hello, world\n");
    const auto metrics = co_await exchange(port, "GET /metrics?name=x HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(metrics.has("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    CHECK(metrics.body == "up 1\n");
    const auto echoed =
        co_await exchange(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd");
    CHECK(echoed.body == "abcd");
  });
}

TEST_CASE("http server answers an unknown path with 404 and another method with 405 and Allow") {
  coronet_test::run_async([](asio::io_context& io) -> asio::awaitable<void> {
    http_server server{io, quiet_options()};
    add_routes(server);
    server.start();
    const auto port = server.local_endpoint().port();
    const auto missing = co_await exchange(port, "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(missing.status() == 404);
    const auto wrong = co_await exchange(port, "DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(wrong.status() == 405);
    CHECK(wrong.has("Allow: GET, HEAD\r\n"));
    const auto failing = co_await exchange(port, "GET /throws HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(failing.status() == 500);
    CHECK(failing.has("Connection: close\r\n"));
  });
}

TEST_CASE("http server keeps a connection alive for two requests and closes after close") {
  coronet_test::run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<coronet_test::counting_observer>();
    http_server_options options = quiet_options();
    options.server.observer = observer;
    http_server server{io, options};
    add_routes(server);
    server.start();
    auto socket = co_await raw_connect(server.local_endpoint().port());
    std::string pending;
    // Two pipelined requests in one write, then a third that asks to close.
    const std::string two =
        "GET /hello HTTP/1.1\r\nHost: x\r\n\r\nHEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(two), asio::use_awaitable);
    const auto first = co_await read_response(socket, pending);
    const auto head = co_await read_response(socket, pending, true);
    CHECK(first.status() == 200);
    CHECK_FALSE(first.has("Connection: close"));
    CHECK(head.status() == 200);
    CHECK(head.has("Content-Length: 13\r\n"));
    const std::string last = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(last), asio::use_awaitable);
    const auto closing = co_await read_response(socket, pending);
    CHECK(closing.has("Connection: close\r\n"));
    CHECK(pending.empty());  // The HEAD response had no body.
    const bool closed_by_server = co_await coronet_test::closed_by_peer(socket, 2s);
    CHECK(closed_by_server);
    CHECK(observer->sessions_started == 1);
  });
}

TEST_CASE("http server closes a keep-alive connection after max_requests_per_connection") {
  coronet_test::run_async([](asio::io_context& io) -> asio::awaitable<void> {
    http_server_options options = quiet_options();
    options.max_requests_per_connection = 2;
    http_server server{io, options};
    add_routes(server);
    server.start();
    auto socket = co_await raw_connect(server.local_endpoint().port());
    std::string pending;
    const std::string request = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(request + request + request),
                               asio::use_awaitable);
    const auto first = co_await read_response(socket, pending);
    const auto second = co_await read_response(socket, pending);
    CHECK_FALSE(first.has("Connection: close"));
    CHECK(second.has("Connection: close\r\n"));
    const bool closed_by_server = co_await coronet_test::closed_by_peer(socket, 2s);
    CHECK(closed_by_server);
  });
}

TEST_CASE("http server answers garbage with 400 and closes") {
  coronet_test::run_async([](asio::io_context& io) -> asio::awaitable<void> {
    http_server server{io, quiet_options()};
    add_routes(server);
    server.start();
    auto socket = co_await raw_connect(server.local_endpoint().port());
    const std::string garbage = "\x16\x03\x01 not http at all\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(garbage), asio::use_awaitable);
    std::string pending;
    const auto response = co_await read_response(socket, pending);
    CHECK(response.status() == 400);
    CHECK(response.has("Connection: close\r\n"));
    const bool closed_by_server = co_await coronet_test::closed_by_peer(socket, 2s);
    CHECK(closed_by_server);
  });
}

TEST_CASE("http server refuses a client past max_connections with 503") {
  coronet_test::run_async([](asio::io_context& io) -> asio::awaitable<void> {
    http_server_options options = quiet_options();
    options.server.max_connections = 1;
    http_server server{io, options};
    add_routes(server);
    server.start();
    const auto port = server.local_endpoint().port();
    auto first = co_await raw_connect(port);
    co_await coronet_test::sleep_for(100ms);  // Its session has started.
    const auto refused = co_await exchange(port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(refused.status() == 503);
    CHECK(refused.has("Connection: close\r\n"));
    CHECK(refused.body == "error: server full (1 connection)\n");
  });
}

TEST_CASE("http server hands an upgrade request's connection and stream to the upgrade route") {
  coronet_test::run_async([](asio::io_context& io) -> asio::awaitable<void> {
    http_server server{io, quiet_options()};
    add_routes(server);
    // What a WebSocket route would do: answer 101 through the HTTP codec, then take the
    // stream and speak another protocol on it (here: echo raw bytes once).
    server.upgrade(
        "/ws",
        [](http_request request,
           http_server::connection_type& connection) -> asio::awaitable<void> {
          http_response switching;
          switching.status = 101;
          switching.headers.add("Upgrade",
                                std::string{request.headers.find("Upgrade").value_or("")});
          switching.headers.add("Connection", "Upgrade");
          co_await connection.write(switching);
          co_await connection.flush();
          auto released = connection.release_stream();
          std::string first = released.unread;
          if (first.empty()) {
            first.resize(64);
            const std::size_t count =
                co_await released.stream.async_read_some(asio::buffer(first), asio::use_awaitable);
            first.resize(count);
          }
          const std::string reply = "echo:" + first;
          co_await asio::async_write(released.stream, asio::buffer(reply), asio::use_awaitable);
        });
    server.start();
    auto socket = co_await raw_connect(server.local_endpoint().port());
    const std::string upgrade =
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(upgrade), asio::use_awaitable);
    std::string pending;
    const auto switching = co_await read_response(socket, pending);
    CHECK(switching.status() == 101);
    CHECK(switching.has("Upgrade: websocket\r\n"));
    CHECK_FALSE(switching.has("Content-Length"));
    co_await asio::async_write(socket, asio::buffer(std::string{"frame"}), asio::use_awaitable);
    std::string reply(10, '\0');
    co_await asio::async_read(socket, asio::buffer(reply), asio::use_awaitable);
    CHECK(reply == "echo:frame");
    // Other paths are still plain HTTP.
    const auto hello =
        co_await exchange(server.local_endpoint().port(), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(hello.status() == 200);
  });
}

namespace {

// An HTTP server with the test routes on its own thread, for clients that block (curl).
struct threaded_server {
  threaded_server() : server{io, options()} {
    add_routes(server);
    server.start();
    thread = std::thread{[this] { io.run_for(30s); }};
  }
  ~threaded_server() {
    asio::post(io, [this] { server.stop(); });
    thread.join();
  }
  static http_server_options options() {
    http_server_options server_options = quiet_options();
    server_options.server.observer = observer;
    return server_options;
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }

  inline static std::shared_ptr<coronet_test::counting_observer> observer;
  asio::io_context io;
  http_server server;
  std::uint16_t port = server.local_endpoint().port();
  std::thread thread;
};

void require_curl() {
  REQUIRE_FALSE(coronet_test::run_command("command -v curl").empty());  // scripts/setup has it.
}

}  // namespace

TEST_CASE("curl gets 200 with the body and Content-Type and 404 for an unknown path") {
  require_curl();
  threaded_server::observer = std::make_shared<coronet_test::counting_observer>();
  threaded_server web;
  const std::string ok = coronet_test::run_command("curl -sS -i --max-time 5 " + web.url("/hello"));
  CHECK(ok.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(ok.find("Content-Type: text/plain; charset=utf-8\r\n") != std::string::npos);
  CHECK(ok.ends_with("\r\n\r\nhello, world\n"));
  const std::string missing = coronet_test::run_command(
      "curl -s -o /dev/null -w '%{http_code}' --max-time 5 " + web.url("/nowhere"));
  CHECK(missing == "404");
  const std::string wrong = coronet_test::run_command(
      "curl -s -o /dev/null -w '%{http_code}' -X POST --max-time 5 " + web.url("/hello"));
  CHECK(wrong == "405");
}

TEST_CASE("curl reuses one keep-alive connection for two requests and HEAD gets no body") {
  require_curl();
  threaded_server::observer = std::make_shared<coronet_test::counting_observer>();
  threaded_server web;
  const std::string both =
      coronet_test::run_command("curl -sS --max-time 5 -w '[%{num_connects}]' " +
                                web.url("/hello") + " " + web.url("/metrics"));
  // Two bodies, and the second transfer made no new connection.
  CHECK(both == "hello, world\n[1]up 1\n[0]");
  const std::string head =
      coronet_test::run_command("curl -sS -I --max-time 5 " + web.url("/hello"));
  CHECK(head.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(head.find("Content-Length: 13\r\n") != std::string::npos);
}
