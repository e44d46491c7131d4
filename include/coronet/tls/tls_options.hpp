// What a TLS server and a TLS client are configured with. Safe by default: TLS 1.2 at least
// (1.3 preferred), peers verified (clients always verify the server unless told otherwise, in an
// option named so nobody sets it by accident), no renegotiation, no compression.
#pragma once

#include "coronet/tls/tls_enabled.hpp"

#include <map>
#include <string>
#include <vector>

namespace coronet {

/// The oldest protocol version accepted. TLS 1.0 and 1.1 are never accepted.
enum class tls_version { tls1_2, tls1_3 };

/// A certificate chain and its private key, as PEM files.
struct tls_certificate_files {
  /// The certificate, followed by the intermediate certificates (PEM).
  std::string certificate_chain_file;
  /// Its private key (PEM, unencrypted).
  std::string private_key_file;
};

/// A TLS server's options (see tls_transport).
struct tls_server_options {
  /// The server's certificate and key. Required.
  tls_certificate_files certificate;
  /// Certificates for other names the server answers to (SNI: the client names the host it
  /// wants in its ClientHello); a name not listed gets `certificate`. Default none.
  std::map<std::string, tls_certificate_files> certificates_by_name;
  /// CA certificates (PEM) that client certificates must chain to. Default none.
  std::string client_ca_file;
  /// Mutual TLS: refuse a client without a certificate that client_ca_file verifies. Default
  /// false (a client may still present one; see tls_peer).
  bool verify_client = false;
  /// The oldest version accepted. Default TLS 1.2.
  tls_version min_version = tls_version::tls1_2;
  /// ALPN protocols the server accepts, in its order of preference (e.g. {"chat/1"}); a client
  /// offering none of them fails the handshake. Default none (ALPN not used).
  std::vector<std::string> alpn;
  /// Session resumption with tickets: a returning client skips most of the handshake. Default on.
  bool session_tickets = true;
  /// Keep OpenSSL's SSL object for each connection's whole life, so tls_stream::native_handle()
  /// stays valid after the handshake. Default false: a connection that negotiated TLS 1.3 with
  /// AES-GCM or ChaCha20-Poly1305 frees it after the handshake and coronet's record layer
  /// protects its records, which takes an idle connection from about 16 KiB to about 2 KiB
  /// (docs/tls.md, "After the handshake"). TLS 1.2 connections always keep it.
  bool keep_ssl_object = false;
};

/// A TLS client's options (see connect_tls).
struct tls_client_options {
  /// CA certificates (PEM) the server must chain to. Empty: the system's store.
  std::string ca_file;
  /// The name sent for SNI and checked against the server's certificate. Empty: the host
  /// connected to.
  std::string server_name;
  /// Skip verifying the server: anyone in the middle can read and change the traffic. For
  /// tests against throwaway certificates only. Default false.
  bool insecure_skip_verification = false;
  /// A client certificate for mutual TLS. Default none.
  tls_certificate_files certificate;
  /// The oldest version accepted. Default TLS 1.2.
  tls_version min_version = tls_version::tls1_2;
  /// ALPN protocols offered, in order. Default none.
  std::vector<std::string> alpn;
};

}  // namespace coronet
