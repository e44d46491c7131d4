// A TLS 1.3 server connection after its handshake, with OpenSSL as the client: the SSL object is
// freed and coronet's record layer protects the records for every default cipher suite, the peer
// stays known, KeyUpdates either way keep the lines flowing, a forged record ends only its own
// connection, and keep_ssl_object or TLS 1.2 keep the SSL object.
#include <openssl/ssl.h>

#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <coronet/coronet.hpp>
#include <coronet/tls/tls_client.hpp>
#include <coronet/tls/tls_transport.hpp>

#include <string>

#include "../support/async_test.hpp"
#include "../support/line_test_helpers.hpp"

using coronet::line_codec;
using coronet::tls_server;
using coronet::tls_transport;
using coronet_test::ask;
using coronet_test::echo_handler;
using coronet_test::next_line;
using coronet_test::quick_connect;
using coronet_test::run_async;

namespace {

std::string cert(const std::string& name) {
  return std::string{CORONET_TEST_CERT_DIR} + "/" + name;
}

coronet::tls_server_options server_tls() {
  return {.certificate = {.certificate_chain_file = cert("server-chain.pem"),
                          .private_key_file = cert("server.key")}};
}

// A client context for "localhost" that offers only `suites` (TLS 1.3) or at most `max_version`.
std::shared_ptr<asio::ssl::context> client_context(const char* suites = nullptr,
                                                   int max_version = 0) {
  const coronet::tls_client_options options{.ca_file = cert("ca.pem"), .server_name = "localhost"};
  auto context = coronet::make_tls_client_context(options);
  if (suites != nullptr) REQUIRE(SSL_CTX_set_ciphersuites(context->native_handle(), suites) == 1);
  if (max_version != 0) SSL_CTX_set_max_proto_version(context->native_handle(), max_version);
  return context;
}

// Says whether the server's connection still has its SSL object, and what it knows of the peer.
struct describe_handler {
  template <typename Connection>
  asio::awaitable<void> operator()(Connection& conn) const {
    const bool freed = conn.stream().native_handle() == nullptr;
    const coronet::tls_peer peer = conn.stream().peer();
    co_await conn.write((freed ? "freed " : "kept ") + peer.version + " " + peer.server_name);
    while (auto line = co_await conn.read()) {
      co_await conn.write(*line);
    }
  }
};

}  // namespace

TEST_CASE("a TLS 1.3 server connection frees its SSL object and serves every default suite") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tls_server server{io, {}, tls_transport{server_tls()}};
    server.serve<line_codec>(describe_handler{});
    const std::uint16_t port = server.local_endpoint().port();
    for (const char* suite :
         {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}) {
      INFO(suite);
      auto result = co_await coronet::connect_tls_ex<line_codec>(
          "127.0.0.1", port, client_context(suite), "localhost", quick_connect());
      REQUIRE(result);
      auto& conn = *result.connection;
      const std::string described = co_await next_line(conn);
      CHECK(described == "freed TLSv1.3 localhost");
      CHECK(std::string{SSL_CIPHER_get_name(
                SSL_get_current_cipher(conn.stream().native_handle()))} == suite);
      // Lines small and large, the large ones several records each.
      const std::string large(60 * 1024, 'z');
      for (const std::string& text : {std::string{"small"}, large, std::string{"again"}}) {
        const std::string echo = co_await ask(conn, text);
        CHECK(echo == text);
      }
    }
  });
}

TEST_CASE("with keep_ssl_object, or over TLS 1.2, a server connection keeps its SSL object") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto keeping = server_tls();
    keeping.keep_ssl_object = true;
    tls_server kept{io, {}, tls_transport{keeping}};
    kept.serve<line_codec>(describe_handler{});
    auto result = co_await coronet::connect_tls_ex<line_codec>(
        "127.0.0.1", kept.local_endpoint().port(), client_context(), "localhost", quick_connect());
    REQUIRE(result);
    const std::string described = co_await next_line(*result.connection);
    CHECK(described == "kept TLSv1.3 localhost");

    tls_server freeing{io, {}, tls_transport{server_tls()}};
    freeing.serve<line_codec>(describe_handler{});
    auto old = co_await coronet::connect_tls_ex<line_codec>(
        "127.0.0.1", freeing.local_endpoint().port(), client_context(nullptr, TLS1_2_VERSION),
        "localhost", quick_connect());
    REQUIRE(old);
    const std::string over_1_2 = co_await next_line(*old.connection);
    CHECK(over_1_2 == "kept TLSv1.2 localhost");
    const std::string echo = co_await ask(*old.connection, "still served");
    CHECK(echo == "still served");
  });
}

TEST_CASE("a client's KeyUpdates, asked to be answered or not, keep a TLS 1.3 connection going") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tls_server server{io, {}, tls_transport{server_tls()}};
    server.serve<line_codec>(echo_handler{});
    // Named: g++ 12 mishandles a braced temporary inside co_await (docs/handlers.md).
    const coronet::tls_client_options client{.ca_file = cert("ca.pem"), .server_name = "localhost"};
    auto conn = co_await coronet::connect_tls("127.0.0.1", server.local_endpoint().port(), client,
                                              quick_connect());
    for (int round = 0; round < 40; ++round) {
      // OpenSSL sends the KeyUpdate before the next line; a requested one makes the server
      // answer with its own before its echo, which this client must then read with its next key.
      const int type = round % 2 == 0 ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED;
      REQUIRE(SSL_key_update(conn.stream().native_handle(), type) == 1);
      const std::string text = "round " + std::to_string(round);
      const std::string echo = co_await ask(conn, text);
      REQUIRE(echo == text);
    }
  });
}

TEST_CASE("a forged TLS 1.3 record ends its own connection only") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    tls_server server{io, {.log = nullptr}, tls_transport{server_tls()}};
    server.serve<line_codec>(echo_handler{});
    const std::uint16_t port = server.local_endpoint().port();
    const coronet::tls_client_options client{.ca_file = cert("ca.pem"), .server_name = "localhost"};
    auto victim = co_await coronet::connect_tls("127.0.0.1", port, client, quick_connect());
    const std::string before = co_await ask(victim, "before");
    CHECK(before == "before");
    // A record nobody sealed, written under the TLS layer.
    std::string forged = {23, 3, 3, 0, 40};
    forged.append(40, 'A');
    co_await asio::async_write(victim.stream().socket(), asio::buffer(forged), asio::use_awaitable);
    const std::string after = co_await next_line(victim);
    CHECK(after.starts_with("<error:"));  // Ended (the server's bad_record_mac alert), no hang.

    auto other = co_await coronet::connect_tls("127.0.0.1", port, client, quick_connect());
    const std::string echo = co_await ask(other, "still served");
    CHECK(echo == "still served");
  });
}
