// TLS contexts built from tls_server_options / tls_client_options: the certificates loaded, the
// protocol floor, verification, SNI, ALPN and the hostile-peer defaults (no renegotiation, no
// compression, a ClientHello of at most 64 KiB, buffers released while idle).
#pragma once

#include "coronet/tls/tls_enabled.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include <asio/ssl/context.hpp>

#include "coronet/tls/tls_options.hpp"

namespace coronet {

/// What went wrong building a TLS context: a file that does not load, a key that does not match
/// its certificate. what() names the file and OpenSSL's reason.
class tls_config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The largest ClientHello a server accepts; larger ones fail the handshake at once.
inline constexpr std::size_t max_client_hello_size = 64 * 1024;

/// A server's TLS state: the default context and one per SNI name. Immutable once built, so a
/// reload builds a new one and connections keep the one they started with.
class tls_server_context {
 public:
  /// Loads everything `options` names. Throws tls_config_error.
  explicit tls_server_context(const tls_server_options& options);
  tls_server_context(const tls_server_context&) = delete;
  tls_server_context& operator=(const tls_server_context&) = delete;

  asio::ssl::context& context() noexcept { return default_; }
  const tls_server_options& options() const noexcept { return options_; }

 private:
  tls_server_options options_;
  asio::ssl::context default_;
  std::map<std::string, std::unique_ptr<asio::ssl::context>> by_name_;
  std::string alpn_wire_;  // ALPN protocols in the wire format (length-prefixed names).
};

/// A client's TLS context. Throws tls_config_error.
std::shared_ptr<asio::ssl::context> make_tls_client_context(const tls_client_options& options);

}  // namespace coronet
