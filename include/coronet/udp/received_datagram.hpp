// received_datagram: what a datagram server's handler gets — its own copy of one message, the
// sender, and a way to reply through the server's socket.
#pragma once

#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <asio/awaitable.hpp>

#include "coronet/owned_message.hpp"
#include "coronet/udp/datagram_endpoint.hpp"

namespace coronet {

/// One datagram handed to a server handler. It owns its message, so the handler may keep it
/// across co_await while the server receives the next datagrams.
template <typename Protocol, typename Codec>
class received_datagram {
 public:
  using endpoint_type = typename Protocol::endpoint;
  using message_type = typename Codec::message_type;
  using server_endpoint_type = basic_datagram_endpoint<Protocol, Codec>;

  received_datagram(owned_message_t<message_type> owned, endpoint_type from,
                    server_endpoint_type& endpoint)
      : message{std::move(owned)}, sender{std::move(from)}, endpoint_{&endpoint} {}

  /// Sends `reply` to the sender through the server's socket (see send_to()).
  asio::awaitable<std::error_code> reply(const message_type& reply) {
    return endpoint_->send_to(reply, sender);
  }

  /// The server's endpoint, to send to anyone (or read its stats).
  server_endpoint_type& endpoint() noexcept { return *endpoint_; }

  /// The decoded message (the handler's own copy).
  owned_message_t<message_type> message;
  /// Who sent it.
  endpoint_type sender;

 private:
  server_endpoint_type* endpoint_;
};

}  // namespace coronet
