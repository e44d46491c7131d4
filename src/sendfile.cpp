// sendfile(2) for framed_connection::send_file, with SIGPIPE kept away from the process.
#include "coronet/stream/detail/sendfile.hpp"

#include <asio/error.hpp>
#include <cerrno>

#if defined(__linux__)
#include <signal.h>
#include <sys/sendfile.h>
#include <time.h>
#endif
#include <unistd.h>

namespace coronet::detail {

#if defined(__linux__)
std::pair<std::error_code, std::size_t> sendfile_some(int socket, int file, std::uint64_t offset,
                                                      std::size_t count) noexcept {
  // sendfile has no MSG_NOSIGNAL: block SIGPIPE around the call and swallow one it raised, so a
  // peer that went away is an EPIPE error value, not a dead process.
  sigset_t pipe_signal;
  sigset_t previous;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
  off_t position = static_cast<off_t>(offset);
  ssize_t sent = 0;
  do {
    sent = ::sendfile(socket, file, &position, count);
  } while (sent < 0 && errno == EINTR);
  const int error = sent < 0 ? errno : 0;
  if (error == EPIPE) {
    const timespec no_wait{};
    sigtimedwait(&pipe_signal, nullptr, &no_wait);
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (error == EAGAIN || error == EWOULDBLOCK) return {asio::error::would_block, 0};
  if (error != 0) return {std::error_code{error, asio::error::get_system_category()}, 0};
  return {{}, static_cast<std::size_t>(sent)};
}
#endif

std::pair<std::error_code, std::size_t> read_file_at(int file, std::uint64_t offset, char* buffer,
                                                     std::size_t size) noexcept {
  ssize_t count = 0;
  do {
    count = ::pread(file, buffer, size, static_cast<off_t>(offset));
  } while (count < 0 && errno == EINTR);
  if (count < 0) return {std::error_code{errno, asio::error::get_system_category()}, 0};
  return {{}, static_cast<std::size_t>(count)};
}

}  // namespace coronet::detail
