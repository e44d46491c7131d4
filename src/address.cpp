// Address formatting, listen-address parsing and Unix socket path preparation.
#include "coronet/endpoint/address.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <string_view>
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

std::string_view file_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Whether the kernel's table of Unix sockets (/proc/net/unix, Linux) shows a live socket bound
// to the socket file `file` found at `path`: one that listens (stream, seqpacket) or any bound
// datagram socket; what a connect would reach. Reading the table lets a second server find a
// live one without connecting to it, which the live server would log as a client that joins
// and leaves at once.
//
// False means "not shown", not "stale": the table holds the path as given to bind(), so a
// socket bound to a relative path (from another process's working directory) or whose file was
// moved since cannot be matched, and there may be no /proc at all (another system, a bare
// chroot or container). The caller then falls back on the connect probe.
bool listed_as_live(const std::string& path, const struct stat& file) {
#if defined(__linux__)
  std::ifstream table{"/proc/net/unix"};
  std::string row;
  std::getline(table, row);  // The header.
  while (std::getline(table, row)) {
    // "Num: RefCount Protocol Flags Type St Inode Path", numbers in hex but Inode; the path
    // (absent when unbound, "@..." when abstract) is the rest of the row, spaces included.
    std::istringstream fields{row};
    std::string slot;
    unsigned long references = 0, protocol = 0, flags = 0, type = 0, state = 0, inode = 0;
    fields >> slot >> std::hex >> references >> protocol >> flags >> type >> state >> std::dec >>
        inode;
    if (!fields) continue;
    std::string bound;
    std::getline(fields >> std::ws, bound);
    constexpr unsigned long listening = 0x10000;  // __SO_ACCEPTCON in the kernel.
    const bool reachable = (flags & listening) != 0 || type == SOCK_DGRAM;
    if (!reachable || bound.empty() || bound.front() != '/') continue;
    if (file_name(bound) != file_name(path)) continue;  // Spares a stat() per row.
    struct stat info {};
    if (::stat(bound.c_str(), &info) == 0 && info.st_dev == file.st_dev &&
        info.st_ino == file.st_ino) {
      return true;
    }
  }
#else
  (void)path;
  (void)file;
#endif
  return false;
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

asio::ip::address resolve_address(const std::string& host) {
  std::error_code error;
  const asio::ip::address literal = asio::ip::make_address(host, error);
  if (!error) return literal;
  asio::io_context io;
  asio::ip::tcp::resolver resolver{io};
  const auto results = resolver.resolve(host, "", error);
  if (error || results.empty()) {
    throw std::system_error(error ? error : make_error_code(std::errc::address_not_available),
                            "cannot resolve '" + host + "'");
  }
  return results.begin()->endpoint().address();
}

asio::ip::address listen_address(const std::string& host) {
  if (host.empty() || host == "*") return asio::ip::address_v4::any();
  return resolve_address(host);
}

std::error_code prepare_unix_socket_path(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return {};  // Nothing there: free.
  if (!S_ISSOCK(info.st_mode)) return make_error_code(std::errc::address_in_use);
  if (listed_as_live(path, info)) return make_error_code(std::errc::address_in_use);
  // Not shown live: most likely a stale file. Connecting confirms it, and costs nothing then
  // (nobody is there to see it); only a live socket the table could not match sees the probe.
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
