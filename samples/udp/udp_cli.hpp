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
  std::uint16_t port = 9000;
  std::string unix_path;  // Set: Unix datagram socket instead of UDP.
};

/// Declares --host, --port and --unix. The defaults are shown in the help text rather than set,
/// so that --unix combined with --host or --port can be refused.
inline void add_target_options(command_line& cli, std::string_view host_help,
                               std::string_view port_help, std::string_view unix_help) {
  cli.option("--host", "HOST", "", std::string{host_help} + " (default 127.0.0.1)")
      .option("--port", "PORT", "", std::string{port_help} + " (default 9000)")
      .option("--unix", "PATH", "", std::string{unix_help});
}

/// The target the command line asks for. Throws usage_error for unusable values.
inline target target_from(const command_line& cli) {
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
  if (cli.has("--port")) result.port = static_cast<std::uint16_t>(cli.number("--port", 0, 65535));
  return result;
}

}  // namespace samples::udp
