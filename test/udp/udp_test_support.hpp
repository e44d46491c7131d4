// Helpers shared by the UDP test files: temporary directories, ::1 availability.
#pragma once

#include <unistd.h>

#include <asio/awaitable.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>

namespace udp_test {

/// A fresh directory under the system temp dir, removed with everything in it at scope end.
class temp_dir {
 public:
  temp_dir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("coronet-udp-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// Empty when a UDP socket can bind ::1 here, else why not.
inline std::error_code ipv6_loopback_unavailable() {
  asio::io_context probe;
  asio::ip::udp::socket socket{probe};
  std::error_code error;
  socket.open(asio::ip::udp::v6(), error);
  if (!error) socket.bind({asio::ip::make_address("::1"), 0}, error);
  return error;
}

}  // namespace udp_test
