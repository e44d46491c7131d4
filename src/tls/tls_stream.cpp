// What a TLS connection knows about its peer, from OpenSSL.
#include "coronet/tls/tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <asio/buffer.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace coronet {
namespace {

// The close_notify record, written aside: OpenSSL writes it into a memory BIO of ours for a
// moment instead of the stream's own output, which Asio flushes only within its operations
// (and its shutdown would then wait for the peer's reply). Empty if OpenSSL refused (the
// connection failed, or close_notify went already).
std::string take_close_notify(SSL* ssl) {
  BIO* aside = BIO_new(BIO_s_mem());
  if (aside == nullptr) return {};
  BIO* stream_output = SSL_get_wbio(ssl);
  BIO_up_ref(stream_output);  // SSL_set0_wbio below drops one reference: this one.
  SSL_set0_wbio(ssl, aside);  // The SSL owns `aside` from here.
  // 0: close_notify written, the peer's not received yet; 1: both; < 0: failed.
  const bool written = SSL_shutdown(ssl) >= 0;
  char* bytes = nullptr;
  const long size = BIO_get_mem_data(aside, &bytes);
  std::string record =
      written && size > 0 ? std::string(bytes, static_cast<std::size_t>(size)) : std::string{};
  SSL_set0_wbio(ssl, stream_output);  // Frees `aside`.
  return record;
}

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
  const std::string record = take_close_notify(stream_.native_handle());
  if (record.empty()) co_return asio::error::not_connected;
  auto [error, written] = co_await asio::async_write(
      socket(), asio::buffer(record), asio::experimental::as_tuple(asio::use_awaitable));
  static_cast<void>(written);
  co_return error;
}

tls_peer tls_stream::peer() const {
  SSL* ssl = const_cast<ssl_stream_type&>(stream_).native_handle();
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
