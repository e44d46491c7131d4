// tls_stream's parts that need no template: its half-close and its peer.
#include "coronet/tls/tls_stream.hpp"

#include "coronet/detail/tuple_awaitable.hpp"

namespace coronet {

asio::awaitable<std::error_code> tls_stream::send_close_notify() {
  if (!engine_) co_return asio::error::not_connected;
  auto [error] = co_await async_send_close_notify(detail::tuple_awaitable);
  co_return error;
}

tls_peer tls_stream::peer() const {
  return engine_->peer();
}

}  // namespace coronet
