// What the two UDP samples share: the --host/--port/--unix options (and their checks), and the
// main() wrapper that turns a usage error into the usage text and exit code 2, and any other
// failure into one clear line and exit code 1.
#pragma once

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "command_line.hpp"

namespace samples::udp {

/// Where a UDP sample binds or sends: a UDP host and port, or a Unix datagram socket path.
struct target {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // A server picks a free port and prints it; a client needs one.
  std::string unix_path;   // Set: Unix datagram socket instead of UDP.
};

/// Declares --host, --port and --unix. The defaults are shown in the help text rather than set,
/// so that --unix combined with --host or --port can be refused; `port_help` states the port's
/// default, or that it is required.
inline void add_target_options(command_line& cli, std::string_view host_help,
                               std::string_view port_help, std::string_view unix_help) {
  cli.option("--host", "HOST", "", std::string{host_help} + " (default 127.0.0.1)")
      .option("--port", "PORT", "", std::string{port_help})
      .option("--unix", "PATH", "", std::string{unix_help});
}

/// The target the command line asks for. Throws usage_error for unusable values. A server may
/// leave the port out (0: the system picks one); a client must give it (`port_required`), as
/// there is no port a server is known to be on.
inline target target_from(const command_line& cli, bool port_required = false) {
  target result;
  if (cli.has("--unix")) {
    if (cli.has("--host") || cli.has("--port")) {
      throw usage_error("--unix cannot be combined with --host or --port");
    }
    result.unix_path = cli.text("--unix");
    if (result.unix_path.empty()) throw usage_error("--unix needs a path");
    return result;
  }
  if (cli.has("--host")) result.host = cli.text("--host");
  if (result.host.empty()) throw usage_error("--host needs an address");
  if (port_required && !cli.has("--port")) throw usage_error("--port (or --unix) is required");
  if (cli.has("--port")) {
    result.port = static_cast<std::uint16_t>(cli.number("--port", port_required ? 1 : 0, 65535));
  }
  return result;
}

}  // namespace samples::udp
