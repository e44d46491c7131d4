// A redis-server of the test's own: started on a free loopback port (or a Unix socket), waited
// for until it answers PING, stopped (or SIGKILLed, and restarted on the same port) by its PID.
// Nothing here expects a system-wide Redis. Also a blocking one-command client for setup
// (CONFIG SET, CLIENT KILL) that does not depend on the client under test.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <coronet/codec/resp_codec.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace coronet_test {

/// A loopback TCP port nothing listens on now (bound to port 0, read, released).
inline std::uint16_t free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("free_tcp_port: cannot bind port 0");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

/// How to start the test's Redis.
struct redis_process_options {
  std::uint16_t port = 0;          ///< 0: a free port.
  std::string unix_socket;         ///< Non-empty: listen on this Unix socket (and no TCP port).
  std::string password;            ///< Non-empty: requirepass.
  std::string user;                ///< With a password: an ACL user with that password too.
  std::vector<std::string> extra;  ///< More command-line arguments.
};

/// One redis-server process, stopped by its PID when this goes away.
class redis_process {
 public:
  explicit redis_process(redis_process_options options = {}) : options_{std::move(options)} {
    if (options_.unix_socket.empty() && options_.port == 0) options_.port = free_tcp_port();
    start();
  }
  redis_process(const redis_process&) = delete;
  redis_process& operator=(const redis_process&) = delete;
  ~redis_process() { stop(); }

  std::uint16_t port() const noexcept { return options_.port; }
  const std::string& unix_socket() const noexcept { return options_.unix_socket; }
  bool running() const noexcept { return pid_ > 0; }

  /// Starts redis-server with the same options (same port) and waits until it answers PING.
  void start() {
    std::vector<std::string> args{"redis-server", "--save",      "",
                                  "--appendonly", "no",          "--bind",
                                  "127.0.0.1",    "--daemonize", "no"};
    if (options_.unix_socket.empty()) {
      args.insert(args.end(), {"--port", std::to_string(options_.port)});
    } else {
      args.insert(args.end(), {"--port", "0", "--unixsocket", options_.unix_socket});
    }
    if (!options_.password.empty()) {
      args.insert(args.end(), {"--requirepass", options_.password});
      if (!options_.user.empty()) {
        args.insert(args.end(),
                    {"--user", options_.user, "on", ">" + options_.password, "~*", "&*", "+@all"});
      }
    }
    args.insert(args.end(), options_.extra.begin(), options_.extra.end());
    std::vector<char*> argv;
    for (std::string& arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    const int status = posix_spawnp(&pid_, "redis-server", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (status != 0) {
      pid_ = 0;
      throw std::runtime_error("cannot start redis-server (is it installed? scripts/setup)");
    }
    wait_until_ready();
  }

  /// Sends `signal` to the server and reaps it.
  void kill(int signal = SIGKILL) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }

  /// Stops the server (SIGTERM, then SIGKILL after 5 s).
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    kill(SIGKILL);
  }

  /// Runs one command on a fresh connection (authenticated if needed) and returns the reply;
  /// throws on a connection or protocol error. For test setup, not for the code under test.
  coronet::resp_value command(const std::vector<std::string>& arguments) const {
    const int fd = connect_raw();
    if (fd < 0) throw std::runtime_error("redis_process::command: cannot connect");
    std::string out;
    coronet::resp_codec codec;
    if (!options_.password.empty()) {
      codec.encode(coronet::resp_value::command({"AUTH", options_.password}), out);
    }
    codec.encode(coronet::resp_value::command(arguments), out);
    const bool sent =
        ::send(fd, out.data(), out.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(out.size());
    std::string in;
    std::optional<coronet::resp_value> reply;
    int wanted = options_.password.empty() ? 1 : 2;
    char buffer[4096];
    while (sent && wanted > 0) {
      auto decoded = codec.decode(in);
      if (decoded.has_message()) {
        in.erase(0, decoded.consumed());
        reply = std::move(decoded).message();
        --wanted;
        continue;
      }
      if (decoded.has_error()) break;
      const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
      if (got <= 0) break;
      in.append(buffer, static_cast<std::size_t>(got));
    }
    ::close(fd);
    if (wanted > 0 || !reply) throw std::runtime_error("redis_process::command: no reply");
    return *reply;
  }

 private:
  int connect_raw() const {
    timeval timeout{5, 0};
    if (!options_.unix_socket.empty()) {
      const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
      sockaddr_un address{};
      address.sun_family = AF_UNIX;
      options_.unix_socket.copy(address.sun_path, sizeof address.sun_path - 1);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) return fd;
      ::close(fd);
      return -1;
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(options_.port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) return fd;
    ::close(fd);
    return -1;
  }

  // PING every 20 ms for up to 10 s; +PONG (or -NOAUTH: up, but wants a password) means ready.
  void wait_until_ready() {
    for (int attempt = 0; attempt < 500; ++attempt) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        throw std::runtime_error("redis-server exited at start (port taken?)");
      }
      const int fd = connect_raw();
      if (fd >= 0) {
        const char ping[] = "*1\r\n$4\r\nPING\r\n";
        char reply[64] = {};
        const bool answered = ::send(fd, ping, sizeof ping - 1, MSG_NOSIGNAL) > 0 &&
                              ::recv(fd, reply, sizeof reply - 1, 0) > 0;
        ::close(fd);
        const std::string text = reply;
        if (answered && (text.starts_with("+PONG") || text.starts_with("-NOAUTH"))) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    stop();
    throw std::runtime_error("redis-server did not answer PING within 10 s");
  }

  redis_process_options options_;
  pid_t pid_ = 0;
};

/// A fresh directory for Unix sockets and password files, removed afterwards.
class temp_directory {
 public:
  temp_directory() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "coronet-redis-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~temp_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace coronet_test
