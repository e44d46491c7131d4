// tls_peer: what a handler can learn about the other end of a TLS connection once the
// handshake is over (its certificate, the protocol version, ALPN, SNI, resumption).
#pragma once

#include "coronet/tls/tls_enabled.hpp"

#include <string>

namespace coronet {

/// What a handler can learn about the peer of a TLS connection (after the handshake).
struct tls_peer {
  /// The peer presented a certificate.
  bool has_certificate = false;
  /// That certificate chained to a trusted CA (always true with verify_client).
  bool verified = false;
  /// Its subject, one line ("CN=coronet-client,O=..."); empty without a certificate.
  std::string subject;
  /// The negotiated protocol version ("TLSv1.3") and ALPN protocol (empty when none).
  std::string version;
  std::string alpn;
  /// The name the client asked for (SNI); empty when it sent none.
  std::string server_name;
  /// This connection resumed an earlier session (a shorter handshake).
  bool resumed = false;
};

}  // namespace coronet
