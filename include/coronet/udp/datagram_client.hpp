// Client side of datagram sockets: an endpoint connected to one peer, ready for send() and
// receive(). For UDP the host is resolved and a free local port of the right family is bound;
// for Unix sockets the client binds its own path, which the server needs to answer.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/local/datagram_protocol.hpp>

#include "coronet/codec/codec_concepts.hpp"
#include "coronet/codec/datagram_codec.hpp"
#include "coronet/endpoint/address.hpp"
#include "coronet/udp/datagram_endpoint.hpp"
#include "coronet/udp/datagram_options.hpp"

namespace coronet {

namespace detail {
/// host (an IP literal, or a name resolved blocking to its first address) and port
/// (src/udp/datagram_client.cpp). Throws std::system_error when the name cannot be resolved.
asio::ip::udp::endpoint resolve_udp_peer(const std::string& host, std::uint16_t port);
}  // namespace detail

/// A UDP endpoint connected to host:port. A host name is resolved (blocking) to its first
/// address, like Python's getaddrinfo()[0]: pass an IP literal to choose the family. The
/// endpoint binds options.port (default 0: a free port) on the unspecified address of that
/// family; options.host is ignored. Throws std::system_error when the host cannot be resolved
/// or the socket cannot be set up. UDP has no handshake: a server that is not there shows up
/// later, as connection_refused from a receive.
template <codec Codec = datagram_codec>
udp_endpoint<Codec> udp_connect(const asio::any_io_executor& executor, const std::string& host,
                                std::uint16_t port, datagram_options options = {},
                                Codec codec = Codec{}) {
  const asio::ip::udp::endpoint peer = detail::resolve_udp_peer(host, port);
  options.host = peer.address().is_v6() ? "::" : "0.0.0.0";
  udp_endpoint<Codec> endpoint{executor, std::move(options), std::move(codec)};
  if (const std::error_code error = endpoint.connect(peer)) {
    throw std::system_error(error, "cannot connect udp to " + to_string(peer));
  }
  return endpoint;
}
template <codec Codec = datagram_codec>
udp_endpoint<Codec> udp_connect(asio::io_context& io, const std::string& host, std::uint16_t port,
                                datagram_options options = {}, Codec codec = Codec{}) {
  return udp_connect<Codec>(io.get_executor(), host, port, std::move(options), std::move(codec));
}

/// A Unix datagram endpoint connected to the socket at `server_path`, bound to
/// options.unix_path (a path of the client's own: without one the server cannot reply).
/// Throws std::system_error when the path cannot be bound or no socket is at `server_path`.
template <codec Codec = datagram_codec>
unix_datagram_endpoint<Codec> unix_datagram_connect(const asio::any_io_executor& executor,
                                                    const std::string& server_path,
                                                    datagram_options options = {},
                                                    Codec codec = Codec{}) {
  unix_datagram_endpoint<Codec> endpoint{executor, std::move(options), std::move(codec)};
  const asio::local::datagram_protocol::endpoint peer{server_path};
  if (const std::error_code error = endpoint.connect(peer)) {
    throw std::system_error(error, "cannot connect to unix:" + server_path);
  }
  return endpoint;
}
template <codec Codec = datagram_codec>
unix_datagram_endpoint<Codec> unix_datagram_connect(asio::io_context& io,
                                                    const std::string& server_path,
                                                    datagram_options options = {},
                                                    Codec codec = Codec{}) {
  return unix_datagram_connect<Codec>(io.get_executor(), server_path, std::move(options),
                                      std::move(codec));
}

}  // namespace coronet
