// Opening client sockets with timeouts: name resolution, then each address in turn.
#include "coronet/endpoint/client.hpp"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include "coronet/detail/tuple_awaitable.hpp"
#include "coronet/error.hpp"

namespace coronet::detail {

using namespace asio::experimental::awaitable_operators;

asio::awaitable<std::pair<std::error_code, asio::ip::tcp::socket>> open_tcp_connection(
    std::string host, std::uint16_t port, std::chrono::milliseconds timeout) {
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  asio::ip::tcp::socket socket{executor};
  asio::ip::tcp::resolver resolver{executor};
  asio::steady_timer timer{executor, timeout};
  auto resolved = co_await (resolver.async_resolve(host, std::to_string(port), tuple_awaitable) ||
                            timer.async_wait(tuple_awaitable));
  if (resolved.index() == 1)
    co_return std::pair{make_error_code(errc::timed_out), std::move(socket)};
  auto [resolve_error, endpoints] = std::get<0>(std::move(resolved));
  if (resolve_error) co_return std::pair{resolve_error, std::move(socket)};

  std::error_code last_error = make_error_code(asio::error::host_not_found);
  for (const auto& entry : endpoints) {
    std::error_code ignored;
    socket.close(ignored);
    timer.expires_after(timeout);
    auto attempt = co_await (socket.async_connect(entry.endpoint(), tuple_awaitable) ||
                             timer.async_wait(tuple_awaitable));
    if (attempt.index() == 1) {
      last_error = errc::timed_out;
      continue;
    }
    auto [error] = std::get<0>(attempt);
    if (!error) co_return std::pair{std::error_code{}, std::move(socket)};
    last_error = error;
  }
  std::error_code ignored;
  socket.close(ignored);
  co_return std::pair{last_error, std::move(socket)};
}

asio::awaitable<std::pair<std::error_code, asio::local::stream_protocol::socket>>
open_unix_connection(std::string path, std::chrono::milliseconds timeout) {
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  asio::local::stream_protocol::socket socket{executor};
  asio::steady_timer timer{executor, timeout};
  auto attempt = co_await (
      socket.async_connect(asio::local::stream_protocol::endpoint{path}, tuple_awaitable) ||
      timer.async_wait(tuple_awaitable));
  if (attempt.index() == 1)
    co_return std::pair{make_error_code(errc::timed_out), std::move(socket)};
  auto [error] = std::get<0>(attempt);
  co_return std::pair{error, std::move(socket)};
}

}  // namespace coronet::detail
