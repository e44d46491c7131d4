// The load generator's four modes. Each runs on the calling thread's own io_context and
// returns the process exit status (0: every reply verified, no error).
#pragma once

#include "options.hpp"

namespace load {

/// Pipelined echo: connections x depth messages in flight, every echo verified.
int run_echo(const options& options);

/// Opens idle connections and holds them (for the server's memory per connection).
int run_idle(const options& options);

/// chat_server fan-out: every line must reach every other client, in order.
int run_chat(const options& options);

/// New connections over and over (connect, handshake, one echo, close): handshakes/s.
int run_handshake(const options& options);

}  // namespace load
