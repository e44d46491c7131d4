// Opening datagram sockets (UDP and Unix), applying their options, resolving a UDP peer, and the
// socket file of a Unix datagram endpoint: made free before bind, removed at close.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include <asio/io_context.hpp>
#include <asio/ip/multicast.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/local/stream_protocol.hpp>

#include "coronet/detail/socket_buffers.hpp"
#include "coronet/endpoint/address.hpp"
#include "coronet/udp/datagram_client.hpp"
#include "coronet/udp/datagram_socket_options.hpp"
#include "coronet/udp/detail/datagram_core.hpp"

namespace coronet {
namespace {

template <typename Socket>
std::error_code apply_common_options(Socket& socket, const datagram_socket_options& options) {
  std::error_code error;
  if (options.reuse_address) socket.set_option(asio::socket_base::reuse_address{true}, error);
  return detail::apply_buffer_sizes(socket, options.send_buffer_size, options.receive_buffer_size,
                                    error);
}

std::error_code join_groups(asio::ip::udp::socket& socket, const datagram_socket_options& options) {
  std::error_code error;
  for (const std::string& group : options.multicast_groups) {
    const asio::ip::address address = asio::ip::make_address(group, error);
    if (!error) socket.set_option(asio::ip::multicast::join_group{address}, error);
    if (error) return error;
  }
  if (options.multicast_loopback) {
    socket.set_option(asio::ip::multicast::enable_loopback{*options.multicast_loopback}, error);
  }
  if (options.multicast_hops && !error) {
    socket.set_option(asio::ip::multicast::hops{*options.multicast_hops}, error);
  }
  return error;
}

}  // namespace

std::error_code apply_datagram_socket_options(asio::ip::udp::socket& socket,
                                              const datagram_socket_options& options) {
  std::error_code error = apply_common_options(socket, options);
  if (options.broadcast && !error) socket.set_option(asio::socket_base::broadcast{true}, error);
  if (!error) error = join_groups(socket, options);
  return error;
}

std::error_code apply_datagram_socket_options(asio::local::datagram_protocol::socket& socket,
                                              const datagram_socket_options& options) {
  if (options.broadcast || !options.multicast_groups.empty() || options.multicast_loopback ||
      options.multicast_hops) {
    return asio::error::operation_not_supported;
  }
  return apply_common_options(socket, options);
}

namespace detail {

asio::ip::udp::endpoint resolve_udp_peer(const std::string& host, std::uint16_t port) {
  return {resolve_address(host), port};
}

void open_udp_socket(asio::ip::udp::socket& socket, const datagram_options& options) {
  const asio::ip::udp::endpoint endpoint{listen_address(options.host), options.port};
  socket.open(endpoint.protocol());
  if (endpoint.address().is_v6()) socket.set_option(asio::ip::v6_only{!options.dual_stack});
  if (const std::error_code error = apply_datagram_socket_options(socket, options.socket)) {
    throw std::system_error(error, "cannot set socket options for udp " + to_string(endpoint));
  }
  std::error_code error;
  socket.bind(endpoint, error);
  if (error) throw std::system_error(error, "cannot bind udp " + to_string(endpoint));
}

std::uint64_t open_unix_datagram_socket(asio::local::datagram_protocol::socket& socket,
                                        const datagram_options& options) {
  socket.open();
  if (const std::error_code error = apply_datagram_socket_options(socket, options.socket)) {
    throw std::system_error(error, "cannot set socket options for a unix datagram socket");
  }
  if (options.unix_path.empty()) return 0;
  if (const std::error_code error = prepare_unix_socket_path(options.unix_path)) {
    throw std::system_error(error, "cannot use unix socket path " + options.unix_path);
  }
  std::error_code error;
  socket.bind(asio::local::datagram_protocol::endpoint{options.unix_path}, error);
  if (error) throw std::system_error(error, "cannot bind unix:" + options.unix_path);
  return unix_socket_file_inode(options.unix_path);
}

}  // namespace detail
}  // namespace coronet
