// Must not compile: a handler that is not a coroutine (a void lambda). The build must say so in
// one error that names what the handler returns (checked by check_compile_error.cmake).
#include <coronet/coronet.hpp>

int main() {
  asio::io_context io;
  coronet::tcp_server server{io, {}};
  server.serve<coronet::line_codec>([](auto& conn) { conn.close(); });
}
