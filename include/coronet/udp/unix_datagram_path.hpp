// Making a path free for a Unix datagram socket. coronet::prepare_unix_socket_path probes with a
// stream connect, which cannot tell a live datagram socket from other failures; this one probes
// with a datagram connect and treats a live socket of either type as in use.
#pragma once

#include <string>
#include <system_error>

namespace coronet {

/// Makes `path` free for a Unix datagram socket: a stale socket file left by a dead process is
/// removed; a live socket's file (datagram or stream), or a file that is not a socket, is not
/// touched and address_in_use is returned.
std::error_code prepare_unix_datagram_path(const std::string& path);

}  // namespace coronet
