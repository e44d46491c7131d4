// asio_floor_tls_echo: the baseline of the TLS benchmarks, asio_floor_echo over TLS. The line-echo
// server anyone would write with Asio's C++20 coroutines and asio::ssl: async_handshake, then
// async_read_until(stream, dynamic_buffer, '\n') and async_write of that line, one coroutine per
// connection on one thread. The context is Asio's tls_server with the certificate chain and key
// and nothing else (OpenSSL's defaults: TLS 1.3, session tickets sent, buffers kept), TCP_NODELAY
// as in asio_floor_echo. Same command line as that floor, plus --tls-cert and --tls-key.

#include <cstdio>
#include <exception>
#include <string>
#include <type_traits>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "floor_server.hpp"

namespace {

constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

template <typename Socket>
asio::awaitable<void> echo_lines(asio::ssl::stream<Socket> stream) {
  auto [handshake_error] =
      co_await stream.async_handshake(asio::ssl::stream_base::server, as_tuple);
  if (handshake_error) co_return;
  std::string buffer;
  while (true) {
    auto [read_error, line_size] =
        co_await asio::async_read_until(stream, asio::dynamic_buffer(buffer), '\n', as_tuple);
    if (read_error) co_return;
    auto [write_error, written] =
        co_await asio::async_write(stream, asio::buffer(buffer.data(), line_size), as_tuple);
    if (write_error) co_return;
    buffer.erase(0, line_size);
  }
}

template <typename Acceptor>
asio::awaitable<void> accept_loop(Acceptor& acceptor, asio::ssl::context& context) {
  while (true) {
    auto [error, socket] = co_await acceptor.async_accept(as_tuple);
    if (error == asio::error::operation_aborted) co_return;
    if (error) continue;  // EMFILE and the like: try the next one.
    if constexpr (std::is_same_v<typename Acceptor::protocol_type, asio::ip::tcp>) {
      std::error_code ignored;
      socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    using socket_type = std::decay_t<decltype(socket)>;
    asio::co_spawn(acceptor.get_executor(),
                   echo_lines(asio::ssl::stream<socket_type>{std::move(socket), context}),
                   asio::detached);
  }
}

constexpr const char* usage =
    "usage: asio_floor_tls_echo --tls-cert FILE --tls-key FILE [--host HOST] [--port PORT]\n"
    "                           [--unix PATH] [--max-connections N] [--idle-timeout S]\n"
    "                           [--codec line]\n"
    "The TLS benchmarks' baseline: a minimal single-threaded Asio coroutine line-echo server\n"
    "over asio::ssl::stream. Prints 'listening on HOST:PORT' when ready; exits 0 on SIGINT or\n"
    "SIGTERM.\n"
    "  --tls-cert FILE  certificate chain, PEM (the server's certificate first)\n"
    "  --tls-key FILE   its private key, PEM\n"
    "  --host HOST      address to bind (default 127.0.0.1)\n"
    "  --port PORT      TCP port; 0 picks a free one (default 0)\n"
    "  --unix PATH      listen on a Unix socket instead\n"
    "  --max-connections, --idle-timeout: accepted for echo_server compatibility, ignored\n"
    "  --codec line     the only framing it has\n";

}  // namespace

int main(int argc, char** argv) {
  const floor_server::options options = floor_server::parse(argc, argv, usage, true);
  asio::ssl::context context{asio::ssl::context::tls_server};
  try {
    context.set_options(asio::ssl::context::default_workarounds);
    context.use_certificate_chain_file(options.certificate_chain);
    context.use_private_key_file(options.private_key, asio::ssl::context::pem);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "asio_floor_tls_echo: %s\n", error.what());
    return 1;
  }
  return floor_server::run("asio_floor_tls_echo", options,
                           [&context](auto& acceptor) { return accept_loop(acceptor, context); });
}
