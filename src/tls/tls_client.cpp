// The client side of a TLS connection: TCP connect, SNI, host name verification, handshake.
#include "coronet/tls/tls_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <asio/ip/address.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include "coronet/detail/tuple_awaitable.hpp"
#include "coronet/endpoint/socket_options.hpp"
#include "coronet/error.hpp"

namespace coronet {
namespace {

class verify_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tls-verify"; }
  std::string message(int value) const override {
    return std::string{"certificate verify failed: "} + X509_verify_cert_error_string(value);
  }
};

// The name is checked against the certificate: as an IP address when it is one (SNI carries
// host names only), else as a DNS name.
void expect_name(SSL* ssl, const std::string& name) {
  std::error_code not_an_address;
  asio::ip::make_address(name, not_an_address);
  if (not_an_address) {
    SSL_set_tlsext_host_name(ssl, name.c_str());
    SSL_set1_host(ssl, name.c_str());
  } else {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
  }
}

}  // namespace

const std::error_category& tls_verify_category() noexcept {
  static const verify_category category;
  return category;
}

namespace detail {

asio::awaitable<std::pair<std::error_code, std::optional<tls_stream>>> open_tls_stream(
    std::string host, std::uint16_t port, const connect_options& options,
    std::shared_ptr<asio::ssl::context> context, std::string server_name) {
  using result = std::pair<std::error_code, std::optional<tls_stream>>;
  auto [error, socket] = co_await open_tcp_connection(host, port, options.timeout);
  if (!error) error = apply_socket_options(socket, options.socket);
  if (error) co_return result{error, std::nullopt};

  asio::ssl::context& native_context = *context;
  // Shared with the deadline's handler, which may run after this coroutine has gone on.
  auto stream = std::make_shared<tls_stream>(std::move(socket), std::move(context), native_context);
  SSL* ssl = stream->native_handle();
  expect_name(ssl, server_name.empty() ? host : server_name);

  auto timed_out = std::make_shared<bool>(false);
  asio::steady_timer deadline{co_await asio::this_coro::executor, options.timeout};
  deadline.async_wait([weak = std::weak_ptr<tls_stream>{stream}, timed_out](std::error_code e) {
    if (e) return;
    if (const auto alive = weak.lock()) {
      *timed_out = true;
      std::error_code ignored;
      alive->close(ignored);
    }
  });
  auto [handshake_error] =
      co_await stream->async_handshake(asio::ssl::stream_base::client, tuple_awaitable);
  deadline.cancel();
  if (handshake_error) {
    const long verified = SSL_get_verify_result(ssl);
    if (*timed_out) {
      handshake_error = errc::timed_out;
    } else if (verified != X509_V_OK) {
      handshake_error = std::error_code{static_cast<int>(verified), tls_verify_category()};
    }
    co_return result{handshake_error, std::nullopt};
  }
  result done{std::error_code{}, std::optional<tls_stream>{std::move(*stream)}};
  stream.reset();
  co_return done;
}

}  // namespace detail
}  // namespace coronet
