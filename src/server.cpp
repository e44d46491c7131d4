// The non-template parts of basic_server: opening listeners and describing handler failures.
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>
#include <system_error>

#include "coronet/endpoint/server.hpp"

namespace coronet::detail {

void open_tcp_acceptor(asio::ip::tcp::acceptor& acceptor, const server_options& options) {
  const asio::ip::tcp::endpoint endpoint{listen_address(options.host), options.port};
  acceptor.open(endpoint.protocol());
  if (options.reuse_address) acceptor.set_option(asio::socket_base::reuse_address{true});
  if (options.reuse_port) {
    acceptor.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>{true});
  }
  if (endpoint.address().is_v6()) acceptor.set_option(asio::ip::v6_only{!options.dual_stack});
  std::error_code error;
  acceptor.bind(endpoint, error);
  if (error) {
    throw std::system_error(error, "cannot bind " + to_string(endpoint));
  }
  acceptor.listen(options.backlog);
}

ino_t open_unix_acceptor(asio::local::stream_protocol::acceptor& acceptor,
                         const server_options& options) {
  if (options.unix_path.empty()) {
    throw std::invalid_argument("unix_server needs server_options::unix_path");
  }
  if (const std::error_code error = prepare_unix_socket_path(options.unix_path)) {
    throw std::system_error(error, "cannot use unix socket path " + options.unix_path);
  }
  const asio::local::stream_protocol::endpoint endpoint{options.unix_path};
  acceptor.open(endpoint.protocol());
  std::error_code error;
  acceptor.bind(endpoint, error);
  if (error) throw std::system_error(error, "cannot bind unix:" + options.unix_path);
  acceptor.listen(options.backlog);
  return unix_socket_file_inode(options.unix_path);
}

}  // namespace coronet::detail
