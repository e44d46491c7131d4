// The asynchronous operations of tls_stream on a tls_engine: read, write, handshake, close_notify
// (with and without waiting for the peer's). Each is an asio::async_compose operation whose step
// function calls into SSL and says what it needs next; tls_operation, their common part, gets
// it: ciphertext from the socket (read now if there is some, else wait for readability holding
// no buffer), the socket's taking of buffered ciphertext, or the role the other side holds
// (parking until it is free). See tls_engine.hpp for the roles.
#pragma once

#include "coronet/tls/tls_enabled.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>
#include <asio/ssl/error.hpp>

#include "coronet/tls/detail/tls_engine.hpp"

namespace coronet::detail {

/// What an operation's step asks for.
struct tls_need {
  enum kind : std::uint8_t {
    done,    // Complete with error/count (after the socket took our buffered output).
    input,   // Ciphertext from the peer, then step again.
    output,  // Room for ciphertext: the socket takes what is buffered, then step again.
    writer,  // The writer's role (a write-side operation starting): park while it is taken.
  };
  kind what = done;
  std::error_code error;
  std::size_t count = 0;
};

/// The common driver; `Step` is the operation's own part: `tls_need step(tls_engine&)`,
/// `std::error_code at_eof(tls_engine&)` (the peer ended TCP while SSL wanted input) and
/// `complete(self, error, count)`.
template <typename Step>
class tls_operation {
 public:
  tls_operation(tls_engine* engine, tls_engine::side side, Step step)
      : engine_{engine}, step_{std::move(step)}, side_{side} {}

  template <typename Self>
  void operator()(Self& self, std::error_code error = {}, std::size_t count = 0) {
    switch (std::exchange(stage_, stage::running)) {
      case stage::running:  // First call, from the initiating function.
        break;
      case stage::posted:  // Resumed after a post: complete, or go on where it stopped.
        if (finished_) return step_.complete(self, result_.error, result_.count);
        break;
      case stage::waiting_readable:
        async_ = true;
        engine_->end_reading();
        if (error) return finish(self, {tls_need::done, error, 0});
        break;
      case stage::writing:
        async_ = true;
        engine_->end_writing(error ? 0 : count);
        if (error) {
          // A failure SSL reported stays the reason, even if its alert could not be sent.
          const bool keep = finished_ && result_.error;
          return finish(self, {tls_need::done, keep ? result_.error : error, 0});
        }
        if (engine_->has_output()) return write_output(self);  // Ours, or appended meanwhile.
        break;
    }
    run(self);
  }

 private:
  enum class stage : std::uint8_t { running, posted, waiting_readable, writing };
  // Steps in a row before others get a turn (a peer that sends many small records, each
  // yielding nothing to return, would otherwise hold the thread).
  static constexpr int steps_in_a_row = 32;

  template <typename Self>
  void run(Self& self) {
    for (int round = 0; round < steps_in_a_row; ++round) {
      if (engine_->closed())
        return finish(self, {tls_need::done, asio::error::operation_aborted, 0});
      tls_need need = finished_ ? result_ : step_.step(*engine_);
      switch (need.what) {
        case tls_need::done:
          // The socket takes what SSL wrote (ours, or the other side's being written already).
          if (engine_->has_output() && !engine_->writer_busy()) {
            finished_ = true;
            result_ = need;
            return write_output(self);
          }
          return finish(self, need);
        case tls_need::writer:
          if (engine_->writer_busy()) return park(self);
          continue;
        case tls_need::output:
          if (engine_->writer_busy()) return park(self);
          if (!engine_->has_output()) {  // No room even when empty: cannot happen within bounds.
            return finish(self, {tls_need::done, asio::error::no_buffer_space, 0});
          }
          return write_output(self);
        case tls_need::input:
          // What SSL wrote goes first: the peer may be waiting for it to answer.
          if (engine_->has_output() && !engine_->writer_busy()) return write_output(self);
          if (engine_->reader_busy()) return park(self);
          if (engine_->socket_eof())
            return finish(self, {tls_need::done, step_.at_eof(*engine_), 0});
          if (const std::error_code error = engine_->read_now()) {
            if (error != asio::error::would_block) {
              if (error == asio::error::eof) {
                return finish(self, {tls_need::done, step_.at_eof(*engine_), 0});
              }
              return finish(self, {tls_need::done, error, 0});
            }
            return wait_readable(self);
          }
          continue;  // Ciphertext arrived: step again.
      }
    }
    stage_ = stage::posted;  // Give the others a turn, then go on.
    asio::post(std::move(self));
  }

  template <typename Self>
  void finish(Self& self, tls_need result) {
    if (async_) return step_.complete(self, result.error, result.count);
    // Completing from the initiating function would run the caller's handler inside its own
    // call: post it instead, as Asio's operations do.
    finished_ = true;
    result_ = result;
    stage_ = stage::posted;
    asio::post(std::move(self));
  }

  template <typename Self>
  void write_output(Self& self) {
    tls_engine& engine = *engine_;
    engine.begin_writing();
    stage_ = stage::writing;
    engine.socket().async_write_some(engine.output(), std::move(self));
  }

  template <typename Self>
  void wait_readable(Self& self) {
    tls_engine& engine = *engine_;
    engine.begin_reading();
    stage_ = stage::waiting_readable;
    engine.socket().async_wait(asio::socket_base::wait_read, std::move(self));
  }

  template <typename Self>
  struct parked final : tls_parked {
    explicit parked(Self&& s) : self{std::move(s)} {}
    void resume() override { asio::post(std::move(self)); }
    Self self;
  };

  template <typename Self>
  void park(Self& self) {
    tls_engine& engine = *engine_;
    const tls_engine::side side = side_;
    stage_ = stage::posted;
    async_ = true;  // It completes after the post that resumes it.
    engine.park(side, std::make_unique<parked<std::decay_t<Self>>>(std::move(self)));
  }

  tls_engine* engine_;
  Step step_;
  tls_need result_;
  stage stage_ = stage::running;
  tls_engine::side side_;
  bool async_ = false;     // An asynchronous operation ran: completing now is not inline.
  bool finished_ = false;  // result_ is the result; only output is left to write.
};

/// Up to max_gather buffers of a sequence, as the engine takes them.
template <typename Buffer, typename Buffers>
std::size_t gather(const Buffers& buffers, std::array<Buffer, tls_engine::max_gather>& into) {
  std::size_t count = 0;
  for (auto it = asio::buffer_sequence_begin(buffers);
       it != asio::buffer_sequence_end(buffers) && count < into.size(); ++it) {
    into[count++] = Buffer(*it);
  }
  return count;
}

/// What an engine call's result asks of the driver, for the operations' steps: done with the
/// count, more input, room for output, or done with an error: `if_closed` when the peer's
/// close_notify ended the call (what that means depends on the operation), else the engine's.
inline tls_need need_after(const tls_step& result, std::error_code if_closed) {
  switch (result.want) {
    case tls_want::nothing:
      return {tls_need::done, {}, result.count};
    case tls_want::input:
      return {tls_need::input, {}, 0};
    case tls_want::output:
      return {tls_need::output, {}, 0};
    case tls_want::closed:
      return {tls_need::done, if_closed, 0};
    case tls_want::failed:
      break;
  }
  return {tls_need::done, result.error, 0};
}

template <typename MutableBuffers>
struct tls_read_step {
  tls_need step(tls_engine& engine) {
    std::array<asio::mutable_buffer, tls_engine::max_gather> into;
    const std::size_t count = gather(buffers, into);
    if (asio::buffer_size(buffers) == 0) return {};
    return need_after(engine.read(into.data(), count), asio::error::eof);
  }
  // The peer ended TCP without close_notify: the end of the stream, cut short.
  std::error_code at_eof(tls_engine& engine) {
    engine.set_truncated();
    return asio::error::eof;
  }
  template <typename Self>
  void complete(Self& self, std::error_code error, std::size_t count) {
    self.complete(error, count);
  }
  MutableBuffers buffers;
};

template <typename ConstBuffers>
struct tls_write_step {
  tls_need step(tls_engine& engine) {
    if (!started) {
      started = true;
      return {tls_need::writer, {}, 0};  // Encrypt only holding the writer's role.
    }
    std::array<asio::const_buffer, tls_engine::max_gather> from;
    const std::size_t count = gather(buffers, from);
    if (asio::buffer_size(buffers) == 0) return {};
    // The peer's close_notify does not end our sending side, but a write after it has no one
    // to read it.
    return need_after(engine.write(from.data(), count), asio::error::broken_pipe);
  }
  std::error_code at_eof(tls_engine&) { return asio::error::broken_pipe; }
  template <typename Self>
  void complete(Self& self, std::error_code error, std::size_t count) {
    self.complete(error, count);
  }
  ConstBuffers buffers;
  bool started = false;
};

/// For the operations that complete with an error code alone.
struct tls_status_completion {
  template <typename Self>
  void complete(Self& self, std::error_code error, std::size_t) {
    self.complete(error);
  }
};

struct tls_handshake_step : tls_status_completion {
  tls_need step(tls_engine& engine) {
    return need_after(engine.handshake(), asio::ssl::error::stream_truncated);
  }
  std::error_code at_eof(tls_engine&) { return asio::ssl::error::stream_truncated; }
};

/// Sends close_notify; with `wait_for_peer`, then reads (and drops) until the peer's.
struct tls_close_notify_step : tls_status_completion {
  tls_need step(tls_engine& engine) {
    if (!started) {
      started = true;
      return {tls_need::writer, {}, 0};  // After the write in flight, if any (a half-close).
    }
    if (!sent) {
      const tls_step result = engine.send_close_notify();
      if (result.want == tls_want::output) return {tls_need::output, {}, 0};
      if (result.want != tls_want::nothing) return {tls_need::done, result.error, 0};
      sent = true;
      if (!wait_for_peer) return {};
    }
    return need_after(engine.discard_until_close_notify(), {});  // Closed: what we waited for.
  }
  std::error_code at_eof(tls_engine&) { return asio::ssl::error::stream_truncated; }
  bool wait_for_peer = true;
  bool started = false;
  bool sent = false;
};

}  // namespace coronet::detail
