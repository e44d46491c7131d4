// The listeners of stream servers: opening, binding and closing them.
#include "coronet/endpoint/listeners.hpp"

#include <stdexcept>
#include <system_error>

#include <asio/ip/v6_only.hpp>

#include "coronet/endpoint/address.hpp"

namespace coronet {

tcp_listener::tcp_listener(const asio::any_io_executor& executor, const server_options& options)
    : basic_listener{executor} {
  const asio::ip::tcp::endpoint endpoint{listen_address(options.host), options.port};
  acceptor_.open(endpoint.protocol());
  if (options.reuse_address) acceptor_.set_option(asio::socket_base::reuse_address{true});
  if (options.reuse_port) {
    acceptor_.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>{true});
  }
  if (endpoint.address().is_v6()) acceptor_.set_option(asio::ip::v6_only{!options.dual_stack});
  std::error_code error;
  acceptor_.bind(endpoint, error);
  if (error) throw std::system_error(error, "cannot bind " + to_string(endpoint));
  acceptor_.listen(options.backlog);
}

void tcp_listener::close() noexcept {
  std::error_code ignored;
  acceptor_.close(ignored);
}

unix_listener::unix_listener(const asio::any_io_executor& executor, const server_options& options)
    : basic_listener{executor}, path_{options.unix_path} {
  if (path_.empty()) throw std::invalid_argument("unix_server needs server_options::unix_path");
  if (const std::error_code error = prepare_unix_socket_path(path_)) {
    throw std::system_error(error, "cannot use unix socket path " + path_);
  }
  const asio::local::stream_protocol::endpoint endpoint{path_};
  acceptor_.open(endpoint.protocol());
  std::error_code error;
  acceptor_.bind(endpoint, error);
  if (error) throw std::system_error(error, "cannot bind unix:" + path_);
  inode_ = detail::unix_socket_file_inode(path_);
  acceptor_.listen(options.backlog);
}

void unix_listener::close() noexcept {
  std::error_code ignored;
  acceptor_.close(ignored);
  if (inode_ != 0) detail::remove_unix_socket_file(path_, inode_);
  inode_ = 0;
}

}  // namespace coronet
