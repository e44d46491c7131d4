// stdin_reader: raw chunks of standard input for a coroutine, whatever stdin is (a terminal, a
// pipe, a regular file, /dev/null). Asio's posix::stream_descriptor cannot wait on a regular
// file (epoll refuses it with EPERM), so a dedicated thread does blocking reads and hands the
// chunks over through a small bounded queue; the coroutine side runs on the io thread.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace samples {

/// One read of standard input: bytes, or the end (eof, or the error that ended it).
struct stdin_chunk {
  std::string bytes;
  bool end = false;
  std::error_code error;  ///< Why reading ended early (empty at a plain end of file).
};

/// Reads standard input on its own thread. Create it on the io thread, call next() from one
/// coroutine there; the destructor stops and joins the thread (it never blocks on stdin).
class stdin_reader {
 public:
  /// `executor` is where next() runs; at most `max_chunks` chunks wait there at once, so a fast
  /// producer (a large file) is paced by the consumer.
  explicit stdin_reader(asio::any_io_executor executor, std::size_t max_chunks = 4)
      : executor_{std::move(executor)},
        ready_{executor_, asio::steady_timer::time_point::max()},
        max_chunks_{max_chunks} {
    if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::system_error(errno, std::system_category());
    thread_ = std::thread([this] { run(); });
  }

  stdin_reader(const stdin_reader&) = delete;
  stdin_reader& operator=(const stdin_reader&) = delete;

  ~stdin_reader() {
    {
      std::lock_guard lock{mutex_};
      stopping_ = true;
    }
    room_.notify_all();
    const char wake = 1;
    [[maybe_unused]] const ssize_t ignored = ::write(wake_[1], &wake, 1);
    thread_.join();
    ::close(wake_[0]);
    ::close(wake_[1]);
  }

  /// The next chunk of stdin (end set once it is exhausted); suspends until there is one.
  /// A cancelled wait returns end with operation_aborted.
  asio::awaitable<stdin_chunk> next() {
    while (true) {
      {
        std::lock_guard lock{mutex_};
        if (!chunks_.empty()) {
          stdin_chunk chunk = std::move(chunks_.front());
          chunks_.pop_front();
          room_.notify_one();
          co_return chunk;
        }
      }
      [[maybe_unused]] auto [woken] =
          co_await ready_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
      if (state.cancelled() != asio::cancellation_type::none) {
        co_return stdin_chunk{{}, true, asio::error::operation_aborted};
      }
    }
  }

 private:
  // The reading thread: poll() so that the destructor can wake it through the pipe even when
  // stdin is a terminal nobody types into.
  void run() {
    char buffer[16 * 1024];
    while (true) {
      pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        push({{}, true, {errno, std::system_category()}});
        return;
      }
      if (fds[1].revents != 0) return;
      const ssize_t count = ::read(STDIN_FILENO, buffer, sizeof buffer);
      if (count < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        push({{}, true, {errno, std::system_category()}});
        return;
      }
      if (count == 0) {
        push({{}, true, {}});
        return;
      }
      if (!push({std::string(buffer, static_cast<std::size_t>(count)), false, {}})) return;
    }
  }

  // Waits for room in the queue; false when the reader is being destroyed.
  bool push(stdin_chunk chunk) {
    {
      std::unique_lock lock{mutex_};
      room_.wait(lock, [this] { return stopping_ || chunks_.size() < max_chunks_; });
      if (stopping_) return false;
      chunks_.push_back(std::move(chunk));
    }
    // ready_ belongs to the io thread: wake the waiting next() from there (unless the reader
    // is gone by the time the io thread runs this).
    asio::post(executor_, [this, alive = alive_token_] {
      if (!alive.expired()) ready_.cancel();
    });
    return true;
  }

  asio::any_io_executor executor_;
  asio::steady_timer ready_;  // Never expires; cancelled (on the io thread) when a chunk arrives.
  std::size_t max_chunks_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // Owned and destroyed on the io thread.
  std::weak_ptr<int> alive_token_ = alive_;                // Never modified: the thread copies it.
  std::mutex mutex_;
  std::condition_variable room_;
  std::deque<stdin_chunk> chunks_;
  bool stopping_ = false;
  int wake_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace samples
