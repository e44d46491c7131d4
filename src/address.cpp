// Address formatting, listen-address parsing and Unix socket path preparation.
#include "coronet/endpoint/address.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <cerrno>
#include <system_error>

namespace coronet {
namespace {

template <typename Endpoint>
std::string ip_to_string(const Endpoint& endpoint) {
  const std::string host = endpoint.address().to_string();
  const std::string port = std::to_string(endpoint.port());
  return endpoint.address().is_v6() ? "[" + host + "]:" + port : host + ":" + port;
}

template <typename Endpoint>
std::string local_to_string(const Endpoint& endpoint) {
  const std::string path = endpoint.path();
  return path.empty() ? "unix:(unnamed)" : "unix:" + path;
}

}  // namespace

std::string to_string(const asio::ip::tcp::endpoint& endpoint) {
  return ip_to_string(endpoint);
}
std::string to_string(const asio::ip::udp::endpoint& endpoint) {
  return ip_to_string(endpoint);
}
std::string to_string(const asio::local::stream_protocol::endpoint& endpoint) {
  return local_to_string(endpoint);
}
std::string to_string(const asio::local::datagram_protocol::endpoint& endpoint) {
  return local_to_string(endpoint);
}

asio::ip::address listen_address(const std::string& host) {
  if (host.empty() || host == "*") return asio::ip::address_v4::any();
  std::error_code error;
  const asio::ip::address literal = asio::ip::make_address(host, error);
  if (!error) return literal;
  asio::io_context io;
  asio::ip::tcp::resolver resolver{io};
  const auto results = resolver.resolve(host, "", error);
  if (error || results.empty()) {
    throw std::system_error(error ? error : make_error_code(std::errc::address_not_available),
                            "cannot resolve listen host '" + host + "'");
  }
  return results.begin()->endpoint().address();
}

std::error_code prepare_unix_socket_path(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return {};  // Nothing there: free.
  if (!S_ISSOCK(info.st_mode)) return make_error_code(std::errc::address_in_use);
  asio::io_context io;
  asio::local::stream_protocol::socket probe{io};
  std::error_code error;
  probe.connect(asio::local::stream_protocol::endpoint{path}, error);
  // A live stream socket accepts the probe; a live datagram socket refuses it with EPROTOTYPE.
  const bool wrong_type =
      error.category() == asio::error::get_system_category() && error.value() == EPROTOTYPE;
  if (!error || wrong_type) return make_error_code(std::errc::address_in_use);
  // Asio errors compare equal to asio::error values, not to std::errc conditions.
  if (error != asio::error::connection_refused) return error;
  if (::unlink(path.c_str()) != 0) return {errno, std::system_category()};
  return {};
}

namespace detail {

std::uint64_t unix_socket_file_inode(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode) ? info.st_ino : 0;
}

void remove_unix_socket_file(const std::string& path, std::uint64_t inode) {
  if (inode != 0 && unix_socket_file_inode(path) == inode) ::unlink(path.c_str());
}

}  // namespace detail
}  // namespace coronet
