// Building TLS contexts with OpenSSL: certificates, protocol floor, verification, SNI, ALPN,
// and the limits a server needs against hostile clients.
#include "coronet/tls/tls_context.hpp"

#include "coronet/tls/detail/tls_engine.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <string_view>

namespace coronet {
namespace {

// OpenSSL's reason for the last failure, or `fallback`.
std::string openssl_reason(std::string_view fallback) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return std::string{fallback};
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

[[noreturn]] void fail(const std::string& what) {
  throw tls_config_error("tls: " + what + ": " + openssl_reason("unknown error"));
}

// Options every context gets: the protocol floor, no renegotiation, no compression, buffers
// given back while a connection is idle (an idle TLS connection otherwise holds ~34 KiB).
void apply_common(SSL_CTX* context, tls_version min_version) {
  const int floor = min_version == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(context, floor) != 1) fail("cannot set the minimum version");
  SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
}

void load_certificate(asio::ssl::context& context, const tls_certificate_files& files) {
  SSL_CTX* native = context.native_handle();
  if (SSL_CTX_use_certificate_chain_file(native, files.certificate_chain_file.c_str()) != 1) {
    fail("cannot load certificate chain " + files.certificate_chain_file);
  }
  if (SSL_CTX_use_PrivateKey_file(native, files.private_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    fail("cannot load private key " + files.private_key_file);
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    fail("private key " + files.private_key_file + " does not match " +
         files.certificate_chain_file);
  }
}

// The ClientHello's size, from its parts (the callback sees it parsed, not its raw bytes).
std::size_t client_hello_size(SSL* ssl) {
  const unsigned char* bytes = nullptr;
  std::size_t size = 38;  // Version, random and the length fields.
  size += SSL_client_hello_get0_session_id(ssl, &bytes);
  size += SSL_client_hello_get0_ciphers(ssl, &bytes);
  size += SSL_client_hello_get0_compression_methods(ssl, &bytes);
  int* extensions = nullptr;
  std::size_t count = 0;
  if (SSL_client_hello_get1_extensions_present(ssl, &extensions, &count) == 1) {
    for (std::size_t i = 0; i < count; ++i) {
      std::size_t length = 0;
      if (SSL_client_hello_get0_ext(ssl, static_cast<unsigned>(extensions[i]), &bytes, &length)) {
        size += 4 + length;
      }
    }
    OPENSSL_free(extensions);
  }
  return size;
}

int check_client_hello(SSL* ssl, int* alert, void*) {
  if (client_hello_size(ssl) > max_client_hello_size) {
    *alert = SSL_AD_HANDSHAKE_FAILURE;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

// SNI: switch the connection to the context of the name it asked for, if there is one.
int select_by_name(SSL* ssl, int*, void* argument) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;
  auto& by_name =
      *static_cast<std::map<std::string, std::unique_ptr<asio::ssl::context>>*>(argument);
  const auto found = by_name.find(name);
  if (found != by_name.end()) SSL_set_SSL_CTX(ssl, found->second->native_handle());
  return SSL_TLSEXT_ERR_OK;
}

// ALPN: the first of the server's protocols the client offers; none in common fails.
int select_protocol(SSL*, const unsigned char** out, unsigned char* out_length,
                    const unsigned char* offered, unsigned int offered_length, void* argument) {
  const auto& ours = *static_cast<const std::string*>(argument);
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(
          &chosen, out_length, reinterpret_cast<const unsigned char*>(ours.data()),
          static_cast<unsigned>(ours.size()), offered, offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

std::string alpn_wire_format(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& protocol : protocols) {
    if (protocol.empty() || protocol.size() > 255) {
      throw tls_config_error("tls: an ALPN protocol name must have 1 to 255 bytes");
    }
    wire.push_back(static_cast<char>(protocol.size()));
    wire += protocol;
  }
  return wire;
}

}  // namespace

tls_server_context::tls_server_context(const tls_server_options& options)
    : options_{options}, default_{asio::ssl::context::tls_server} {
  if (options.certificate.certificate_chain_file.empty()) {
    throw tls_config_error("tls: a server needs a certificate chain file and a private key file");
  }
  const auto configure = [&](asio::ssl::context& context, const tls_certificate_files& files) {
    SSL_CTX* native = context.native_handle();
    apply_common(native, options.min_version);
    SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (!options.session_tickets) SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
    // Resumed sessions must stay tied to this server's settings (and client verification).
    static constexpr unsigned char session_context[] = "coronet";
    SSL_CTX_set_session_id_context(native, session_context, sizeof session_context - 1);
    load_certificate(context, files);
    if (!options.client_ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(native, options.client_ca_file.c_str(), nullptr) != 1) {
        fail("cannot load client CA file " + options.client_ca_file);
      }
      if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str())) {
        SSL_CTX_set_client_CA_list(native, names);
      }
      SSL_CTX_set_verify(
          native, SSL_VERIFY_PEER | (options.verify_client ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
          nullptr);
    } else if (options.verify_client) {
      throw tls_config_error("tls: verify_client needs client_ca_file");
    }
    SSL_CTX_set_client_hello_cb(native, check_client_hello, nullptr);
    if (!options.keep_ssl_object) detail::tls_engine::install_secret_capture(native);
    if (!alpn_wire_.empty()) SSL_CTX_set_alpn_select_cb(native, select_protocol, &alpn_wire_);
  };
  alpn_wire_ = alpn_wire_format(options.alpn);
  configure(default_, options.certificate);
  for (const auto& [name, files] : options.certificates_by_name) {
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    configure(*context, files);
    by_name_.emplace(name, std::move(context));
  }
  if (!by_name_.empty()) {
    SSL_CTX_set_tlsext_servername_callback(default_.native_handle(), select_by_name);
    SSL_CTX_set_tlsext_servername_arg(default_.native_handle(), &by_name_);
  }
}

std::shared_ptr<asio::ssl::context> make_tls_client_context(const tls_client_options& options) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  apply_common(native, options.min_version);
  if (!options.insecure_skip_verification) {
    const int loaded = options.ca_file.empty() ? SSL_CTX_set_default_verify_paths(native)
                                               : SSL_CTX_load_verify_locations(
                                                     native, options.ca_file.c_str(), nullptr);
    if (loaded != 1) {
      fail(options.ca_file.empty() ? std::string{"cannot load the system's CA store"}
                                   : "cannot load CA file " + options.ca_file);
    }
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
  }
  if (!options.certificate.certificate_chain_file.empty()) {
    load_certificate(*context, options.certificate);
  }
  if (!options.alpn.empty()) {
    const std::string wire = alpn_wire_format(options.alpn);
    // SSL_CTX_set_alpn_protos returns 0 on success.
    if (SSL_CTX_set_alpn_protos(native, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size())) != 0) {
      fail("cannot set ALPN protocols");
    }
  }
  return context;
}

}  // namespace coronet
