// websocket_server on loopback: the same line handler over TCP and WebSocket, bad handshakes
// answered with their status and closed, 1001 at stop, the full-server refusal, plain HTTP on
// the same port, and 200 slow handshakes reaped by the timeout while a TCP server keeps serving.
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <coronet/codec/line_codec.hpp>
#include <coronet/endpoint/callback_handler.hpp>
#include <coronet/endpoint/client.hpp>
#include <coronet/endpoint/server.hpp>
#include <coronet/endpoint/websocket_client.hpp>
#include <coronet/endpoint/websocket_transport.hpp>
#include <memory>
#include <string>
#include <vector>

#include "../support/async_test.hpp"
#include "../support/server_test_helpers.hpp"

using namespace std::chrono_literals;
using coronet::line_codec;
using coronet::tcp_server;
using coronet::websocket_server;
using coronet::websocket_server_options;
using coronet::websocket_transport;
using coronet_test::raw_connect;
using coronet_test::run_async;
using coronet_test::sleep_for;

namespace {

// A handler written for lines; it knows nothing of the transport.
constexpr auto shout_back = [](auto& connection) -> asio::awaitable<void> {
  while (auto line = co_await connection.read()) {
    if (*line == "exit") break;
    std::string reply = "you said: " + std::string{*line};
    co_await connection.write(reply);
  }
};

coronet::server_options quiet_options() {
  coronet::server_options options;
  options.log = [](coronet::log_level, std::string_view) {};
  return options;
}

std::uint16_t port_of(const auto& server) {
  return server.local_endpoint().port();
}

// Everything the server sends on `socket` until it closes (bounded by the test's time limit).
asio::awaitable<std::string> read_all(asio::ip::tcp::socket& socket) {
  std::string received;
  char chunk[4096];
  while (true) {
    auto [error, count] = co_await socket.async_read_some(
        asio::buffer(chunk), asio::experimental::as_tuple(asio::use_awaitable));
    if (error) co_return received;
    received.append(chunk, count);
  }
}

std::string upgrade_request(const std::string& version_field, const std::string& key_field,
                            const std::string& extra = "") {
  return "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
         version_field + key_field + extra + "\r\n";
}

}  // namespace

TEST_CASE("one line handler serves a TCP server and a WebSocket server") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tcp_server lines{io, quiet_options()};
    lines.serve<line_codec>(shout_back);
    websocket_server web{io, quiet_options()};
    web.serve<line_codec>(shout_back);

    auto tcp = co_await coronet::connect("127.0.0.1", port_of(lines));
    co_await tcp.write("over TCP");
    auto tcp_reply = co_await tcp.read();
    REQUIRE(tcp_reply);
    CHECK(*tcp_reply == "you said: over TCP");

    auto ws = co_await coronet::websocket_connect("127.0.0.1", port_of(web), "/ws");
    co_await ws.write("over WebSocket");
    co_await ws.write("ünïcödé ✓");
    auto first = co_await ws.read();
    REQUIRE(first);
    CHECK(*first == "you said: over WebSocket");
    auto second = co_await ws.read();
    REQUIRE(second);
    CHECK(*second == "you said: ünïcödé ✓");
    co_await ws.write("exit");
    auto end = co_await ws.read();
    CHECK(end.at_end());
    CHECK(ws.peer_close_code() == coronet::websocket_close::normal);
  });
}

TEST_CASE("websocket server answers bad handshakes with their status and closes") {
  struct bad_handshake {
    const char* name;
    std::string request;
    std::string status_line;
    std::string must_contain;
  };
  const std::string key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  const std::string version = "Sec-WebSocket-Version: 13\r\n";
  const std::vector<bad_handshake> cases = {
      {"missing key", upgrade_request(version, ""), "HTTP/1.1 400 ", "Sec-WebSocket-Key"},
      {"wrong version", upgrade_request("Sec-WebSocket-Version: 8\r\n", key), "HTTP/1.1 400 ",
       "Sec-WebSocket-Version: 13\r\n"},
      {"64 KiB header",
       upgrade_request(version, key, "X-Big: " + std::string(64 * 1024, 'a') + "\r\n"),
       "HTTP/1.1 431 ", "Connection: close"},
      {"garbage", "\x16\x03\x01 hello\r\n\r\n", "HTTP/1.1 400 ", "Connection: close"},
  };
  for (const bad_handshake& test : cases) {
    INFO(test.name);
    run_async([&test](asio::io_context& io) -> asio::awaitable<void> {
      auto observer = std::make_shared<coronet_test::counting_observer>();
      coronet::server_options options = quiet_options();
      options.observer = observer;
      websocket_server web{io, options};
      web.serve<line_codec>(shout_back);
      auto socket = co_await raw_connect(port_of(web));
      co_await asio::async_write(socket, asio::buffer(test.request),
                                 asio::experimental::as_tuple(asio::use_awaitable));
      const std::string answer = co_await read_all(socket);
      CHECK(answer.substr(0, test.status_line.size()) == test.status_line);
      CHECK(answer.find(test.must_contain) != std::string::npos);
      // The server reports the failure once its prepare step has ended (bounded wait).
      for (int i = 0; i < 100 && observer->handshakes_failed.empty(); ++i)
        co_await sleep_for(10ms);
      CHECK(observer->sessions_started == 0);
      CHECK(observer->handshakes_failed.size() == 1);
    });
  }
}

TEST_CASE("websocket server sends 1001 to its clients when it stops") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto web = std::make_unique<websocket_server>(io, quiet_options());
    web->serve<line_codec>(shout_back);
    auto ws = co_await coronet::websocket_connect("127.0.0.1", port_of(*web), "/ws");
    co_await ws.write("hello");
    auto reply = co_await ws.read();
    REQUIRE(reply);
    web->stop();
    auto end = co_await ws.read();
    CHECK(end.at_end());
    CHECK(ws.peer_close_code() == coronet::websocket_close::going_away);
  });
}

TEST_CASE("a full websocket server completes the handshake then sends the refusal and a close") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    coronet::server_options options = quiet_options();
    options.max_connections = 1;
    websocket_server web{io, options};
    web.serve<line_codec>(shout_back);
    auto member = co_await coronet::websocket_connect("127.0.0.1", port_of(web), "/ws");
    co_await member.write("I am in");
    auto in = co_await member.read();
    REQUIRE(in);
    auto newcomer = co_await coronet::websocket_connect("127.0.0.1", port_of(web), "/ws");
    auto refusal = co_await newcomer.read();
    REQUIRE(refusal);
    CHECK(*refusal == "error: server full (1 connection)");
    auto end = co_await newcomer.read();
    CHECK(end.at_end());
  });
}

TEST_CASE("websocket server answers plain HTTP with its http_handler and upgrades only its path") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<coronet_test::counting_observer>();
    coronet::server_options options = quiet_options();
    options.observer = observer;
    websocket_server_options web_options;
    web_options.path = "/ws";
    web_options.http_handler = [](const coronet::http_request& request) {
      return coronet::http_response::with_body(200, "page for " + std::string{request.path()},
                                               "text/html; charset=utf-8");
    };
    websocket_server web{io, options, websocket_transport<>{web_options}};
    web.serve<line_codec>(shout_back);

    auto socket = co_await raw_connect(port_of(web));
    const std::string get = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(get), asio::use_awaitable);
    const std::string page = co_await read_all(socket);
    CHECK(page.substr(0, 15) == "HTTP/1.1 200 OK");
    CHECK(page.find("text/html") != std::string::npos);
    CHECK(page.substr(page.size() - 20) == "page for /index.html");
    // A served page is not a failed handshake: counted as answered, never refused or logged.
    for (int i = 0; i < 100 && web.metrics().handshakes_answered == 0; ++i)
      co_await sleep_for(10ms);
    CHECK(web.metrics().handshakes_answered == 1);
    CHECK(web.metrics().handshakes_failed == 0);
    CHECK(web.metrics().refused_handshake == 0);
    CHECK(observer->handshakes_failed.empty());

    auto elsewhere = co_await coronet::websocket_connect_ex("127.0.0.1", port_of(web), "/other");
    CHECK(elsewhere.error == coronet::websocket_handshake_errc::bad_response);
    auto ws = co_await coronet::websocket_connect("127.0.0.1", port_of(web), "/ws");
    co_await ws.write("through");
    auto reply = co_await ws.read();
    REQUIRE(reply);
    CHECK(*reply == "you said: through");
  });
}

namespace {

// A client that sends its first frame ("eager") in the same write as its upgrade request gets
// the 101 and then the handler's answer to that frame ("you said: eager").
template <typename Handler>
asio::awaitable<void> check_frames_sent_with_the_request(asio::io_context& io, Handler handler) {
  websocket_server web{io, quiet_options()};
  web.serve<line_codec>(std::move(handler));
  auto socket = co_await raw_connect(port_of(web));
  std::string bytes = upgrade_request("Sec-WebSocket-Version: 13\r\n",
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
  coronet::append_websocket_frame(bytes, {true, 0, 1, std::array<std::uint8_t, 4>{1, 2, 3, 4}},
                                  "eager");
  co_await asio::async_write(socket, asio::buffer(bytes), asio::use_awaitable);
  std::string received;
  std::string expected_frame;
  REQUIRE_FALSE(coronet::websocket_codec{}.encode(
      coronet::websocket_message::text("you said: eager"), expected_frame));
  for (int reads = 0; reads < 100 && received.find(expected_frame) == std::string::npos; ++reads) {
    char chunk[1024];
    const std::size_t count =
        co_await socket.async_read_some(asio::buffer(chunk), asio::use_awaitable);
    received.append(chunk, count);
  }
  CHECK(received.substr(0, 12) == "HTTP/1.1 101");
  CHECK(received.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != std::string::npos);
  CHECK(received.find(expected_frame) != std::string::npos);
}

}  // namespace

TEST_CASE("websocket server reads frames that arrive together with the upgrade request") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    co_await check_frames_sent_with_the_request(io, shout_back);
  });
}

TEST_CASE("200 slow websocket handshakes are reaped by the timeout while a TCP server serves") {
  run_async(
      [](asio::io_context& io) -> asio::awaitable<void> {
        auto observer = std::make_shared<coronet_test::counting_observer>();
        coronet::server_options options = quiet_options();
        options.handshake_timeout = 300ms;
        options.max_connections = 1000;
        options.observer = observer;
        websocket_server web{io, options};
        web.serve<line_codec>(shout_back);
        tcp_server lines{io, quiet_options()};
        lines.serve<line_codec>(shout_back);

        std::vector<asio::ip::tcp::socket> slow;
        const std::string partial = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr";
        for (int i = 0; i < 200; ++i) {
          slow.push_back(co_await raw_connect(port_of(web)));
          co_await asio::async_write(slow.back(), asio::buffer(partial), asio::use_awaitable);
        }
        // Meanwhile the TCP chat keeps answering.
        auto tcp = co_await coronet::connect("127.0.0.1", port_of(lines));
        for (int i = 0; i < 5; ++i) {
          co_await tcp.write("still here " + std::to_string(i));
          auto reply = co_await tcp.read();
          REQUIRE(reply);
          CHECK(*reply == "you said: still here " + std::to_string(i));
        }
        // Each slow client is closed by the server (no answer: the deadline closes the stream).
        for (auto& socket : slow) {
          const std::string rest = co_await read_all(socket);
          CHECK(rest.empty());
        }
        CHECK(observer->handshakes_failed.size() == 200);
        CHECK(web.handshake_count() == 0);
        CHECK(web.connection_count() == 0);
        // And a well-behaved client still gets in.
        auto ws = co_await coronet::websocket_connect("127.0.0.1", port_of(web), "/ws");
        co_await ws.write("after the flood");
        auto reply = co_await ws.read();
        REQUIRE(reply);
      },
      30s);
}

TEST_CASE("callbacks over WebSocket run without a coroutine and hold no buffer while idle") {
  using served_connection = websocket_server::connection_type<line_codec>;
  STATIC_REQUIRE(coronet::socket_read_stream<coronet::websocket_stream<asio::ip::tcp::socket>>);
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto served = std::make_shared<served_connection*>(nullptr);
    auto ended = std::make_shared<std::vector<std::error_code>>();
    auto echo = coronet::callbacks()
                    .on_connect([served](served_connection& conn) { *served = &conn; })
                    .on_message([](served_connection& conn, std::string_view line) {
                      conn.try_write(std::string{"you said: "} + std::string{line});
                    })
                    .on_disconnect([served, ended](served_connection&, std::error_code why) {
                      *served = nullptr;
                      ended->push_back(why);
                    });
    STATIC_REQUIRE(coronet::detail::runs_without_coroutine<decltype(echo), served_connection>);
    coronet::server_options options = quiet_options();
    options.drain_timeout = 5s;
    websocket_server web{io, options};
    web.serve<line_codec>(std::move(echo));
    auto ws = co_await coronet::websocket_connect("127.0.0.1", port_of(web), "/ws");
    co_await sleep_for(50ms);  // Idle right after the handshake.
    REQUIRE(*served != nullptr);
    CHECK((*served)->buffer_capacity() == 0);
    // One message alone (one frame, one wake-up of the idle connection), then two at once.
    co_await ws.write("one");
    auto first = co_await ws.read();  // A view into the read buffer: checked before the next.
    REQUIRE(first);
    CHECK(*first == "you said: one");
    co_await ws.write("two");
    co_await ws.write("three");
    auto second = co_await ws.read();
    REQUIRE(second);
    CHECK(*second == "you said: two");
    auto third = co_await ws.read();
    REQUIRE(third);
    CHECK(*third == "you said: three");
    co_await sleep_for(50ms);  // Idle after messages.
    REQUIRE(*served != nullptr);
    CHECK((*served)->buffer_capacity() == 0);

    // stop() ends the idle session at once (not at the drain deadline), with 1001.
    const auto stop_began = std::chrono::steady_clock::now();
    web.stop();
    auto end = co_await ws.read();
    CHECK(end.at_end());
    CHECK(ws.peer_close_code() == coronet::websocket_close::going_away);
    CHECK(std::chrono::steady_clock::now() - stop_began < 1s);
    CHECK(*ended == std::vector<std::error_code>{asio::error::operation_aborted});
  });
}

TEST_CASE("callbacks over WebSocket read frames that arrived with the upgrade request") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    co_await check_frames_sent_with_the_request(
        io, coronet::callbacks().on_message([](auto& conn, std::string_view line) {
          conn.try_write(std::string{"you said: "} + std::string{line});
        }));
  });
}
