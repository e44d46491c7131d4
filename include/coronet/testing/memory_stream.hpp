// An in-memory pair of connected byte streams with the same async interface as a socket
// (async_read_some, async_write_some, close), so a handler can be unit-tested without sockets:
// what one end writes, the other reads. Each direction holds a bounded number of bytes, so a
// peer that does not read pushes back on the writer, as a socket does.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "coronet/detail/wake_signal.hpp"

namespace coronet::testing {

namespace detail {

// One direction of the pair.
struct memory_pipe {
  memory_pipe(const asio::any_io_executor& executor, std::size_t capacity)
      : changed{executor}, capacity{capacity} {}

  void notify() { changed.notify_all(); }

  std::string bytes;
  coronet::detail::wake_signal changed;  // Wakes waiting readers and writers.
  std::size_t capacity;
  bool writer_closed = false;  // The reader sees end of stream once the bytes are read.
  bool reader_closed = false;  // Writes fail with broken_pipe.
  bool reset = false;          // Both ends see connection_reset.
};

// Shared by the read and write operations: waits on the pipe until `ready` can complete.
template <typename Attempt>
struct memory_pipe_op {
  std::shared_ptr<memory_pipe> pipe;
  Attempt attempt;  // Returns true (and completes) when the operation could finish.
  bool started = false;

  template <typename Self>
  void operator()(Self& self, std::error_code error = {}) {
    if (!started) {
      started = true;
      // Never complete inside the initiating call.
      asio::post(pipe->changed.get_executor(), std::move(self));
      return;
    }
    if (error == asio::error::operation_aborted &&
        self.get_cancellation_state().cancelled() != asio::cancellation_type::none) {
      self.complete(asio::error::operation_aborted, 0);
      return;
    }
    if (attempt(self)) return;
    pipe->changed.async_wait(std::move(self));
  }
};

}  // namespace detail

/// One end of an in-memory connection. Satisfies coronet::byte_stream.
class memory_stream {
 public:
  using executor_type = asio::any_io_executor;

  executor_type get_executor() const { return executor_; }
  bool is_open() const noexcept { return open_; }

  /// Reads what the peer wrote; asio::error::eof after the peer closed and all was read.
  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    auto attempt = [in = in_, buffers](auto& self) {
      if (in->reader_closed) return self.complete(asio::error::operation_aborted, 0), true;
      if (in->reset) return self.complete(asio::error::connection_reset, 0), true;
      if (!in->bytes.empty()) {
        const std::size_t count = asio::buffer_copy(buffers, asio::buffer(in->bytes));
        in->bytes.erase(0, count);
        in->notify();
        self.complete(std::error_code{}, count);
        return true;
      }
      if (in->writer_closed) return self.complete(asio::error::eof, 0), true;
      return false;
    };
    return start(in_, std::move(attempt), std::forward<Token>(token));
  }

  /// Writes as much as the peer's bounded pipe takes, waiting while it is full.
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    auto attempt = [out = out_, buffers](auto& self) {
      if (out->writer_closed) return self.complete(asio::error::operation_aborted, 0), true;
      if (out->reset) return self.complete(asio::error::connection_reset, 0), true;
      if (out->reader_closed) return self.complete(asio::error::broken_pipe, 0), true;
      const std::size_t room = out->capacity - std::min(out->capacity, out->bytes.size());
      if (room == 0) return false;
      const std::size_t before = out->bytes.size();
      out->bytes.resize(before + std::min(room, asio::buffer_size(buffers)));
      const std::size_t count = asio::buffer_copy(
          asio::buffer(out->bytes.data() + before, out->bytes.size() - before), buffers);
      out->notify();
      self.complete(std::error_code{}, count);
      return true;
    };
    return start(out_, std::move(attempt), std::forward<Token>(token));
  }

  /// Closes this end: the peer reads end of stream after what was written; pending and later
  /// operations on this end finish with operation_aborted.
  void close(std::error_code& error) {
    error = {};
    if (!open_) return;
    open_ = false;
    out_->writer_closed = true;
    in_->reader_closed = true;
    out_->notify();
    in_->notify();
  }
  void close() {
    std::error_code ignored;
    close(ignored);
  }

  /// Ends the connection abruptly (like SO_LINGER 0): both ends see connection_reset, and bytes
  /// not yet read are lost.
  void reset() {
    in_->reset = out_->reset = true;
    in_->bytes.clear();
    out_->bytes.clear();
    close();
  }

  /// Bytes written by this end that the peer has not read yet.
  std::size_t unread_by_peer() const noexcept { return out_->bytes.size(); }

 private:
  friend std::pair<memory_stream, memory_stream> make_memory_stream_pair(
      const asio::any_io_executor&, std::size_t);

  memory_stream(asio::any_io_executor executor, std::shared_ptr<detail::memory_pipe> in,
                std::shared_ptr<detail::memory_pipe> out)
      : executor_{std::move(executor)}, in_{std::move(in)}, out_{std::move(out)} {}

  template <typename Attempt, typename Token>
  auto start(const std::shared_ptr<detail::memory_pipe>& pipe, Attempt attempt, Token&& token) {
    return asio::async_compose<Token, void(std::error_code, std::size_t)>(
        detail::memory_pipe_op<Attempt>{pipe, std::move(attempt)}, token, executor_);
  }

  asio::any_io_executor executor_;
  std::shared_ptr<detail::memory_pipe> in_;
  std::shared_ptr<detail::memory_pipe> out_;
  bool open_ = true;
};

/// Two connected memory streams; each direction buffers at most `capacity` bytes (default 64 KiB).
inline std::pair<memory_stream, memory_stream> make_memory_stream_pair(
    const asio::any_io_executor& executor, std::size_t capacity = 64 * 1024) {
  auto a_to_b = std::make_shared<detail::memory_pipe>(executor, capacity);
  auto b_to_a = std::make_shared<detail::memory_pipe>(executor, capacity);
  return {memory_stream{executor, b_to_a, a_to_b}, memory_stream{executor, a_to_b, b_to_a}};
}

}  // namespace coronet::testing
