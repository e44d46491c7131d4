// The codec-independent state of a framed connection: the byte stream, the read buffer and its
// read loop, the bounded send queue and its single writer, and the watchdog that enforces the
// timeouts. It is shared (ref_ptr, a count in the state) with the completion handlers of in-flight
// writes and timers, so a connection object can be destroyed while the stream still has operations
// pending.
//
// The parts by concern: read_buffer.hpp (input bytes), send_queue.hpp (output bytes),
// file_transfer.hpp (send_file), and here the read loop, the writer and the watchdog, which
// share the flags below.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/defer.hpp>
#include <asio/error.hpp>
#include <asio/experimental/append.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "coronet/connection_observer.hpp"
#include "coronet/detail/deadline_service.hpp"
#include "coronet/detail/direct_resume.hpp"
#include "coronet/detail/ref_counted.hpp"
#include "coronet/detail/tuple_awaitable.hpp"
#include "coronet/detail/wake_signal.hpp"
#include "coronet/error.hpp"
#include "coronet/stream/connection_options.hpp"
#include "coronet/stream/detail/file_transfer.hpp"
#include "coronet/stream/detail/inline_wait.hpp"
#include "coronet/stream/detail/packed_options.hpp"
#include "coronet/stream/detail/read_buffer.hpp"
#include "coronet/stream/detail/send_queue.hpp"
#include "coronet/stream/stream_concepts.hpp"
#include "coronet/stream/stream_traits.hpp"

namespace coronet::detail {

template <typename Stream>
class connection_core : public ref_counted, private deadline_entry {
 public:
  using clock = std::chrono::steady_clock;

  /// Whether the stream is read as a socket is: a read that does not wait, then a wait for its
  /// socket's readability holding no buffer (a descriptor stream, or a socket_read_stream).
  /// Every other stream is read through its async_read_some.
  static constexpr bool reads_without_waiting =
      is_descriptor_stream_v<Stream> || socket_read_stream<Stream>;

  connection_core(Stream stream, const connection_options& options)
      : deadline_entry{&on_deadline},
        stream_{std::move(stream)},
        options_{options},
        deadlines_{&deadline_service::of(stream_.get_executor())},
        last_receive_{clock::now()} {
    if constexpr (is_descriptor_stream_v<Stream>) {
      // Reads try the descriptor without waiting first (read_now_or_suspend); async operations
      // are not affected by this mode.
      std::error_code ignored;
      stream_.non_blocking(true, ignored);
    }
  }

  ~connection_core() override { deadlines_->cancel(*this); }

  Stream& stream() noexcept { return stream_; }
  const packed_options& options() const noexcept { return options_; }
  void set_decode_errors(decode_error_policy policy) noexcept {
    options_.set_decode_errors(policy);
  }
  read_buffer& input() noexcept { return input_; }

  /// The first error that ended the connection (empty while it is usable).
  std::error_code failure() const noexcept { return failure_; }
  bool is_open() const noexcept { return !failure_ && !closed_; }
  /// A read from the stream is in progress or waiting (it holds the read buffer).
  bool reading() const noexcept { return reading_; }
  /// The last thing that ended a read or a write for good (see close_reason).
  close_reason ended_by() const noexcept { return ended_by_; }
  /// The stream has ended (a read saw end of stream); decoding goes on with decode_eof.
  bool at_end_of_stream() const noexcept { return end_of_stream_; }
  void set_end_of_stream() noexcept { end_of_stream_ = true; }
  /// The stream ended without its own end marker (TLS without close_notify): what came last
  /// may be cut short.
  bool end_was_truncated() const noexcept {
    if constexpr (requires { stream_.truncated(); }) {
      return stream_.truncated();
    } else {
      return false;
    }
  }

  /// Where the connection reports its events; null for none. Detached at close().
  connection_observer* observer() const noexcept { return observer_; }
  void set_observer(connection_observer* observer) noexcept {
    observer_ = closed_ ? nullptr : observer;
  }

  /// Heap bytes the read buffer and the send queue's strings hold now (not what they contain).
  std::size_t buffer_capacity() const noexcept { return input_.capacity() + queue_.capacity(); }
  std::size_t queued_bytes() const noexcept { return queue_.queued_bytes(); }

  // ---- reading -------------------------------------------------------------------------------

  /// A read() call begins. Its read_timeout clock starts with the first byte of the message it
  /// waits for (when the read that brought it ended, if part of it is already buffered):
  /// silence is the idle timeout's business, so a peer that waits quietly between messages is
  /// not cut off, one that trickles is.
  void begin_read_call() noexcept {
    read_call_deadline_ = clock::time_point::max();
    if (!input_.empty()) start_message_clock();
  }

  /// A decoded message was handed to the reader, or failed to decode.
  void count_message_received() noexcept {
    if (observer_) observer_->messages_received.add(1);
  }
  void count_decode_error(std::error_code error, bool recoverable) {
    if (!recoverable) ended_by_ = close_reason::protocol_error;
    if (observer_) observer_->report_decode_error(error, recoverable);
  }

  /// What read_until's attempt yields when it succeeds, for a connection pointed to by `Self`.
  template <typename Self, typename Attempt>
  using attempt_result = typename std::invoke_result_t<Attempt&, decltype(*std::declval<Self&>()),
                                                       std::error_code>::value_type;

  /// The read loop of every read path, in one coroutine frame (an idle connection waits inside
  /// it, and each frame a waiting connection holds costs memory): calls `attempt(*self, error)`
  /// until it yields a result, reading once from the stream before each further call. The
  /// first call gets no error, later ones what the read returned (asio::error::eof at the end of
  /// the stream). Reads are bounded by the idle and read timeouts and cancellable through the
  /// calling coroutine's cancellation slot.
  ///
  /// `self` points to this connection (or to what derives from it): a ref_ptr where the read
  /// must keep it alive, a plain pointer where the caller does. Static, so that the frame holds
  /// that one pointer and no `this` beside it (8 bytes: a malloc size class on every idle
  /// connection).
  template <typename Self, typename Attempt>
  static auto read_until(Self self, Attempt attempt)
      -> asio::awaitable<attempt_result<Self, Attempt>> {
    std::error_code error;
    while (true) {
      // No named local for the result: GCC keeps every local of a coroutine in its frame, for
      // the whole wait (64 bytes here for a read_result); it goes by way of finished_read.
      if (attempt_finished(*self, attempt, error)) {
        co_return take_finished_read<attempt_result<Self, Attempt>>();
      }
      error = self->begin_read();
      if constexpr (reads_without_waiting) {
        // The steps are plain functions: what they keep on the stack takes no room in this
        // frame, which every idle connection holds.
        while (!error && !self->read_now_or_suspend(error)) {
          co_await resume_after([core = std::addressof(*self)](
                                    auto resume) { core->suspend_read(std::move(resume)); },
                                error);
          error = self->resume_read(error);
        }
      } else if (!error) {
        error = co_await self->read_through_asio();
      }
      self->reading_ = false;
    }
  }

  /// Reads once from the stream into the read buffer (see read_until).
  asio::awaitable<std::error_code> read_some() {
    return read_until(
        this,
        [first = true](connection_core&,
                       std::error_code error) mutable -> std::optional<std::error_code> {
          if (std::exchange(first, false)) return std::nullopt;
          return error;
        });
  }

  // ---- receiving without a coroutine frame (framed_connection::receive_more) -----------------

  /// try_read()'s read from a stream read without waiting: one read. Returns true when it
  /// read (the bytes are in the read buffer, or `error` says why not), false when the socket is
  /// empty or other work gets its turn first (see read_now_or_suspend).
  bool read_without_waiting(std::error_code& error) {
    error = begin_read();
    const bool done = error || read_now_or_suspend(error);
    reading_ = false;
    return done;
  }

  /// receive_more()'s read, started once the awaiting coroutine is suspended (`continuation`: a
  /// suspended_coroutine, or any object with resume(), get_executor() and
  /// get_cancellation_slot()): one read, after waiting for input if there is none, then
  /// continuation.resume(); how the read ended is kept for try_read() (end_receive). The steps
  /// run as the wait's completions, not in a coroutine, so that an idle connection holds the
  /// wait and nothing else: a read() frame was 201 bytes on a socket, and a TLS read through
  /// Asio's coroutines held two frames.
  template <typename Continuation>
  static void receive(connection_core* core, Continuation continuation) {
    if (core->reading_) {  // A read() is in progress: try_read() says so.
      resume_later(std::move(continuation));
      return;
    }
    std::error_code error = core->begin_read();
    if constexpr (reads_without_waiting) {
      // try_read() found the socket empty just now: the wait needs no other read first.
      if (!error && (core->waiting_readable_ || !core->read_now_or_suspend(error))) {
        core->suspend_read(receive_continuation<Continuation>{ref_ptr<connection_core>{core},
                                                              std::move(continuation)});
        return;
      }
    } else if (!error) {
      asio_receive<Continuation>::start(core, std::move(continuation));
      return;
    }
    core->end_receive(error);
    resume_later(std::move(continuation));
  }

  /// receive_more() ended with `error` (empty: it brought bytes). The end of the stream and the
  /// connection's failure are what decoding and failure() report; a timeout or a cancellation
  /// is kept for the next try_read() to report once.
  void end_receive(std::error_code error) {
    reading_ = false;
    if (!error || failure_ || closed_) return;
    if (error == asio::error::eof) {
      set_end_of_stream();
    } else if (error == errc::timed_out) {
      receive_ended_ = static_cast<std::uint8_t>(receive_end::timed_out);
    } else if (error == asio::error::operation_aborted) {
      receive_ended_ = static_cast<std::uint8_t>(receive_end::cancelled);
    } else {
      fail(error);  // The stream is broken (a reset): nothing more can be read or sent.
    }
  }

  /// What end_receive() kept (errc::timed_out or operation_aborted), once; empty if nothing.
  std::error_code take_receive_end() noexcept {
    const auto ended = static_cast<receive_end>(receive_ended_);
    receive_ended_ = 0;
    if (ended == receive_end::timed_out) return errc::timed_out;
    if (ended == receive_end::cancelled) return asio::error::operation_aborted;
    return {};
  }

  // ---- writing -------------------------------------------------------------------------------

  /// Whether one more message may be queued now (an empty queue always takes one).
  bool has_room() const noexcept { return queue_.has_room(options_.send_queue_limit()); }

  /// The buffer encoders append to; call commit_queued() after appending a message.
  std::string& queue() noexcept { return queue_.pending(); }

  /// Counts the message just appended and starts sending it, unless a send is already in
  /// flight (its completion sends everything queued meanwhile, as one write). With
  /// `more_to_read` (the input holds bytes past the message being answered: most likely more
  /// messages, so more replies), the send starts once the handler running now has given up
  /// its turn instead, so that the replies to one read leave in one write rather than the
  /// first alone and the rest after it.
  void commit_queued(bool more_to_read = false) {
    if (observer_) observer_->messages_sent.add(1);
    if (!send_may_start()) return;
    if (more_to_read) {
      defer_send();
    } else {
      start_send();
    }
  }

  /// Starts the send commit_queued deferred, if it has not started yet: before the stream is
  /// shut down under it, the bytes go to the socket as they would have without the deferral.
  void send_deferred_now() {
    if (send_may_start()) start_send();
  }

  /// A message was not queued for lack of room (the drop policy, or try_write()).
  void count_queue_drop() {
    if (observer_) observer_->report_send_queue_drop();
  }

  /// Waits until has_room() or the connection fails. Returns the failure, or operation_aborted
  /// if the calling coroutine was cancelled.
  asio::awaitable<std::error_code> wait_for_room() {
    return wait_until([this] { return has_room(); });
  }

  /// wait_for_room() for a caller that is not a coroutine: calls `resume()` once has_room(), or
  /// once the connection has failed or closed, or after cancel_waits(); never from inside this
  /// call. The caller checks again what it waited for.
  template <typename Resume>
  void when_room(Resume resume) {
    if (has_room() || failure_ || closed_) {
      asio::post(stream_.get_executor(), std::move(resume));
      return;
    }
    if (!room_) room_ = std::make_unique<wake_signal>(stream_.get_executor());
    ++waiting_;
    room_->async_wait([self = ref_ptr<connection_core>{this},
                       resume = std::move(resume)](std::error_code /*woken*/) mutable {
      --self->waiting_;
      resume();
    });
  }

  /// Ends a receive() in progress with operation_aborted (try_read() reports it once) and wakes
  /// the callers of when_room(): what a server's stop does to a handler that is not a
  /// coroutine, whose waits are bound to no cancellation slot.
  void cancel_waits() {
    if (reading_) {
      read_cancel_.emit(asio::cancellation_type::terminal);
      if (waiting_readable_) cancel_input_wait();
    }
    wake_waiters();
  }

  /// Waits until everything queued has been handed to the stream (or the connection fails).
  asio::awaitable<std::error_code> wait_until_sent() {
    return wait_until([this] { return queued_bytes() == 0; });
  }

  /// Sends `count` bytes of `file` from `offset`, after everything queued before it; messages
  /// written meanwhile are queued behind it. A failure part-way leaves the stream mid-file, so
  /// it ends the connection.
  asio::awaitable<std::error_code> send_file(int file, std::uint64_t offset, std::uint64_t count) {
    if (const std::error_code error = co_await wait_until_sent()) co_return error;
    if (!is_open()) co_return make_error_code(errc::connection_closed);
    writing_ = true;  // Hold the writer's role: write() only queues until we are done.
    std::error_code error = co_await transfer_file(
        stream_, file, offset, count, [this] { begin_write_deadline(); },
        [this](std::size_t sent) { count_sent(sent); });
    writing_ = false;
    write_deadline_ = clock::time_point::max();
    if (error) {
      if (!closed_) fail(error);
      if (failure_) error = failure_;
    } else if (send_ended() && is_open()) {
      if constexpr (half_closing_stream<Stream>) send_end_message();
    } else if (queue_.has_pending() && is_open()) {
      start_send();
    }
    wake_waiters();
    co_return error;
  }

  // ---- ending the sending side with the stream's own message (TLS's close_notify) ------------

  /// Whether write() must refuse: the sending side was ended (shutdown(send) over TLS).
  bool send_ended() const noexcept {
    if constexpr (half_closing_stream<Stream>) {
      return send_end_ != send_end::open;
    } else {
      return false;
    }
  }

  /// Ends the sending side with the stream's end message, right after the batch in flight (a
  /// batch cannot be cut inside a TLS record); bytes queued behind it are discarded, as a
  /// socket's shutdown(send) discards them, and later writes are refused. Returns at once:
  /// wait_until_send_ended() waits for the message to be sent.
  void end_sending() requires half_closing_stream<Stream> {
    if (send_end_ != send_end::open || !is_open()) return;
    send_end_ = send_end::requested;
    if (writing_) return;
    if (queue_.has_pending()) {
      start_send();  // Deferred (commit_queued): its completion sends the end message.
    } else {
      send_end_message();
    }
  }

  /// Waits until end_sending()'s message has been handed to the socket (or the connection
  /// failed: returns why).
  asio::awaitable<std::error_code> wait_until_send_ended() requires half_closing_stream<Stream> {
    return wait_until([this] { return send_end_ == send_end::sent; });
  }

  // ---- closing -------------------------------------------------------------------------------

  /// Ends the connection with `error` (the first error wins): closes the stream, which aborts
  /// every pending operation, and wakes everyone waiting.
  void fail(std::error_code error) {
    if (!failure_) {
      failure_ = error;
      ended_by_ = reason_for_failure(error);
    }
    close();
  }

  /// Closes the stream now; queued bytes are discarded and the observer is detached.
  void close() {
    if (closed_) return;
    closed_ = true;
    observer_ = nullptr;
    std::error_code ignored;
    stream_.close(ignored);
    deadlines_->cancel(*this);
    watchdog_expiry_ = clock::time_point::max();
    wake_waiters();
    queue_.discard_pending();
  }

 private:
  // Buffers up to small_buffer_size are given back as soon as the connection waits for its
  // peer, so an idle connection holds none; they go to the thread's buffer cache, from which
  // the next burst (of any connection) takes its buffers. Larger ones, which a busy connection
  // would otherwise reallocate and grow again on every burst, go once it has been quiet for
  // large_buffer_linger.
  static constexpr std::size_t small_buffer_size = 4096;
  static constexpr std::chrono::seconds large_buffer_linger{1};
  // Reads taken straight from the descriptor before other work gets a turn (see read_until).
  static constexpr std::uint8_t reads_in_a_row_limit = 4;
  enum class receive_end : std::uint8_t { none, timed_out, cancelled };
  // The largest single read: read sizes are kept in 32 bits (every connection holds them).
  static constexpr std::size_t max_single_read = std::size_t{1} << 30;

  close_reason reason_for_failure(std::error_code error) const noexcept {
    if (error == errc::slow_consumer) return close_reason::slow_consumer;
    if (error == errc::timed_out) return writing_ ? close_reason::write_timeout : ended_by_;
    if (error == asio::error::eof) return close_reason::peer_closed;
    // Asio's system errors have a category of their own ("asio.system"), not std's.
    if (error.category() == asio::error::get_system_category() ||
        error.category() == std::system_category()) {
      return close_reason::reset;
    }
    return close_reason::protocol_error;  // A codec's error, in coronet's or its own category.
  }

  // Only while waiting for readability (no read holds the input buffer) with nothing to send.
  void release_buffers(bool large_ones_too) noexcept {
    if (large_ones_too || input_.capacity() <= small_buffer_size) input_.release(small_buffer_size);
    if (writing_ || queue_.has_pending()) return;
    queue_.release(small_buffer_size, large_ones_too);
  }

  bool holds_large_buffers() const noexcept {
    return input_.capacity() > small_buffer_size || queue_.holds_more_than(small_buffer_size);
  }

  // The connection has nothing to do until its peer sends: give back what it need not hold.
  void on_quiet() {
    release_buffers(false);
    if (holds_large_buffers()) {
      arm_watchdog(std::max(last_receive_, last_sent_) + large_buffer_linger);
    }
  }

  void wake_waiters() {
    if (waiting_ > 0) room_->notify_all();
  }

  // A read from the stream begins: its deadline is the earlier of the idle and read timeouts.
  std::error_code begin_read() {
    if (failure_) return failure_;
    if (closed_) return errc::connection_closed;
    read_deadline_ = read_call_deadline_;
    if (options_.idle_timeout().count() > 0) {
      read_deadline_ = std::min(read_deadline_, last_receive_ + options_.idle_timeout());
    }
    reading_ = true;
    read_timed_out_ = false;
    receive_ended_ = 0;
    if (read_deadline_ != clock::time_point::max()) arm_watchdog(read_deadline_);
    return {};
  }

  // The free space a read fills: next_read_size_ bytes (reads that fill it ask for more next
  // time, up to max_read_size).
  asio::mutable_buffer read_space() {
    const std::span<char> space = input_.prepare(next_read_size_);
    offered_ = static_cast<std::uint32_t>(std::min(space.size(), max_single_read));
    return asio::buffer(space.data(), offered_);
  }

  // One read through Asio's async_read_some (every stream not read without waiting). A
  // coroutine of its own, so that the read loop's frame, which idle socket connections hold,
  // stays small.
  asio::awaitable<std::error_code> read_through_asio() {
    asio::cancellation_state caller = co_await asio::this_coro::cancellation_state;
    forward_cancellation(caller.slot(), read_cancel_);
    if constexpr (readiness_stream<Stream>) {
      // Wait for the peer holding no read buffer, as a descriptor stream's read does.
      if (!stream_.poll_input()) {
        waiting_readable_ = true;
        on_quiet();
        auto [wait_error] = co_await stream_.async_wait_readable(
            asio::bind_cancellation_slot(read_cancel_.slot(), tuple_awaitable));
        waiting_readable_ = false;
        if (wait_error) {
          if (caller.slot().is_connected()) caller.slot().clear();
          co_return end_read(wait_error, 0);
        }
      }
    }
    auto [error, count] = co_await stream_.async_read_some(
        read_space(), asio::bind_cancellation_slot(read_cancel_.slot(), tuple_awaitable));
    if (caller.slot().is_connected()) caller.slot().clear();
    co_return end_read(error, count);
  }

  // A finished read's result, carried from the attempt that made it to the co_return right
  // after it (nothing runs between the two on this thread: no suspension), so that it takes no
  // room in the read frame, which every idle connection holds.
  template <typename Result>
  static inline thread_local std::optional<Result> finished_read;

  template <typename Connection, typename Attempt>
  static bool attempt_finished(Connection& connection, Attempt& attempt, std::error_code error) {
    auto done = attempt(connection, error);
    if (!done) return false;
    finished_read<typename decltype(done)::value_type>.emplace(std::move(*done));
    return true;
  }

  template <typename Result>
  static Result take_finished_read() {
    std::optional<Result>& finished = finished_read<Result>;
    Result result = std::move(*finished);
    finished.reset();
    return result;
  }

  // Resumes a coroutine that receive() could not wait for: from the executor's queue, since it
  // is still being suspended where receive() runs.
  template <typename Coroutine>
  static void resume_later(Coroutine coroutine) {
    const auto executor = coroutine.get_executor();
    asio::post(executor, [coroutine = std::move(coroutine)]() mutable { coroutine.resume(); });
  }

  // The completion of receive()'s wait on a stream read without waiting: the read loop's next
  // step, then the coroutine goes on. It keeps the connection alive while it waits (its owner
  // may drop it meanwhile); with the suspended coroutine, 16 bytes in the wait operation, which
  // every idle connection holds.
  template <typename Coroutine>
  class receive_continuation {
   public:
    using executor_type = typename Coroutine::executor_type;
    using cancellation_slot_type = asio::cancellation_slot;

    receive_continuation(ref_ptr<connection_core> core, Coroutine coroutine)
        : core_{std::move(core)}, coroutine_{std::move(coroutine)} {}

    executor_type get_executor() const noexcept { return coroutine_.get_executor(); }
    // The coroutine's own: cancelling it cancels the wait (and resume() clears it).
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return coroutine_.get_cancellation_slot();
    }

    void operator()(std::error_code error) {
      connection_core& core = *core_;
      error = core.resume_read(error);
      if (!error && !core.read_now_or_suspend(error)) {
        core.suspend_read(std::move(*this));
        return;
      }
      core.end_receive(error);
      coroutine_.resume();  // core_ keeps the connection until this handler is gone.
    }

   private:
    ref_ptr<connection_core> core_;
    Coroutine coroutine_;
  };

  // receive()'s read from a stream not read without waiting (TLS, the in-memory one),
  // through its async_read_some, as read_through_asio does, with these completions in place of
  // a coroutine: a readiness_stream waits for input holding no read buffer first
  // (wait_for_input). The read is bound to read_cancel_ (the timeouts, cancel_waits()), to
  // which the continuation's own cancellation slot, when it has one (a coroutine's), is
  // forwarded.
  template <typename Continuation>
  class asio_receive {
   public:
    using executor_type = typename Continuation::executor_type;
    // The continuation's, for the wait for input (see wait_for_input).
    using cancellation_slot_type = asio::cancellation_slot;

    static void start(connection_core* core, Continuation continuation) {
      asio_receive step{ref_ptr<connection_core>{core}, std::move(continuation)};
      if constexpr (readiness_stream<Stream>) {
        if (!core->stream_.poll_input()) {
          core->waiting_readable_ = true;
          core->on_quiet();
          core->wait_for_input(std::move(step));
          return;
        }
      }
      step.read_some();
    }

    executor_type get_executor() const noexcept { return continuation_.get_executor(); }
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return continuation_.get_cancellation_slot();
    }

    // The wait for input ended.
    void operator()(std::error_code error) {
      connection_core& core = *core_;
      core.waiting_readable_ = false;
      if (error) {
        finish(core.end_read(error, 0));
        return;
      }
      // A wait in the reactor may end once at its start without input (it is speculative, as
      // a descriptor stream's is): then it waits again, rather than in a read holding a buffer.
      if constexpr (readiness_stream<Stream>) {
        if (!core.stream_.poll_input()) {
          core.waiting_readable_ = true;
          core.wait_for_input(std::move(*this));
          return;
        }
      }
      read_some();
    }

    // The read ended.
    void operator()(std::error_code error, std::size_t count) {
      finish(core_->end_read(error, count));
    }

   private:
    asio_receive(ref_ptr<connection_core> core, Continuation continuation)
        : core_{std::move(core)}, continuation_{std::move(continuation)} {}

    void read_some() {
      connection_core& core = *core_;
      forward_cancellation(continuation_.get_cancellation_slot(), core.read_cancel_);
      core.stream_.async_read_some(
          core.read_space(),
          asio::bind_cancellation_slot(core.read_cancel_.slot(), std::move(*this)));
    }

    void finish(std::error_code error) {
      core_->end_receive(error);
      continuation_.resume();  // core_ keeps the connection until this handler is gone.
    }

    ref_ptr<connection_core> core_;
    Continuation continuation_;
  };

  // A readiness_stream's wait for input, holding no read buffer; `handler(error)` is cancelled
  // through its own cancellation slot or by the read timeout (read_cancel_ and
  // cancel_input_wait()). A stream over a socket (tls_stream::socket(), and WebSocket's over
  // TLS) waits on that socket as a descriptor stream does (inline_wait.hpp: 88 bytes in the
  // reactor, where Asio's async_wait takes 201, on every idle connection); poll_input() has just
  // found the socket empty, as that wait requires.
  template <typename Handler>
  void wait_for_input(Handler handler) {
    if constexpr (requires { stream_.socket(); }) {
      async_wait_readable(stream_.socket(), std::move(handler), read_cancel_,
                          deadlines_->reactor());
    } else {
      forward_cancellation(asio::get_associated_cancellation_slot(handler), read_cancel_);
      stream_.async_wait_readable(
          asio::bind_cancellation_slot(read_cancel_.slot(), std::move(handler)));
    }
  }

  // Cancels a wait for input in the reactor (a socket's), which read_cancel_ does not reach.
  void cancel_input_wait() {
    if constexpr (is_descriptor_stream_v<Stream> || requires { stream_.socket(); }) {
      cancel_readable_wait(readable_socket(), deadlines_->reactor());
    }
  }

  // The socket whose readability a connection waits for: the stream itself, or the one under it.
  auto& readable_socket() noexcept {
    if constexpr (is_descriptor_stream_v<Stream>) {
      return stream_;
    } else {
      return stream_.socket();
    }
  }

  // One step of a read from a stream read without waiting (reads_without_waiting). Returns true
  // when the read is over (the bytes are in the input buffer, or `error` says why not), false
  // when the reading coroutine must suspend in suspend_read first.
  //
  // A read takes what the socket has without waiting; if it has nothing, the coroutine waits
  // for readability holding no buffer (or only the part of a message already received), so an
  // idle connection costs no buffer. A peer that keeps the socket full gets
  // reads_in_a_row_limit reads straight from it; then the coroutine lets everything else that
  // is ready run first (other connections, and this one's write completions), as a read
  // through Asio's queue would.
  bool read_now_or_suspend(std::error_code& error) {
    // Set when the socket is found empty; cleared by anything else (try_read() sets it with no
    // wait following, and the next read may find bytes).
    waiting_readable_ = false;
    if (reads_in_a_row_ == reads_in_a_row_limit) {
      reads_in_a_row_ = 0;
      return false;  // Give the others a turn.
    }
    const std::size_t count = stream_.read_some(read_space(), error);
    if (count == 0 && error == asio::error::would_block) {
      error = {};
      waiting_readable_ = true;
      on_quiet();
      return false;
    }
    ++reads_in_a_row_;
    error = end_read(error, count);
    return true;
  }

  // Where the reading coroutine waits: for readability (cancelled by a timeout or by the
  // coroutine's own cancellation), or, when it is the others' turn, behind everything else
  // ready on the executor. `resume` continues it.
  template <typename Resume>
  void suspend_read(Resume resume) {
    if (waiting_readable_) {
      // read_now_or_suspend found the socket empty: the wait need not re-arm it.
      async_wait_readable(readable_socket(), std::move(resume), read_cancel_,
                          deadlines_->reactor());
    } else {
      asio::post(stream_.get_executor(),
                 asio::experimental::append(std::move(resume), std::error_code{}));
    }
  }

  // The reading coroutine goes on after suspend_read, the wait's result in `error`.
  std::error_code resume_read(std::error_code error) {
    if (waiting_readable_) {
      waiting_readable_ = false;
      reads_in_a_row_ = 0;
      return error ? end_read(error, 0) : error;  // A timeout or failure says so.
    }
    // Other work had its turn; meanwhile this read may have timed out, or the connection closed.
    if (read_timed_out_) return errc::timed_out;
    if (failure_) return failure_;
    if (closed_) return errc::connection_closed;
    return {};
  }

  // A read from the stream ended with `count` bytes, or with `error`.
  std::error_code end_read(std::error_code error, std::size_t count) {
    if (count > 0) {
      input_.commit(count);
      if (observer_) observer_->bytes_received.add(count);
      last_receive_ = clock::now();
      start_message_clock();
      if (count == offered_)
        next_read_size_ = static_cast<std::uint32_t>(std::min<std::size_t>(
            {std::size_t{next_read_size_} * 2, options_.max_read_size(), max_single_read}));
      return {};
    }
    if (failure_) return failure_;
    if (error == asio::error::operation_aborted && read_timed_out_) return errc::timed_out;
    if (error == asio::error::eof) {
      ended_by_ = close_reason::peer_closed;
      if constexpr (requires { stream_.truncated(); }) {
        if (stream_.truncated()) ended_by_ = close_reason::truncated;
      }
    } else if (error && error != asio::error::operation_aborted) {
      ended_by_ = close_reason::reset;
    }
    return error;
  }

  // Starts the current read() call's read_timeout clock, unless it runs already (or is off), at
  // the last receive: the buffered bytes arrived by then. Not clock::now(): this runs for every
  // message a read() call takes from the buffer, and reading the clock costs about 80 ns on a
  // virtual machine (7 % of echo_server's time under W2 went to it).
  void start_message_clock() noexcept {
    if (options_.read_timeout().count() > 0 && read_call_deadline_ == clock::time_point::max()) {
      read_call_deadline_ = last_receive_ + options_.read_timeout();
    }
  }

  template <typename Condition>
  asio::awaitable<std::error_code> wait_until(Condition condition) {
    while (!condition()) {
      if (failure_) co_return failure_;
      if (closed_) co_return make_error_code(errc::connection_closed);
      if (!room_) room_ = std::make_unique<wake_signal>(stream_.get_executor());
      ++waiting_;
      co_await room_->async_wait(tuple_awaitable);  // Woken by progress, failure or cancellation.
      --waiting_;
      asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
      if (state.cancelled() != asio::cancellation_type::none) {
        co_return make_error_code(asio::error::operation_aborted);
      }
    }
    co_return failure_;
  }

  void begin_write_deadline() {
    if (options_.write_timeout().count() > 0) {
      write_deadline_ = clock::now() + options_.write_timeout();
      arm_watchdog(write_deadline_);
    }
  }

  void count_sent(std::size_t bytes) noexcept {
    if (observer_) observer_->bytes_sent.add(bytes);
  }

  // Something is queued, no send is in flight to take it, and the stream is open.
  bool send_may_start() const noexcept { return !writing_ && queue_.has_pending() && is_open(); }

  // Starts the send after the handler running now (see commit_queued); once per batch.
  void defer_send() {
    if (send_deferred_) return;
    send_deferred_ = true;
    asio::defer(stream_.get_executor(), [self = ref_ptr<connection_core>{this}] {
      self->send_deferred_ = false;
      self->send_deferred_now();
    });
  }

  void start_send() {
    writing_ = true;
    queue_.begin_batch();
    begin_write_deadline();
    send_rest();
  }

  // Hands the rest of the batch to the stream. What it takes stops counting against the queue
  // limit at once (see send_queue).
  void send_rest() {
    stream_.async_write_some(queue_.unsent(), [self = ref_ptr<connection_core>{this}](
                                                  std::error_code error, std::size_t count) {
      self->count_sent(count);
      const bool batch_done = self->queue_.hand_over(count);
      if (error || self->closed_ || batch_done) {
        self->on_sent(error);
        return;
      }
      self->wake_waiters();          // Room was made.
      self->begin_write_deadline();  // Progress: the write timeout bounds a stall, not a batch.
      self->send_rest();
    });
  }

  void on_sent(std::error_code error) {
    writing_ = false;
    write_deadline_ = clock::time_point::max();
    queue_.end_batch(options_.send_queue_limit());
    if (error) {
      if (!closed_) fail(error);  // After close(), an aborted write is expected, not a failure.
    } else if (send_ended() && is_open()) {
      if constexpr (half_closing_stream<Stream>) send_end_message();
    } else if (queue_.has_pending() && is_open()) {
      start_send();
    } else if (waiting_readable_) {
      last_sent_ = clock::now();
      on_quiet();  // Sent everything and waiting for the peer.
    }
    wake_waiters();
  }

  // The end message takes the writer's role, as a batch does (bounded by the write timeout).
  void send_end_message() requires half_closing_stream<Stream> {
    if (send_end_ != send_end::requested) return;
    queue_.discard_pending();
    writing_ = true;
    begin_write_deadline();
    stream_.async_send_close_notify([self = ref_ptr<connection_core>{this}](std::error_code error) {
      self->writing_ = false;
      self->write_deadline_ = clock::time_point::max();
      self->send_end_ = send_end::sent;
      if (error && !self->closed_) self->fail(error);
      self->wake_waiters();
    });
  }

  // The watchdog is this connection's place in its context's deadline_service. Deadlines
  // change on every read (a plain store); the watchdog is queued again only when a deadline
  // moves earlier than where it waits, and otherwise wakes at most once per timeout period,
  // re-checks and waits again.
  void arm_watchdog(clock::time_point deadline) {
    if (closed_ || watchdog_expiry_ <= deadline) return;
    watchdog_expiry_ = deadline;
    deadlines_->schedule(*this, deadline, stream_.get_executor());
  }

  // Called by the deadline service, possibly on another thread and with the service locked:
  // hands the check to this connection's executor. The reference taken here must not be the
  // last one dropped under that lock (the destructor takes it too), so it travels with the post.
  static void on_deadline(deadline_entry& entry) {
    auto& self = static_cast<connection_core&>(entry);
    if (auto alive = ref_ptr<connection_core>::if_alive(&self)) {
      const auto executor = alive->stream_.get_executor();
      asio::post(executor, [alive = std::move(alive)] {
        alive->watchdog_expiry_ = clock::time_point::max();
        alive->on_watchdog();
      });
    }
  }

  void on_watchdog() {
    if (closed_) return;
    const clock::time_point now = clock::now();
    if (writing_ && now >= write_deadline_) {
      fail(errc::timed_out);
      return;
    }
    if (reading_ && now >= read_deadline_) {
      read_timed_out_ = true;
      ended_by_ =
          now >= read_call_deadline_ ? close_reason::read_timeout : close_reason::idle_timeout;
      // A read is bound to read_cancel_ (a timeout must not cancel writes), except a wait in
      // the reactor (a socket's), which is cancelled by its key.
      read_cancel_.emit(asio::cancellation_type::terminal);
      if (waiting_readable_) cancel_input_wait();
    }
    clock::time_point next = clock::time_point::max();
    if (waiting_readable_ && !read_timed_out_ && holds_large_buffers()) {
      const clock::time_point quiet_until =
          std::max(last_receive_, last_sent_) + large_buffer_linger;
      if (now >= quiet_until) {
        release_buffers(true);
      } else {
        next = quiet_until;
      }
    }
    if (reading_ && !read_timed_out_) next = std::min(next, read_deadline_);
    if (writing_) next = std::min(next, write_deadline_);
    if (next != clock::time_point::max()) arm_watchdog(next);
  }

  // Three counters that never need 64 bits, first: the one after the last of deadline_entry
  // fills the padding it ends with (every connection holds these bytes).
  std::uint32_t offered_ = 0;  // The size of the space the read in progress fills.
  std::uint32_t next_read_size_ = 4096;
  std::uint32_t waiting_ = 0;  // Coroutines waiting on room_.

  Stream stream_;
  packed_options options_;
  read_buffer input_;

  send_queue queue_;
  connection_observer* observer_ = nullptr;

  deadline_service* deadlines_;
  // Where the watchdog waits, as this connection knows it (the service's copy is under its
  // lock): max() while not queued or once it has fired.
  clock::time_point watchdog_expiry_ = clock::time_point::max();
  // Writers waiting for room (or for the queue to drain) wait on this: progress, failure or
  // close wakes them. Made on first use: most connections never wait, and an idle one should
  // not pay for it.
  std::unique_ptr<wake_signal> room_;
  asio::cancellation_signal read_cancel_;

  clock::time_point last_receive_;
  clock::time_point last_sent_;  // When the last batch was sent (taken only when idle follows).
  clock::time_point read_call_deadline_ = clock::time_point::max();
  clock::time_point read_deadline_ = clock::time_point::max();
  clock::time_point write_deadline_ = clock::time_point::max();

  std::error_code failure_;
  // The flags together, after the rest: every connection holds them, padding included.
  //
  // Legal combinations (anything not listed cannot happen):
  // - closed_ is final: once set, reading_/writing_ only go back to false as the aborted
  //   operations complete, and nothing sets them again (begin_read and commit_queued check).
  // - waiting_readable_ with reading_: a read waits for readability, holding no buffer (a
  //   descriptor stream's, or a readiness_stream's through async_wait_readable); without
  //   reading_: try_read() found the descriptor empty and nothing has read it since, so the
  //   next wait (receive()) need not read first. reading_ without it means a read is in
  //   progress or it is giving the others a turn.
  // - receive_ended_ is none while reading_; begin_read clears it, take_receive_end reports it.
  // - read_timed_out_ implies reading_ until that read completes; the next begin_read clears it.
  // - writing_ means one batch (or a send_file) is in flight; with closed_ it is completing.
  // - end_of_stream_ may hold with any other flag: the stream ended and decoding drains the
  //   buffer; later reads of the stream return end of stream again.
  // - ended_by_ is none until a read or write ends for good, then the last such reason.
  // - send_deferred_ means a defer_send handler is queued; it may hold with any other flag (the
  //   handler starts nothing if a send is in flight, nothing is queued, or the connection ended).
  bool writing_ = false;
  bool reading_ = false;
  bool read_timed_out_ = false;
  bool closed_ = false;
  bool waiting_readable_ = false;        // The descriptor was found empty (see above).
  bool end_of_stream_ = false;           // A read saw the end of the stream.
  std::uint8_t reads_in_a_row_ : 5 = 0;  // Straight from the socket, since the last turn given.
  std::uint8_t send_deferred_ : 1 = 0;   // defer_send's start is queued.
  // How the last receive() ended, if try_read() must say so (end_receive): a receive_end.
  std::uint8_t receive_ended_ : 2 = 0;
  close_reason ended_by_ = close_reason::none;
  // Only for streams with an end message of their own (TLS), so a socket's state stays as it
  // was: open -> requested (end_sending: the message waits for the batch in flight; writing_
  // may be set) -> sent (final; set when the message's write completes, whatever its result).
  // requested and sent refuse new writes.
  enum class send_end : std::uint8_t { open, requested, sent };
  struct no_send_end {};
  [[no_unique_address]] std::conditional_t<half_closing_stream<Stream>, send_end, no_send_end>
      send_end_{};
};

}  // namespace coronet::detail
