// The HTTP server over TLS: the same routes as HTTPS (curl verifying the test CA), and the
// upgrade seam handing over a TLS stream that keeps working after release_stream() (a Python
// ssl client upgrades, reads the 101 and talks raw bytes through the released stream).
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <coronet/http/http_server.hpp>
#include <coronet/tls/tls_transport.hpp>
#include <string>
#include <thread>

#include "http/http_test_support.hpp"

using coronet::http_request;
using coronet::http_response;
using namespace std::chrono_literals;

namespace {

using https_server = coronet::basic_http_server<coronet::tls_transport>;

std::string cert(const std::string& name) {
  return std::string{CORONET_TEST_CERT_DIR} + "/" + name;
}

coronet::tls_transport test_transport() {
  return coronet::tls_transport{coronet::tls_server_options{
      .certificate = {.certificate_chain_file = cert("server-chain.pem"),
                      .private_key_file = cert("server.key")}}};
}

// An HTTPS server with a GET route and an upgrade route that echoes raw bytes once after 101.
struct threaded_https {
  threaded_https() : server{io, quiet(), test_transport()} {
    server.get("/hello", [](const http_request&) {
      return http_response::with_body(200, "hello over tls\n");
    });
    server.upgrade(
        "/ws",
        [](http_request, https_server::connection_type& connection) -> asio::awaitable<void> {
          http_response switching;
          switching.status = 101;
          switching.headers.add("Upgrade", "websocket");
          switching.headers.add("Connection", "Upgrade");
          co_await connection.write(switching);
          co_await connection.flush();
          auto released = connection.release_stream();
          std::string first = released.unread;
          if (first.empty()) {
            first.resize(5);
            co_await asio::async_read(released.stream, asio::buffer(first), asio::use_awaitable);
          }
          const std::string reply = "echo:" + first;
          co_await asio::async_write(released.stream, asio::buffer(reply), asio::use_awaitable);
        });
    server.start();
    thread = std::thread{[this] { io.run_for(30s); }};
  }
  ~threaded_https() {
    asio::post(io, [this] { server.stop(); });
    thread.join();
  }
  static coronet::http_server_options quiet() {
    coronet::http_server_options options;
    options.server.log = [](coronet::log_level, std::string_view) {};
    return options;
  }
  std::string port() const { return std::to_string(server.local_endpoint().port()); }

  asio::io_context io;
  https_server server;
  std::thread thread;
};

}  // namespace

TEST_CASE("https server answers curl with 200 and 404 over verified TLS") {
  REQUIRE_FALSE(coronet_test::run_command("command -v curl").empty());
  threaded_https web;
  const std::string base = "curl -sS --max-time 5 --cacert " + cert("ca.pem") +
                           " --resolve localhost:" + web.port() + ":127.0.0.1 ";
  const std::string ok =
      coronet_test::run_command(base + "-i https://localhost:" + web.port() + "/hello");
  CHECK(ok.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(ok.ends_with("\r\n\r\nhello over tls\n"));
  const std::string missing = coronet_test::run_command(
      base + "-o /dev/null -w '%{http_code}' https://localhost:" + web.port() + "/nowhere");
  CHECK(missing == "404");
}

TEST_CASE("https server upgrade route takes over the TLS stream after a 101") {
  threaded_https web;
  // Python's ssl module (standard library): upgrade, read the 101, then raw bytes both ways.
  const std::string script =
      "import socket, ssl\n"
      "ctx = ssl.create_default_context(cafile='" +
      cert("ca.pem") +
      "')\n"
      "raw = socket.create_connection(('127.0.0.1', " +
      web.port() +
      "), timeout=5)\n"
      "s = ctx.wrap_socket(raw, server_hostname='localhost')\n"
      "s.sendall(b'GET /ws HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\n"
      "Connection: Upgrade\\r\\n\\r\\n')\n"
      "head = b''\n"
      "while b'\\r\\n\\r\\n' not in head:\n"
      "    head += s.recv(1)\n"
      "s.sendall(b'frame')\n"
      "reply = b''\n"
      "while len(reply) < 10:\n"
      "    chunk = s.recv(10 - len(reply))\n"
      "    if not chunk: break\n"
      "    reply += chunk\n"
      "print(head.split(b'\\r\\n')[0].decode(), reply.decode(), sep='|')\n";
  const std::string output =
      coronet_test::run_command("/usr/bin/python3 - <<'PYTHON'\n" + script + "PYTHON\n");
  CHECK(output == "HTTP/1.1 101 Switching Protocols|echo:frame\n");
}
