// TLS servers and clients over loopback, with the certificates scripts/make-dev-cert makes (the
// ctest fixture puts them in CORONET_TEST_CERT_DIR, and a set whose server certificate has
// expired in CORONET_TEST_EXPIRED_CERT_DIR): the same handler over TLS, verification failures the
// user can tell apart, mutual TLS, hostile handshakes, reload, refusal and closing.
#include <sys/resource.h>
#include <unistd.h>
#include <asio/co_spawn.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <coronet/coronet.hpp>
#include <coronet/endpoint/websocket_client.hpp>
#include <coronet/endpoint/websocket_transport.hpp>
#include <coronet/tls/tls_client.hpp>
#include <coronet/tls/tls_transport.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "../support/async_test.hpp"
#include "../support/line_test_helpers.hpp"
#include "../support/log_recorder.hpp"
#include "../support/reactive_teardown.hpp"
#include "../support/server_test_helpers.hpp"

using namespace std::chrono_literals;
using coronet::line_codec;
using coronet::tls_server;
using coronet::tls_transport;
using coronet_test::ask;
using coronet_test::counting_observer;
using coronet_test::echo_handler;
using coronet_test::eof_text;
using coronet_test::log_recorder;
using coronet_test::next_line;
using coronet_test::quick_connect;
using coronet_test::raw_connect;
using coronet_test::run_async;
using coronet_test::sleep_for;

namespace {

std::string cert_dir() {
  return CORONET_TEST_CERT_DIR;
}
std::string expired_cert_dir() {
  return CORONET_TEST_EXPIRED_CERT_DIR;
}
std::string cert(const std::string& name) {
  return cert_dir() + "/" + name;
}

coronet::tls_server_options server_tls(const std::string& dir = cert_dir()) {
  return {.certificate = {.certificate_chain_file = dir + "/server-chain.pem",
                          .private_key_file = dir + "/server.key"}};
}
// The name to verify is given apart from the address connected to: a fresh root without
// /etc/hosts cannot resolve "localhost", and the tests must not depend on it.
coronet::tls_client_options client_tls() {
  return {.ca_file = cert("ca.pem"), .server_name = "localhost"};
}

// Reads until the peer closes; how long it took.
asio::awaitable<std::chrono::steady_clock::duration> wait_closed(asio::ip::tcp::socket& socket) {
  const auto started = std::chrono::steady_clock::now();
  char buffer[4096];
  while (true) {
    auto [error, count] = co_await socket.async_read_some(
        asio::buffer(buffer), asio::experimental::as_tuple(asio::use_awaitable));
    if (error) co_return std::chrono::steady_clock::now() - started;
  }
}

using wss_connection =
    coronet::websocket_connection<coronet::websocket_stream<coronet::tls_stream>>;

// A WebSocket client over TLS (wss) to 127.0.0.1:`port`, upgraded at `path` (a view: no
// temporary with a destructor in the caller's co_await expression, which g++ 12 mishandles).
asio::awaitable<wss_connection> connect_wss(std::uint16_t port, std::string_view path) {
  std::string target{path};
  std::string host = "127.0.0.1";
  auto [error, tls] = co_await coronet::detail::open_tls_stream(
      std::move(host), port, quick_connect(), coronet::make_tls_client_context(client_tls()),
      "localhost");
  REQUIRE_FALSE(error);
  coronet::websocket_stream<coronet::tls_stream> stream{std::move(*tls)};
  const coronet::websocket_connect_options options;  // Named, for the same reason.
  std::string authority = "localhost";
  const std::error_code refused = co_await coronet::websocket_client_handshake(
      stream, std::move(authority), std::move(target), options, 5s);
  REQUIRE_FALSE(refused);
  coronet::websocket_options client;
  client.codec.role = coronet::websocket_role::client;
  co_return wss_connection{std::move(stream), client};
}

}  // namespace

TEST_CASE("a handler written for TCP runs unchanged over TLS") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tls_server server{io, {}, tls_transport{server_tls()}};
    server.serve<line_codec>(echo_handler{});
    auto conn = co_await coronet::connect_tls("127.0.0.1", server.local_endpoint().port(),
                                              client_tls(), quick_connect());
    const std::string echo = co_await ask(conn, "over TLS");
    CHECK(echo == "over TLS");
    CHECK(conn.stream().peer().version.starts_with("TLSv1."));
    co_await conn.write(std::string_view{"exit"});
    const std::string end = co_await next_line(conn);
    CHECK(end == eof_text());
    CHECK_FALSE(conn.stream().truncated());  // The server sent close_notify.
  });
}

TEST_CASE("a TLS client refuses a server it cannot verify and says why") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    struct refusal {
      std::string certificate, key, expected;
      std::string dir = cert_dir();
    };
    const std::vector<refusal> cases{
        {"wrong-name.pem", "wrong-name.key", "name"},
        {"self-signed.pem", "self-signed.key", "certificate"},
        {"server-chain.pem", "server.key", "expired", expired_cert_dir()},
    };
    for (const refusal& each : cases) {
      tls_server server{io,
                        {.log = nullptr},
                        tls_transport{{.certificate = {each.dir + "/" + each.certificate,
                                                       each.dir + "/" + each.key}}}};
      server.serve<line_codec>(echo_handler{});
      // The client trusts the CA of the set the certificate comes from.
      const coronet::tls_client_options trusting{.ca_file = each.dir + "/ca.pem",
                                                 .server_name = "localhost"};
      auto result = co_await coronet::connect_tls_ex("127.0.0.1", server.local_endpoint().port(),
                                                     trusting, quick_connect());
      REQUIRE_FALSE(result);
      CHECK(result.error.category() == coronet::tls_verify_category());
      INFO(result.error.message());
      CHECK(result.error.message().find(each.expected) != std::string::npos);
    }
  });
}

TEST_CASE("insecure_skip_verification connects to a server nobody vouches for") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tls_server server{
        io,
        {.log = nullptr},
        tls_transport{{.certificate = {cert("self-signed.pem"), cert("self-signed.key")}}}};
    server.serve<line_codec>(echo_handler{});
    // Named first: g++ 12 mishandles a braced temporary inside co_await (docs/handlers.md).
    const coronet::tls_client_options insecure{.insecure_skip_verification = true};
    auto conn = co_await coronet::connect_tls("127.0.0.1", server.local_endpoint().port(), insecure,
                                              quick_connect());
    const std::string echo = co_await ask(conn, "unverified");
    CHECK(echo == "unverified");
  });
}

TEST_CASE("a TLS client verifies an IP address against the certificate's IP names") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tls_server server{io, {}, tls_transport{server_tls()}};
    server.serve<line_codec>(echo_handler{});
    const coronet::tls_client_options by_address{.ca_file = cert("ca.pem")};  // No name.
    auto conn = co_await coronet::connect_tls("127.0.0.1", server.local_endpoint().port(),
                                              by_address, quick_connect());
    const std::string echo = co_await ask(conn, "by address");
    CHECK(echo == "by address");
  });
}

TEST_CASE(
    "mutual TLS: the handler sees the client's certificate, and a client without one is refused") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto options = server_tls();
    options.client_ca_file = cert("ca.pem");
    options.verify_client = true;
    tls_server server{io, {.log = nullptr}, tls_transport{options}};
    server.serve<line_codec>([](auto& conn) -> asio::awaitable<void> {
      const coronet::tls_peer peer = conn.stream().peer();
      const std::string who = (peer.verified ? "verified " : "unverified ") + peer.subject;
      co_await conn.write(who);
    });
    const std::uint16_t port = server.local_endpoint().port();
    auto with_certificate = client_tls();
    with_certificate.certificate = {cert("client.pem"), cert("client.key")};
    auto conn = co_await coronet::connect_tls("127.0.0.1", port, with_certificate, quick_connect());
    const std::string who = co_await next_line(conn);
    CHECK(who.starts_with("verified "));
    CHECK(who.find("CN=coronet-client") != std::string::npos);

    // Without a certificate: with TLS 1.3 the client's handshake may finish before the server
    // refuses, so the refusal shows at the first read at the latest.
    auto refused =
        co_await coronet::connect_tls_ex("127.0.0.1", port, client_tls(), quick_connect());
    if (refused) {
      const std::string line = co_await next_line(*refused.connection);
      CHECK(line.starts_with("<error:"));
    }
  });
}

TEST_CASE("a plain-text or garbage client fails the handshake at once while others are served") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<counting_observer>();
    log_recorder log;
    tls_server server{io, {.observer = observer, .log = log.hook()}, tls_transport{server_tls()}};
    server.serve<line_codec>(echo_handler{});
    const std::uint16_t port = server.local_endpoint().port();
    auto plain = co_await raw_connect(port);
    co_await asio::async_write(plain, asio::buffer(std::string{"hello in plain text\n"}),
                               asio::use_awaitable);
    const auto plain_closed = co_await wait_closed(plain);
    CHECK(plain_closed < 500ms);
    auto garbage = co_await raw_connect(port);
    const std::string noise(1024 * 1024, '\x16');  // Looks like a handshake record, is not.
    co_await asio::async_write(garbage, asio::buffer(noise),
                               asio::experimental::as_tuple(asio::use_awaitable));
    const auto garbage_closed = co_await wait_closed(garbage);
    CHECK(garbage_closed < 500ms);
    auto conn = co_await coronet::connect_tls("127.0.0.1", port, client_tls(), quick_connect());
    const std::string echo = co_await ask(conn, "still served");
    CHECK(echo == "still served");
    CHECK(observer->handshakes_failed.size() == 2);
    CHECK(log.contains("handshake failed"));
    CHECK(observer->sessions_started == 1);
  });
}

namespace {

// A TLS 1.2 ClientHello with what an ECDHE-ECDSA handshake needs and `padding` bytes of padding
// extension, in records of at most 16 KiB, as a client would send it.
std::string client_hello_with_padding(std::size_t padding) {
  std::string body;
  body += "\x03\x03";                          // legacy_version TLS 1.2
  body += std::string(32, '\x2a');             // random
  body += '\x00';                              // session id: none
  body += std::string{"\x00\x02\xc0\x2b", 4};  // ECDHE-ECDSA-AES128-GCM-SHA256
  body += std::string{"\x01\x00", 2};          // compression: null
  // What an ECDHE-ECDSA handshake needs: groups x25519 and P-256, uncompressed points,
  // signature algorithm ecdsa_secp256r1_sha256.
  const std::string needed{
      "\x00\x0a\x00\x06\x00\x04\x00\x1d\x00\x17"
      "\x00\x0b\x00\x02\x01\x00"
      "\x00\x0d\x00\x04\x00\x02\x04\x03",
      24};
  const std::size_t extensions = needed.size() + 4 + padding;
  body += static_cast<char>(extensions >> 8);
  body += static_cast<char>(extensions & 0xff);
  body += needed;
  body += std::string{"\x00\x15", 2};  // padding extension
  body += static_cast<char>(padding >> 8);
  body += static_cast<char>(padding & 0xff);
  body += std::string(padding, '\0');
  std::string message{"\x01"};
  message += static_cast<char>(body.size() >> 16);
  message += static_cast<char>((body.size() >> 8) & 0xff);
  message += static_cast<char>(body.size() & 0xff);
  message += body;
  std::string records;
  for (std::size_t at = 0; at < message.size(); at += 16384) {
    const std::string fragment = message.substr(at, 16384);
    records += std::string{"\x16\x03\x01", 3};
    records += static_cast<char>(fragment.size() >> 8);
    records += static_cast<char>(fragment.size() & 0xff);
    records += fragment;
  }
  return records;
}

}  // namespace

TEST_CASE("a ClientHello over 64 KiB is refused at once while a normal-sized one is answered") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<counting_observer>();
    tls_server server{io,
                      {.handshake_timeout = 2s, .observer = observer, .log = nullptr},
                      tls_transport{server_tls()}};
    server.serve<line_codec>(echo_handler{});
    const std::uint16_t port = server.local_endpoint().port();
    const auto first_record_type = [&](std::size_t padding) -> asio::awaitable<int> {
      auto client = co_await raw_connect(port);
      const std::string hello = client_hello_with_padding(padding);
      co_await asio::async_write(client, asio::buffer(hello), asio::use_awaitable);
      char header[1];
      auto [error, count] = co_await asio::async_read(
          client, asio::buffer(header), asio::experimental::as_tuple(asio::use_awaitable));
      co_return count == 1 ? static_cast<unsigned char>(header[0]) : -1;
    };
    const auto started = std::chrono::steady_clock::now();
    const int big = co_await first_record_type(65476);  // 65,547 bytes of ClientHello
    CHECK(big == 0x15);                                 // An alert, then the close.
    CHECK(std::chrono::steady_clock::now() - started < 500ms);
    const int normal = co_await first_record_type(1000);
    CHECK(normal == 0x16);  // The server's handshake (ServerHello): the size was accepted.
    REQUIRE_FALSE(observer->handshakes_failed.empty());
    CHECK_FALSE(observer->handshakes_failed[0].second);  // Refused, not timed out.
  });
}

TEST_CASE("a silent TLS client is closed at the handshake deadline") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<counting_observer>();
    tls_server server{io,
                      {.connection = {.idle_timeout = 10s},
                       .handshake_timeout = 400ms,
                       .observer = observer,
                       .log = nullptr},
                      tls_transport{server_tls()}};
    server.serve<line_codec>(echo_handler{});
    auto silent = co_await raw_connect(server.local_endpoint().port());
    const auto waited = co_await wait_closed(silent);
    CHECK(waited >= 350ms);
    CHECK(waited < 1500ms);
    REQUIRE(observer->handshakes_failed.size() == 1);
    CHECK(observer->handshakes_failed[0].second);
  });
}

TEST_CASE("a TLS server past max_connections refuses after the handshake, with the usual line") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tls_server server{io, {.max_connections = 1, .log = nullptr}, tls_transport{server_tls()}};
    server.serve<line_codec>(echo_handler{});
    const std::uint16_t port = server.local_endpoint().port();
    auto first = co_await coronet::connect_tls("127.0.0.1", port, client_tls(), quick_connect());
    const std::string echo = co_await ask(first, "one");
    CHECK(echo == "one");
    auto second = co_await coronet::connect_tls("127.0.0.1", port, client_tls(), quick_connect());
    const std::string refusal = co_await next_line(second);
    CHECK(refusal == "error: server full (1 connection)");
  });
}

TEST_CASE("a peer that drops TCP without close_notify ends its session as truncated") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<counting_observer>();
    tls_server server{io, {.observer = observer, .log = nullptr}, tls_transport{server_tls()}};
    server.serve<line_codec>(echo_handler{});
    {
      auto conn = co_await coronet::connect_tls("127.0.0.1", server.local_endpoint().port(),
                                                client_tls(), quick_connect());
      const std::string echo = co_await ask(conn, "then gone");
      CHECK(echo == "then gone");
      std::error_code ignored;
      conn.stream().socket().close(ignored);  // TCP goes, no close_notify.
    }
    for (int i = 0; i < 200 && observer->ended.empty(); ++i)
      co_await sleep_for(10ms);
    CHECK(observer->ended == std::vector<std::string>{"truncated"});
  });
}

TEST_CASE("reload serves a new certificate to new connections and keeps the old on a bad file") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("coronet-tls-reload-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto copy = [&](const std::string& from, const std::string& to) {
    std::filesystem::copy_file(cert(from), dir / to,
                               std::filesystem::copy_options::overwrite_existing);
  };
  copy("server-chain.pem", "current.pem");
  copy("server.key", "current.key");
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    tls_server server{io,
                      {.log = nullptr},
                      tls_transport{{.certificate = {(dir / "current.pem").string(),
                                                     (dir / "current.key").string()}}}};
    server.serve<line_codec>(echo_handler{});
    const std::uint16_t port = server.local_endpoint().port();
    auto old_conn = co_await coronet::connect_tls("127.0.0.1", port, client_tls(), quick_connect());

    copy("wrong-name.pem", "current.pem");  // Issued by the same CA, for another name.
    copy("wrong-name.key", "current.key");
    server.transport().reload();
    auto refused =
        co_await coronet::connect_tls_ex("127.0.0.1", port, client_tls(), quick_connect());
    CHECK_FALSE(refused);  // The new certificate is served: it does not name localhost.
    coronet::tls_client_options by_new_name = client_tls();
    by_new_name.server_name = "not-localhost.example";
    auto renamed =
        co_await coronet::connect_tls_ex("127.0.0.1", port, by_new_name, quick_connect());
    CHECK(renamed);
    const std::string still = co_await ask(old_conn, "old connection");
    CHECK(still == "old connection");  // Established connections are untouched.

    std::filesystem::resize_file(dir / "current.key", 10);  // A broken key file.
    CHECK_THROWS_AS(server.transport().reload(), coronet::tls_config_error);
    auto after_failure =
        co_await coronet::connect_tls_ex("127.0.0.1", port, by_new_name, quick_connect());
    CHECK(after_failure);  // The previous certificate is still served.
  });
  std::filesystem::remove_all(dir);
}

TEST_CASE("a TLS server's bad certificate files are refused at construction, naming the file") {
  asio::io_context io;
  try {
    tls_server server{
        io, {}, tls_transport{{.certificate = {"/nonexistent.pem", "/nonexistent.key"}}}};
    FAIL("constructed");
  } catch (const coronet::tls_config_error& error) {
    CHECK(std::string{error.what()}.find("/nonexistent.pem") != std::string::npos);
  }
}

TEST_CASE("stop() during 500 TLS handshakes in flight ends them all and run() returns") {
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < 1200 && files.rlim_max >= 1200) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, 4096);
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  asio::io_context io;
  auto observer = std::make_shared<counting_observer>();
  tls_server server{io,
                    {.max_connections = 1000, .observer = observer, .log = nullptr},
                    tls_transport{server_tls()}};
  server.serve<line_codec>(echo_handler{});
  const asio::ip::tcp::endpoint target{asio::ip::make_address("127.0.0.1"),
                                       server.local_endpoint().port()};
  // Half a ClientHello: a record header that promises more than follows.
  const std::string half_hello{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11};
  std::vector<asio::ip::tcp::socket> clients;
  for (int i = 0; i < 500; ++i) {
    clients.emplace_back(io);
    clients.back().connect(target);
    asio::write(clients.back(), asio::buffer(half_hello));
  }
  // Once all 500 are in their handshake (bounded: a slow build may take a while to accept them).
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 500 && server.handshake_count() < 500; ++i)
          co_await sleep_for(10ms);
        CHECK(server.handshake_count() == 500);
        server.stop();
        for (auto& client : clients)
          client.close();  // The test's own ends.
      },
      asio::detached);
  const auto started = std::chrono::steady_clock::now();
  io.run_for(10s);
  CHECK(io.stopped());
  CHECK(std::chrono::steady_clock::now() - started < 3s);
  CHECK(observer->handshakes_failed.size() == 500);
  CHECK(observer->sessions_started == 0);
}

TEST_CASE(
    "a graceful TLS close is bounded by drain_timeout when the peer never answers close_notify") {
  asio::io_context io;
  tls_server server{io, {.drain_timeout = 1s, .log = nullptr}, tls_transport{server_tls()}};
  server.serve<line_codec>(echo_handler{});
  std::optional<coronet::tls_connection<>> silent;  // Connected, then never reads again.
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto tls = client_tls();
        // No timeouts on our side: their pending deadlines would keep run() busy by themselves.
        const coronet::connect_options no_timeouts{
            .timeout = 2s, .connection = {.idle_timeout = 0ms, .write_timeout = 0ms}};
        auto conn = co_await coronet::connect_tls("127.0.0.1", server.local_endpoint().port(), tls,
                                                  no_timeouts);
        const std::string echo = co_await ask(conn, "hello");
        CHECK(echo == "hello");
        silent.emplace(std::move(conn));
        server.stop();  // The session ends; its close sends close_notify to a peer that is deaf.
      },
      asio::detached);
  const auto started = std::chrono::steady_clock::now();
  io.run_for(10s);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(io.stopped());
  CHECK(took > 900ms);  // It did wait for the peer's close_notify...
  CHECK(took < 3s);     // ...until drain_timeout, not forever (Asio's shutdown alone would).
}

TEST_CASE("half_close() over TLS: the server reads the end after the last line and still answers") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tls_server server{io, {.log = nullptr}, tls_transport{server_tls()}};
    // Counts the lines until the end of the stream, then answers with the count.
    server.serve<line_codec>([](auto& conn) -> asio::awaitable<void> {
      int lines = 0;
      while (auto line = co_await conn.read())
        ++lines;
      const std::string count = "lines: " + std::to_string(lines);
      co_await conn.write(count);
    });
    auto tls = client_tls();
    auto conn = co_await coronet::connect_tls("127.0.0.1", server.local_endpoint().port(), tls,
                                              quick_connect());
    conn.try_write("one");
    conn.try_write("two");
    const std::error_code half_closed = co_await conn.half_close();
    CHECK_FALSE(half_closed);
    const std::string answer = co_await next_line(conn);
    CHECK(answer == "lines: 2");
    const std::string end = co_await next_line(conn);
    CHECK(end == eof_text());
  });
}

TEST_CASE("a TLS stream cut without close_notify never yields its unterminated last line") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto received = std::make_shared<std::vector<std::string>>();
    tls_server server{io, {.log = nullptr}, tls_transport{server_tls()}};
    server.serve<line_codec>([received](auto& conn) -> asio::awaitable<void> {
      while (true) {
        auto line = co_await conn.read();
        if (!line) {
          received->push_back("<" + line.error().message() + ">");
          co_return;
        }
        received->emplace_back(*line);
      }
    });
    {
      auto tls = client_tls();
      auto conn = co_await coronet::connect_tls("127.0.0.1", server.local_endpoint().port(), tls,
                                                quick_connect());
      co_await conn.stream().async_write_some(asio::buffer(std::string{"complete\npartial"}),
                                              asio::use_awaitable);
      // TCP's end, no close_notify (a half-close: closing with the server's session tickets
      // unread would reset the connection instead).
      conn.stream().socket().shutdown(asio::socket_base::shutdown_send);
      for (int i = 0; i < 200 && received->size() < 2; ++i)
        co_await sleep_for(10ms);
    }
    const std::vector<std::string> expected{"complete", "<stream ended inside a frame>"};
    CHECK(*received == expected);
  });
}

TEST_CASE("SNI picks the certificate of the name the client asks for, else the default") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto options = server_tls();
    options.certificates_by_name["not-localhost.example"] = {cert("wrong-name.pem"),
                                                             cert("wrong-name.key")};
    tls_server server{io, {.log = nullptr}, tls_transport{options}};
    server.serve<line_codec>([](auto& conn) -> asio::awaitable<void> {
      const std::string asked = "asked for " + conn.stream().peer().server_name;
      co_await conn.write(asked);
    });
    const std::uint16_t port = server.local_endpoint().port();
    coronet::tls_client_options other_name = client_tls();
    other_name.server_name = "not-localhost.example";  // Only the wrong-name cert carries it.
    auto by_name = co_await coronet::connect_tls("127.0.0.1", port, other_name, quick_connect());
    const std::string first = co_await next_line(by_name);
    CHECK(first == "asked for not-localhost.example");
    const coronet::tls_client_options default_name = client_tls();
    auto by_default =
        co_await coronet::connect_tls("127.0.0.1", port, default_name, quick_connect());
    const std::string second = co_await next_line(by_default);
    CHECK(by_default.stream().peer().server_name == "localhost");
    CHECK(second == "asked for localhost");
  });
}

TEST_CASE(
    "ALPN: the server picks a protocol both offer, and refuses a client with none in common") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto options = server_tls();
    options.alpn = {"chat/2", "chat/1"};
    tls_server server{io, {.log = nullptr}, tls_transport{options}};
    server.serve<line_codec>([](auto& conn) -> asio::awaitable<void> {
      const std::string chosen = "alpn " + conn.stream().peer().alpn;
      co_await conn.write(chosen);
    });
    const std::uint16_t port = server.local_endpoint().port();
    coronet::tls_client_options speaks_chat = client_tls();
    speaks_chat.alpn = {"chat/1", "chat/2"};
    auto conn = co_await coronet::connect_tls("127.0.0.1", port, speaks_chat, quick_connect());
    const std::string chosen = co_await next_line(conn);
    CHECK(chosen == "alpn chat/2");  // The server's preference.
    CHECK(conn.stream().peer().alpn == "chat/2");
    coronet::tls_client_options speaks_other = client_tls();
    speaks_other.alpn = {"smtp"};
    auto refused =
        co_await coronet::connect_tls_ex("127.0.0.1", port, speaks_other, quick_connect());
    CHECK_FALSE(refused);
  });
}

TEST_CASE("a line handler runs over WebSocket over TLS (wss) through the TLS transport") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    using wss_transport = coronet::websocket_transport<tls_transport>;
    coronet::websocket_server_options web;
    web.path = "/secure";
    coronet::basic_server<wss_transport> server{
        io, {}, wss_transport{web, tls_transport{server_tls()}}};
    server.serve<line_codec>(echo_handler{});
    auto ws = co_await connect_wss(server.local_endpoint().port(), "/secure");
    co_await ws.write("over wss");
    auto echo = co_await ws.read();
    REQUIRE(echo);
    CHECK(*echo == "over wss");
    CHECK(ws.stream().next_layer().peer().version.starts_with("TLSv1."));
    co_await ws.write("exit");
    auto end = co_await ws.read();
    CHECK(end.at_end());
    CHECK(ws.peer_close_code() == coronet::websocket_close::normal);
  });
}

// ---- callbacks without a coroutine over TLS (basic_server's reactive_step) -------------------

namespace {

auto echo_callbacks() {
  return coronet::callbacks().on_message(
      [](auto& conn, std::string_view line) { conn.try_write(line); });
}

}  // namespace

TEST_CASE("callbacks over TLS run without a coroutine: echo, then idle timeout") {
  using tls_connection = tls_server::connection_type<line_codec>;
  STATIC_REQUIRE(
      coronet::detail::runs_without_coroutine<decltype(echo_callbacks()), tls_connection>);
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto ended = std::make_shared<std::vector<std::error_code>>();
    coronet::server_options options;
    options.connection.idle_timeout = 200ms;
    tls_server server{io, options, tls_transport{server_tls()}};
    server.serve<line_codec>(echo_callbacks().on_disconnect(
        [ended](auto&, std::error_code why) { ended->push_back(why); }));
    auto conn = co_await coronet::connect_tls("127.0.0.1", server.local_endpoint().port(),
                                              client_tls(), quick_connect());
    // A burst in one write, answered in order.
    co_await conn.write(std::string_view{"one"});
    co_await conn.write(std::string_view{"two"});
    const std::string first = co_await next_line(conn);
    const std::string second = co_await next_line(conn);
    CHECK(first == "one");
    CHECK(second == "two");
    const std::string third = co_await ask(conn, "three");
    CHECK(third == "three");
    for (int i = 0; i < 200 && ended->empty(); ++i)
      co_await sleep_for(10ms);
    REQUIRE(ended->size() == 1);
    CHECK((*ended)[0] == coronet::errc::timed_out);
    const std::string end = co_await next_line(conn);
    CHECK(end == eof_text());
    CHECK_FALSE(conn.stream().truncated());  // The server closed with close_notify.
  });
}

TEST_CASE("callbacks over TLS pause reading while the send queue is full and lose no answer") {
  run_async(
      [](asio::io_context& io) -> asio::awaitable<void> {
        auto observer = std::make_shared<counting_observer>();
        coronet::server_options options;
        options.connection.send_queue_limit = 4 * 1024;  // queue_policy: wait (the default)
        options.socket.send_buffer_size = 64 * 1024;
        options.observer = observer;
        int handled = 0;
        tls_server server{io, options, tls_transport{server_tls()}};
        server.serve<line_codec>(
            coronet::callbacks().on_message([&handled](auto& conn, std::string_view line) {
              ++handled;
              conn.try_write(line);
            }));
        coronet::connect_options client_options = quick_connect();
        client_options.connection.send_queue_limit = 4 * 1024 * 1024;
        client_options.socket.receive_buffer_size = 64 * 1024;
        auto conn = co_await coronet::connect_tls("127.0.0.1", server.local_endpoint().port(),
                                                  client_tls(), client_options);
        // 20,000 lines of 99 bytes (2 MB), queued at once; the client reads nothing for 300 ms.
        constexpr int lines = 20'000;
        const std::string payload(99, 'x');
        int queued = 0;
        for (int i = 0; i < lines; ++i) {
          const std::string number = std::to_string(i);
          const std::string line = number + ' ' + payload.substr(number.size() + 1);
          if (!conn.try_write(std::string_view{line})) ++queued;
        }
        REQUIRE(queued == lines);
        co_await sleep_for(300ms);
        CHECK(handled < lines);  // The server stopped reading while its queue was full.
        int received = 0;
        for (; received < lines; ++received) {
          const std::string line = co_await next_line(conn);
          if (line.rfind(std::to_string(received) + ' ', 0) != 0 || line.size() != 99) break;
        }
        CHECK(received == lines);  // Every answer, in order.
        CHECK(observer->queue_drops == 0);
        server.stop();
      },
      30s);
}

TEST_CASE("stop() ends idle TLS sessions run without a coroutine at once") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto ended = std::make_shared<std::vector<std::error_code>>();
    coronet::server_options options;
    options.drain_timeout = 5s;
    tls_server server{io, options, tls_transport{server_tls()}};
    server.serve<line_codec>(echo_callbacks().on_disconnect(
        [ended](auto&, std::error_code why) { ended->push_back(why); }));
    auto first = co_await coronet::connect_tls("127.0.0.1", server.local_endpoint().port(),
                                               client_tls(), quick_connect());
    auto second = co_await coronet::connect_tls("127.0.0.1", server.local_endpoint().port(),
                                                client_tls(), quick_connect());
    const std::string echo = co_await ask(first, "hello");
    CHECK(echo == "hello");
    const std::string echo2 = co_await ask(second, "hello");
    CHECK(echo2 == "hello");
    REQUIRE(server.connection_count() == 2);
    const auto took = co_await coronet_test::stop_and_wait_until_empty(server);
    CHECK(server.connection_count() == 0);
    CHECK(took < 1s);  // Not at the drain deadline.
    CHECK(*ended == std::vector<std::error_code>(2, asio::error::operation_aborted));
    const std::string end = co_await next_line(first);
    CHECK(end == eof_text());
  });
}

TEST_CASE("TLS sessions run without a coroutine are freed with their io_context") {
  coronet_test::check_waiting_sessions_freed_with_io_context(
      [](asio::io_context& io) {
        return std::make_unique<tls_server>(io, coronet::server_options{},
                                            tls_transport{server_tls()});
      },
      [](std::uint16_t port) {
        return coronet::connect_tls("127.0.0.1", port, client_tls(), quick_connect());
      });
}

TEST_CASE("an idle TLS connection run without a coroutine holds no buffer while it waits") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    using served_connection = tls_server::connection_type<line_codec>;
    auto served = std::make_shared<served_connection*>(nullptr);
    tls_server server{io, {.log = nullptr}, tls_transport{server_tls()}};
    server.serve<line_codec>(
        echo_callbacks()
            .on_connect([served](served_connection& conn) { *served = &conn; })
            .on_disconnect([served](served_connection&, std::error_code) { *served = nullptr; }));
    auto conn = co_await coronet::connect_tls("127.0.0.1", server.local_endpoint().port(),
                                              client_tls(), quick_connect());
    // Right after the handshake (as bench/compare's TLS-W4 clients stay)...
    co_await sleep_for(50ms);
    REQUIRE(*served != nullptr);
    CHECK((*served)->buffer_capacity() == 0);
    CHECK((*served)->stream().buffer_capacity() == 0);
    // ...and after a message and its answer.
    const std::string echo = co_await ask(conn, std::string(1000, 'x'));
    CHECK(echo.size() == 1000);
    co_await sleep_for(50ms);
    REQUIRE(*served != nullptr);
    CHECK((*served)->buffer_capacity() == 0);
    CHECK((*served)->stream().buffer_capacity() == 0);
  });
}

TEST_CASE("callbacks over WebSocket over TLS run without a coroutine and hold no buffer idle") {
  using wss_transport = coronet::websocket_transport<tls_transport>;
  using wss_server = coronet::basic_server<wss_transport>;
  using served_connection = wss_server::connection_type<line_codec>;
  STATIC_REQUIRE(coronet::readiness_stream<coronet::websocket_stream<coronet::tls_stream>>);
  STATIC_REQUIRE(
      coronet::detail::runs_without_coroutine<decltype(echo_callbacks()), served_connection>);
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto served = std::make_shared<served_connection*>(nullptr);
    wss_server server{io, {.log = nullptr}, wss_transport{{}, tls_transport{server_tls()}}};
    server.serve<line_codec>(
        echo_callbacks()
            .on_connect([served](served_connection& conn) { *served = &conn; })
            .on_disconnect([served](served_connection&, std::error_code) { *served = nullptr; }));
    auto ws = co_await connect_wss(server.local_endpoint().port(), "/");
    co_await sleep_for(50ms);
    REQUIRE(*served != nullptr);
    CHECK((*served)->buffer_capacity() == 0);
    co_await ws.write("over wss");
    auto echo = co_await ws.read();
    REQUIRE(echo);
    CHECK(*echo == "over wss");
    co_await sleep_for(50ms);
    REQUIRE(*served != nullptr);
    CHECK((*served)->buffer_capacity() == 0);
    server.stop();
    auto end = co_await ws.read();
    CHECK(end.at_end());
    CHECK(ws.peer_close_code() == coronet::websocket_close::going_away);
  });
}
