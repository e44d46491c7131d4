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

#include "coronet/endpoint/address.hpp"
#include "coronet/udp/datagram_client.hpp"
#include "coronet/udp/datagram_socket_options.hpp"
#include "coronet/udp/detail/datagram_core.hpp"
#include "coronet/udp/unix_datagram_path.hpp"

namespace coronet {
namespace {

template <typename Socket>
std::error_code apply_common_options(Socket& socket, const datagram_socket_options& options) {
  std::error_code error;
  if (options.reuse_address) socket.set_option(asio::socket_base::reuse_address{true}, error);
  if (options.send_buffer_size && !error) {
    socket.set_option(asio::socket_base::send_buffer_size{*options.send_buffer_size}, error);
  }
  if (options.receive_buffer_size && !error) {
    socket.set_option(asio::socket_base::receive_buffer_size{*options.receive_buffer_size}, error);
  }
  return error;
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

// Whether connecting to the socket at `path` with `Protocol` finds a live socket. Returns the
// connect error: none (live, same type), connection_refused (stale: nobody bound it), EPROTOTYPE
// (live, the other socket type), or another error.
template <typename Protocol>
std::error_code probe_socket(const std::string& path) {
  asio::io_context io;
  typename Protocol::socket probe{io};
  std::error_code error;
  probe.connect(typename Protocol::endpoint{path}, error);
  return error;
}

bool is_wrong_type(const std::error_code& error) {
  return error.category() == asio::error::get_system_category() && error.value() == EPROTOTYPE;
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

std::error_code prepare_unix_datagram_path(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return {};  // Nothing there: free.
  if (!S_ISSOCK(info.st_mode)) return make_error_code(std::errc::address_in_use);
  // Asio errors compare equal to asio::error values, not to std::errc conditions.
  const std::error_code error = probe_socket<asio::local::datagram_protocol>(path);
  if (!error || is_wrong_type(error)) return make_error_code(std::errc::address_in_use);
  if (error != asio::error::connection_refused) return error;
  if (::unlink(path.c_str()) != 0) return {errno, std::system_category()};
  return {};
}

namespace detail {

asio::ip::udp::endpoint resolve_udp_peer(const std::string& host, std::uint16_t port) {
  std::error_code error;
  const asio::ip::address literal = asio::ip::make_address(host, error);
  if (!error) return {literal, port};
  asio::io_context io;
  asio::ip::udp::resolver resolver{io};
  const auto results = resolver.resolve(host, std::to_string(port), error);
  if (error || results.empty()) {
    throw std::system_error(error ? error : make_error_code(std::errc::address_not_available),
                            "cannot resolve '" + host + "'");
  }
  return results.begin()->endpoint();
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

ino_t open_unix_datagram_socket(asio::local::datagram_protocol::socket& socket,
                                const datagram_options& options) {
  socket.open();
  if (const std::error_code error = apply_datagram_socket_options(socket, options.socket)) {
    throw std::system_error(error, "cannot set socket options for a unix datagram socket");
  }
  if (options.unix_path.empty()) return 0;
  if (const std::error_code error = prepare_unix_datagram_path(options.unix_path)) {
    throw std::system_error(error, "cannot use unix socket path " + options.unix_path);
  }
  std::error_code error;
  socket.bind(asio::local::datagram_protocol::endpoint{options.unix_path}, error);
  if (error) throw std::system_error(error, "cannot bind unix:" + options.unix_path);
  struct stat info {};
  return ::lstat(options.unix_path.c_str(), &info) == 0 ? info.st_ino : 0;
}

void remove_unix_datagram_file(const std::string& path, ino_t inode) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode) && info.st_ino == inode) {
    ::unlink(path.c_str());
  }
}

}  // namespace detail
}  // namespace coronet
