// The TLS half of load::stream: the client context and the handshake.
#include "stream.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/address.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#ifdef CORONET_HAS_TLS
#include <openssl/ssl.h>

#include <asio/ssl/host_name_verification.hpp>
#endif

namespace load {

namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace

#ifdef CORONET_HAS_TLS

std::shared_ptr<tls_client> make_tls_client(const options& options) {
  if (!options.tls) return nullptr;
  auto client = std::make_shared<tls_client>();
  if (options.tls_insecure) {
    client->context.set_verify_mode(asio::ssl::verify_none);
  } else {
    client->context.load_verify_file(options.tls_ca);
    client->context.set_verify_mode(asio::ssl::verify_peer);
    // Checks a DNS name against the certificate's names, an IP address against its IP entries.
    client->context.set_verify_callback(asio::ssl::host_name_verification{options.tls_name});
  }
  std::error_code not_an_address;
  asio::ip::make_address(options.tls_name, not_an_address);
  if (not_an_address) client->server_name = options.tls_name;  // SNI carries host names only.
  return client;
}

stream::stream(socket plain, std::shared_ptr<tls_client> tls)
    : plain_{std::move(plain)}, client_{std::move(tls)} {
  if (!client_) return;
  tls_ = std::make_unique<tls_stream>(std::move(plain_), client_->context);
  if (!client_->server_name.empty()) {
    SSL_set_tlsext_host_name(tls_->native_handle(), client_->server_name.c_str());
  }
}

asio::awaitable<std::error_code> stream::handshake(std::chrono::milliseconds timeout) {
  if (!tls_) co_return std::error_code{};
  asio::steady_timer timer{get_executor(), timeout};
  auto result = co_await (tls_->async_handshake(asio::ssl::stream_base::client, as_tuple) ||
                          timer.async_wait(as_tuple));
  if (result.index() == 1) co_return make_error_code(asio::error::timed_out);
  co_return std::get<0>(std::get<0>(result));
}

#else  // Built without TLS: parse_options() refuses --tls, so every stream is plain.

std::shared_ptr<tls_client> make_tls_client(const options&) {
  return nullptr;
}

stream::stream(socket plain, std::shared_ptr<tls_client>) : plain_{std::move(plain)} {}

asio::awaitable<std::error_code> stream::handshake(std::chrono::milliseconds) {
  co_return std::error_code{};
}

#endif

}  // namespace load
