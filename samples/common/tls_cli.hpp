// The TLS side of the samples' command lines. The servers (chat_server, echo_server) take
// --tls-cert/--tls-key (serve TLS on the TCP port), --tls-client-ca (mutual TLS) and
// --handshake-timeout; chat_client takes --tls, --tls-ca, --tls-server-name, --tls-cert/--tls-key
// and --tls-insecure. A coronet built without TLS (CORONET_WITH_TLS=OFF) still lists the options,
// and using one is an error that says why.
#pragma once

#include <csignal>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <coronet/log.hpp>

#include "command_line.hpp"

#if defined(CORONET_HAS_TLS)
#include <coronet/tls/tls_context.hpp>
#include <coronet/tls/tls_options.hpp>
#include <coronet/tls/tls_transport.hpp>
#endif

namespace samples {

#if defined(CORONET_HAS_TLS)
using tls_server_settings = coronet::tls_server_options;
using tls_client_settings = coronet::tls_client_options;
#else
struct tls_server_settings {};
struct tls_client_settings {};
#endif

inline constexpr std::string_view tls_not_built =
    "this program was built without TLS (coronet's CORONET_WITH_TLS=OFF or no OpenSSL 3)";

// ---- servers -----------------------------------------------------------------------------------

/// Declares the servers' TLS options (--handshake-timeout is parsed by server_options_from).
inline void add_tls_server_options(command_line& cli) {
  cli.option("--tls-cert", "FILE", "",
             "serve TLS on the TCP port with this certificate chain (PEM); needs --tls-key")
      .option("--tls-key", "FILE", "", "the private key of --tls-cert (PEM, unencrypted)")
      .option("--tls-client-ca", "FILE", "",
              "mutual TLS: refuse clients without a certificate issued by this CA (PEM)")
      .option("--handshake-timeout", "SECONDS", "10",
              "TLS: close a client that has not finished its handshake this long after it "
              "connected");
}

/// The TLS the command line asks a server for: nullopt for none (plain TCP or a Unix socket).
/// Throws usage_error for options that do not go together.
inline std::optional<tls_server_settings> tls_server_settings_from(const command_line& cli) {
  const bool wanted = cli.has("--tls-cert") || cli.has("--tls-key") || cli.has("--tls-client-ca");
  if (!wanted) return std::nullopt;
  if (cli.has("--tls-cert") != cli.has("--tls-key")) {
    throw usage_error("--tls-cert and --tls-key must be given together");
  }
  if (!cli.has("--tls-cert")) throw usage_error("--tls-client-ca needs --tls-cert and --tls-key");
  if (cli.has("--unix")) throw usage_error("TLS (--tls-cert) cannot be combined with --unix");
#if defined(CORONET_HAS_TLS)
  coronet::tls_server_options tls;
  tls.certificate = {cli.text("--tls-cert"), cli.text("--tls-key")};
  if (cli.has("--tls-client-ca")) {
    tls.client_ca_file = cli.text("--tls-client-ca");
    tls.verify_client = true;
  }
  return tls;
#else
  throw usage_error(std::string{tls_not_built});
#endif
}

/// Reloads the certificate files of TLS servers on SIGHUP and says how it went on stdout:
/// "tls: certificate reloaded", or "tls: reload failed: <file and reason>" (the servers keep
/// the certificate they had). Does nothing for other servers (SIGHUP keeps its default action).
template <typename Server>
class reload_on_sighup {
 public:
  reload_on_sighup(std::vector<std::unique_ptr<asio::io_context>>&,
                   std::vector<std::unique_ptr<Server>>&) {}
  void stop() {}
};

#if defined(CORONET_HAS_TLS)
template <>
class reload_on_sighup<coronet::tls_server> {
 public:
  /// Handles SIGHUP on the first io_context; each server reloads on its own.
  reload_on_sighup(std::vector<std::unique_ptr<asio::io_context>>& contexts,
                   std::vector<std::unique_ptr<coronet::tls_server>>& servers)
      : contexts_{contexts}, servers_{servers}, hangups_{*contexts.front(), SIGHUP} {
    wait();
  }

  /// Stops listening for SIGHUP (else the io_context would never run out of work).
  void stop() {
    std::error_code ignored;
    hangups_.cancel(ignored);
  }

 private:
  // One reload of every server; the last to finish reports, once for all of them.
  struct outcome {
    std::mutex mutex;
    std::size_t remaining;
    std::string failure;  // The first server's that failed.
  };

  void wait() {
    hangups_.async_wait([this](std::error_code error, int) {
      if (error) return;
      reload_all();
      wait();
    });
  }

  void reload_all() {
    auto result = std::make_shared<outcome>();
    result->remaining = servers_.size();
    for (std::size_t i = 0; i < servers_.size(); ++i) {
      // reload() replaces the context new handshakes use: on the server's own thread.
      asio::post(*contexts_[i], [server = servers_[i].get(), result] {
        std::string failure;
        try {
          server->transport().reload();
        } catch (const std::exception& error) {
          failure = error.what();
        }
        const std::lock_guard lock{result->mutex};
        if (result->failure.empty()) result->failure = failure;
        if (--result->remaining > 0) return;
        if (result->failure.empty()) {
          std::printf("tls: certificate reloaded\n");
        } else {
          std::printf("tls: reload failed: %s (still serving the previous certificate)\n",
                      result->failure.c_str());
        }
        std::fflush(stdout);
      });
    }
  }

  std::vector<std::unique_ptr<asio::io_context>>& contexts_;
  std::vector<std::unique_ptr<coronet::tls_server>>& servers_;
  asio::signal_set hangups_;
};
#endif

// ---- chat_client -------------------------------------------------------------------------------

/// Declares chat_client's TLS options.
inline void add_tls_client_options(command_line& cli) {
  cli.flag("--tls",
           "connect over TLS; the server must have a certificate that the system's CAs "
           "(or --tls-ca) trust, for the host name")
      .option("--tls-ca", "FILE", "",
              "TLS: trust the CA certificates in FILE (PEM) instead of the system's")
      .option("--tls-server-name", "NAME", "",
              "TLS: the name the server's certificate must carry, also sent as SNI "
              "(default: --host)")
      .option("--tls-cert", "FILE", "",
              "TLS: present this client certificate (mutual TLS); needs --tls-key")
      .option("--tls-key", "FILE", "", "TLS: the private key of --tls-cert (PEM, unencrypted)")
      .flag("--tls-insecure",
            "TLS without verifying the server, for throwaway test certificates only: anyone "
            "in the middle can read and change the chat");
}

/// The TLS chat_client is asked for: nullopt without --tls. Throws usage_error for options
/// that do not go together.
inline std::optional<tls_client_settings> tls_client_settings_from(const command_line& cli) {
  if (!cli.has("--tls")) {
    for (const char* option :
         {"--tls-ca", "--tls-server-name", "--tls-cert", "--tls-key", "--tls-insecure"}) {
      if (cli.has(option)) throw usage_error(std::string{option} + " needs --tls");
    }
    return std::nullopt;
  }
  if (cli.has("--unix")) throw usage_error("--tls cannot be combined with --unix");
  if (cli.has("--tls-cert") != cli.has("--tls-key")) {
    throw usage_error("--tls-cert and --tls-key must be given together");
  }
  if (cli.has("--tls-insecure") && cli.has("--tls-ca")) {
    throw usage_error("--tls-insecure verifies nothing: --tls-ca would not be used");
  }
#if defined(CORONET_HAS_TLS)
  coronet::tls_client_options tls;
  tls.ca_file = cli.text("--tls-ca");
  tls.server_name = cli.text("--tls-server-name");
  tls.certificate = {cli.text("--tls-cert"), cli.text("--tls-key")};
  tls.insecure_skip_verification = cli.has("--tls-insecure");
  return tls;
#else
  throw usage_error(std::string{tls_not_built});
#endif
}

}  // namespace samples
