// tls_stream's parts that need no template: its half-close, and what it knows about its peer.
#include "coronet/tls/tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "coronet/detail/tuple_awaitable.hpp"

namespace coronet {
namespace {

std::string one_line(X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return text;
}

}  // namespace

asio::awaitable<std::error_code> tls_stream::send_close_notify() {
  if (!engine_) co_return asio::error::not_connected;
  auto [error] = co_await async_send_close_notify(detail::tuple_awaitable);
  co_return error;
}

tls_peer tls_stream::peer() const {
  SSL* ssl = engine_->native_handle();
  tls_peer peer;
  if (X509* certificate = SSL_get0_peer_certificate(ssl)) {
    peer.has_certificate = true;
    peer.verified = SSL_get_verify_result(ssl) == X509_V_OK;
    peer.subject = one_line(X509_get_subject_name(certificate));
  }
  peer.version = SSL_get_version(ssl);
  const unsigned char* protocol = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl, &protocol, &length);
  if (protocol != nullptr) peer.alpn.assign(reinterpret_cast<const char*>(protocol), length);
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name))
    peer.server_name = name;
  peer.resumed = SSL_session_reused(ssl) == 1;
  return peer;
}

}  // namespace coronet
