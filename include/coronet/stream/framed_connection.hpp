// framed_connection: any stream codec joined to any Asio byte stream (TCP, Unix socket, the
// in-memory test stream). It is the one read path and the one write path every coronet endpoint
// uses: read() decodes messages, write() encodes them into a bounded send queue that a single
// writer drains, coalescing whatever was queued meanwhile into one write.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/socket_base.hpp>
#include <asio/steady_timer.hpp>

#include "coronet/codec/codec_concepts.hpp"
#include "coronet/connection_observer.hpp"
#include "coronet/error.hpp"
#include "coronet/read_result.hpp"
#include "coronet/stream/connection_options.hpp"
#include "coronet/stream/detail/connection_core.hpp"
#include "coronet/stream/detail/decoded_view.hpp"
#include "coronet/stream/encoded_message.hpp"
#include "coronet/stream/stream_concepts.hpp"

namespace coronet {

namespace detail {

// Everything a framed_connection owns. Shared with its own suspended operations, so that
// destroying the connection while a read() or write() waits ends them with an error instead of
// resuming them into freed memory.
template <typename Codec, typename Stream>
struct framed_state : connection_core<Stream> {
  framed_state(Stream stream, Codec connection_codec, const connection_options& options)
      : connection_core<Stream>(std::move(stream), options), codec{std::move(connection_codec)} {
    if constexpr (!resettable_codec<Codec>) fresh_codec = codec;
  }

  // Back to no decode state, after raw reads (recv_into).
  void reset_codec() {
    if constexpr (resettable_codec<Codec>) {
      codec.reset();
    } else {
      codec = *fresh_codec;
    }
  }

  // Drops the last message's bytes from the read buffer (a message read() returned is valid
  // until then), and the record that writing that message back needs no second check.
  void drop_last_message() noexcept {
    this->input().consume(std::exchange(consume_before_read, 0));
    forget_decoded(&codec);
  }

  // What a member below holds when its codec needs none: an empty type of its own, since two
  // empty members of one type (std::monostate) cannot share an address and one would take a
  // byte, and with it 8 of padding.
  struct no_fresh_codec {};
  struct no_read_failure {};

  Codec codec;
  // A copy with no decode state, only for a codec that cannot reset() itself.
  [[no_unique_address]] std::conditional_t<resettable_codec<Codec>, no_fresh_codec,
                                           std::optional<Codec>>
      fresh_codec;
  // The last message's bytes, dropped at the next read (at most the read buffer's size, which
  // is 32-bit).
  std::uint32_t consume_before_read = 0;

  // What ended reading for a codec that answers its fatal errors (answering_codec): the
  // connection stays writable, and every later read() returns this.
  struct read_failure {
    std::error_code error;
    std::string_view reason;
  };
  [[no_unique_address]] std::conditional_t<answering_codec<Codec>, read_failure, no_read_failure>
      reading_ended;
};

}  // namespace detail

/// A stream taken out of a framed_connection by release_stream(), with the bytes that had
/// arrived but were not decoded (a peer's first bytes in the protocol it switched to).
template <typename Stream>
struct released_stream {
  Stream stream;
  std::string unread;
};

/// A message-oriented connection: `Codec` frames the bytes of `Stream`.
///
/// Not thread-safe: use it from its executor (one thread, or a strand). Several coroutines may
/// write concurrently (they are queued in order); one coroutine reads at a time.
template <stream_codec Codec, byte_stream Stream>
class framed_connection {
 public:
  using codec_type = Codec;
  using stream_type = Stream;
  using message_type = typename Codec::message_type;
  /// What write() takes: message_type, or the codec's outgoing_type (see outgoing_message).
  using outgoing_type = outgoing_message_t<Codec>;
  using executor_type = typename Stream::executor_type;

  /// Takes ownership of a connected stream.
  explicit framed_connection(Stream stream, Codec codec = Codec{},
                             const connection_options& options = {})
      : core_{detail::make_ref<state>(std::move(stream), std::move(codec), options)} {}

  framed_connection(framed_connection&&) noexcept = default;
  framed_connection& operator=(framed_connection&& other) noexcept {
    if (this != &other) {
      if (core_) core_->close();
      core_ = std::move(other.core_);
    }
    return *this;
  }
  /// Closes the stream (queued bytes are discarded: call flush() or close_gracefully() first).
  /// Operations still suspended on this connection end with an error.
  ~framed_connection() {
    if (core_) core_->close();
  }

  executor_type get_executor() { return core_->stream().get_executor(); }

  /// The next message, or why there is none (see read_result). A message that views into the
  /// read buffer (std::string_view for the built-in codecs) is valid until the next read() (or
  /// try_read()).
  /// After a recoverable codec error (an over-long or non-UTF-8 line) reading can go on; after
  /// any other error every later read() returns an error too (the connection is closed, except
  /// that an answering_codec's fatal error leaves it writable for the answer).
  asio::awaitable<read_result<message_type>> read() { return read_next(core_); }

  /// read() without waiting: the next message from the bytes already received, or, if they
  /// hold none, from one read of a socket that does not wait (Python's recv on a non-blocking
  /// socket; other streams, TLS among them, are read only by read() and receive_more()).
  /// Otherwise asio::error::would_block (like Python's BlockingIOError): nothing more without
  /// waiting, or other connections get their turn first; then co_await receive_more().
  /// Everything else comes back as from read(): the end, codec errors, the connection's
  /// failure, and once how the last receive_more() ended if it brought nothing (errc::timed_out,
  /// or operation_aborted if the caller was cancelled); asio::error::already_started while a
  /// read() is in progress. A view into the read buffer stays valid until the next read(),
  /// try_read() or receive_more().
  ///
  /// Every co_await of read() or write() resumes the calling coroutine, even when there is
  /// nothing to wait for, and with Asio's awaitable that costs about as much as decoding and
  /// encoding a short line. A handler that takes messages with try_read() and answers with
  /// try_write() while has_room() resumes once per burst instead (see docs/handlers.md,
  /// "Bursts without suspending, and a wait without a frame").
  read_result<message_type> try_read() {
    using result = read_result<message_type>;
    state& core = *core_;
    if (core.reading()) return result::failure(asio::error::already_started);
    if (auto message = next_buffered(core, true, {})) return std::move(*message);
    if (!core.is_open()) return result::failure(closed_reason(core));
    if (const std::error_code ended = core.take_receive_end()) return result::failure(ended);
    if constexpr (state::reads_without_waiting) {
      std::error_code error;
      if (core.read_without_waiting(error)) {
        if (auto message = next_buffered(core, false, error)) return std::move(*message);
      }
    }
    return result::failure(asio::error::would_block);
  }

  /// Waits until more bytes have been received (or the stream ends, fails or times out, as for
  /// a read()), and returns nothing: take the messages with try_read(), which also reports how
  /// the wait ended. The wait for a handler that needs nothing else: it holds no coroutine
  /// frame, where a suspended read() holds one (about 200 bytes on every idle connection; over
  /// TLS, two).
  ///
  ///     while (true) {
  ///       auto message = conn.try_read();
  ///       for (; message; message = conn.try_read()) { /* answer *message */ }
  ///       if (message.error() != asio::error::would_block) break;  // ended, or failed
  ///       co_await conn.receive_more();
  ///     }
  ///
  /// Bounded by the idle and read timeouts, and cancelled with the calling coroutine. What it
  /// returns is for an asio::awaitable coroutine to co_await at once (wrap it in a coroutine of
  /// your own for the awaitable operators).
  auto receive_more() {
    state& core = *core_;
    core.drop_last_message();
    core.begin_read_call();
    // Only this pointer waits in the caller's frame, in the awaited object.
    return detail::suspend_then(
        [connection = &core](auto coroutine) { state::receive(connection, std::move(coroutine)); });
  }

  /// Encodes `message` into the send queue; the connection's writer sends it. Returns once the
  /// whole message is queued (never part of it), or why it was not: a codec error, the queue
  /// policy (errc::send_queue_full, errc::slow_consumer), a timeout or a closed connection.
  /// With send_queue_policy::wait this suspends while the queue is full. Call flush() to wait
  /// until the bytes have been handed to the operating system.
  asio::awaitable<std::error_code> write(const outgoing_type& message) {
    return write_any(message);
  }

  /// write() of a message encoded once for many connections (see encoded_message): its bytes
  /// are appended as they are. `message` must outlive the call.
  asio::awaitable<std::error_code> write(const encoded_message<Codec>& message) {
    return write_any(message);
  }

  /// Whether the send queue is below connection_options::send_queue_limit: a write() now queues
  /// the message at once, exactly as try_write() does, and the policy for a full queue does not
  /// apply.
  bool has_room() const noexcept { return core_->has_room(); }

  /// Waits until has_room() (asyncio's StreamWriter.drain(): until the queue is below its
  /// limit). Returns the connection's failure if it fails first, or operation_aborted if the
  /// caller is cancelled.
  asio::awaitable<std::error_code> wait_for_room() { return wait_for_room_in(core_); }

  // ---- for code that drives a connection from callbacks, not a coroutine --------------------
  // (the server's reactive sessions: docs/handlers.md, "Handlers without a coroutine")

  /// receive_more() for a caller that is not a coroutine: starts the same wait and calls
  /// `continuation.resume()` when it ends (never from inside this call); try_read() then takes
  /// what it brought, or reports how it ended. `continuation` is a movable object with
  ///   void resume();                              // called once
  ///   executor_type get_executor() const;         // this connection's executor
  ///   asio::cancellation_slot get_cancellation_slot() const;  // may be unconnected
  /// The pending wait holds it and nothing else.
  template <typename Continuation>
  void receive_then(Continuation continuation) {
    state& core = *core_;
    core.drop_last_message();
    core.begin_read_call();
    state::receive(&core, std::move(continuation));
  }

  /// wait_for_room() for a caller that is not a coroutine: calls `resume()` once has_room(),
  /// once the connection fails or closes, or after cancel_waits() (check again which); never
  /// from inside this call.
  template <typename Resume>
  void when_room(Resume resume) {
    core_->when_room(std::move(resume));
  }

  /// Ends a receive_then() in progress with operation_aborted (the next try_read() reports it)
  /// and wakes a when_room() wait: how a caller that is not a coroutine is cancelled.
  void cancel_waits() { core_->cancel_waits(); }

  /// write() without waiting: with send_queue_policy::wait a full queue returns
  /// errc::send_queue_full instead of suspending. Safe to call from plain callbacks.
  std::error_code try_write(const outgoing_type& message) { return queue_message(*core_, message); }

  /// try_write() of a message encoded once for many connections.
  std::error_code try_write(const encoded_message<Codec>& message) {
    return queue_message(*core_, message);
  }

  /// Sends `count` bytes of the open file `file` from `offset` (Python's socket.sendfile), after
  /// what is queued; zero-copy sendfile(2) on Linux sockets, read and write elsewhere. Returns
  /// asio::error::eof if the file ends first. A failure part-way ends the connection.
  asio::awaitable<std::error_code> send_file(int file, std::uint64_t offset, std::uint64_t count) {
    return send_file_from(core_, file, offset, count);
  }

  /// Waits until every queued byte has been handed to the operating system (sendall), or
  /// returns the error that ended the connection.
  asio::awaitable<std::error_code> flush() { return flush_all(core_); }

  /// Graceful close: sends what is queued, half-closes the sending side of a socket so the peer
  /// reads end of stream after the last byte (over TLS: sends close_notify and waits for the
  /// peer's), discards what the peer still sends until it
  /// closes too (closing with unread input would make the kernel reset the connection and the
  /// peer could lose our last bytes), then closes. All of it within `drain_timeout`.
  asio::awaitable<void> close_gracefully(std::chrono::milliseconds drain_timeout) {
    detail::ref_ptr<detail::connection_core<Stream>> core = core_;
    asio::steady_timer deadline{core->stream().get_executor(), drain_timeout};
    deadline.async_wait([core](std::error_code error) {
      if (!error) core->close();
    });
    co_await core->wait_until_sent();
    // A peer that reset the connection reads nothing more: no close_notify or half-close to send
    // (it would only fail with EPIPE: one system call per TLS connection a load generator
    // resets), nothing to drain.
    const bool peer_reset = core->ended_by() == close_reason::reset;
    if constexpr (notifying_stream<Stream>) {
      // No read is in progress (the reader has finished), which an encrypted stream's
      // shutdown needs; it waits for the peer's close_notify, so the deadline bounds it.
      if (core->is_open() && !peer_reset) {
        co_await core->stream().async_close_notify(detail::tuple_awaitable);
      }
    } else if constexpr (socket_stream<Stream>) {
      std::error_code error;
      if (peer_reset) {
        error = asio::error::connection_reset;
      } else if (core->is_open()) {
        core->stream().shutdown(asio::socket_base::shutdown_send, error);
      }
      core->begin_read_call();
      while (!error && core->is_open()) {
        core->input().consume(core->input().readable().size());
        error = co_await core->read_some();
      }
    }
    deadline.cancel();
    core->close();
  }

  /// Closes now; queued bytes are discarded and pending reads and writes end.
  void close() { core_->close(); }

  /// Changes what read() does with recoverable decode errors on this connection (see
  /// connection_options::decode_errors): a handler that answers errors itself asks for report.
  void set_decode_errors(decode_error_policy policy) noexcept { core_->set_decode_errors(policy); }

  /// Reports this connection's events (bytes, messages, decode errors, drops) to `observer`,
  /// or to nobody (nullptr). The observer must outlive the connection or be detached first;
  /// close() detaches it. A server attaches its own to every connection it serves.
  void set_observer(connection_observer* observer) noexcept { core_->set_observer(observer); }

  /// What ended the connection's reading or writing for good, as far as it knows (none while
  /// it is usable): peer_closed, reset, idle_timeout, read_timeout, write_timeout,
  /// slow_consumer or protocol_error.
  coronet::close_reason close_reason() const noexcept { return core_->ended_by(); }

  /// Whether the connection is still usable (not closed, no fatal error).
  bool is_open() const noexcept { return core_ && core_->is_open(); }

  /// The error that ended the connection (a socket error, errc::timed_out, errc::slow_consumer,
  /// a fatal codec error); empty while it is open or after a plain close().
  std::error_code error() const noexcept { return core_->failure(); }

  /// Memory the connection's buffers hold now (read buffer and send queue), in bytes: 0 while
  /// it waits idle. Buffers up to 4 KiB are given back as soon as it waits for its peer with
  /// nothing to send; larger ones (kept through a busy period, not regrown every burst) once it
  /// has been quiet for a second.
  std::size_t buffer_capacity() const noexcept { return core_->buffer_capacity(); }

  /// Bytes queued and not yet handed to the operating system.
  std::size_t queued_bytes() const noexcept { return core_->queued_bytes(); }

  /// Raw bytes, like Python's recv_into: bytes already buffered (not yet decoded) first, else
  /// one read from the stream. Returns the count, or an error (asio::error::eof at end).
  /// Taking raw bytes restarts the codec: use it to switch a stream from framed to raw.
  asio::awaitable<std::pair<std::error_code, std::size_t>> recv_into(std::span<char> buffer) {
    return receive_raw(core_, buffer);
  }

  /// The codec (for its options; its decode state belongs to this connection).
  const Codec& codec() const noexcept { return core_->codec; }
  /// The options this connection runs with (kept in 32 bits: see connection_options).
  connection_options options() const noexcept { return core_->options().unpacked(); }

  /// The underlying stream, for everything socket-level: options (`set_option`), endpoints,
  /// the native handle.
  Stream& stream() noexcept { return core_->stream(); }
  const Stream& stream() const noexcept { return core_->stream(); }

  /// Python's shutdown(SHUT_WR) after sendall: sends what is queued, then ends the sending side
  /// (a socket's shutdown(send); over TLS, close_notify), so the peer reads the end of the
  /// stream after the last message. Reading goes on until the peer closes too. Returns why it
  /// could not (the connection's error). Call it when no other write is in progress.
  asio::awaitable<std::error_code> half_close() requires socket_stream<Stream> ||
      half_closing_stream<Stream> {
    return half_close_after_flush(core_);
  }

  /// Half-closes (send, receive) or fully shuts down the socket, like Python's shutdown().
  /// Queued bytes are not waited for: flush() first to half-close after the last message.
  /// Over TLS (a stream with an end message of its own) shutdown(send) sends close_notify
  /// right after the batch in flight, discards what is queued behind it and refuses later
  /// writes (asio::error::shut_down); reading goes on until the peer's close_notify. TLS
  /// cannot stop receiving alone: shutdown(both) is shutdown(send) there, and shutdown(receive)
  /// returns operation_not_supported.
  std::error_code shutdown(asio::socket_base::shutdown_type what) requires socket_stream<Stream> ||
      half_closing_stream<Stream> {
    std::error_code error;
    if constexpr (socket_stream<Stream>) {
      core_->send_deferred_now();  // Replies written just before go first, as they always did.
      core_->stream().shutdown(what, error);
    } else {
      if (what == asio::socket_base::shutdown_receive) return asio::error::operation_not_supported;
      if (!core_->is_open()) return closed_reason(*core_);
      core_->end_sending();
    }
    return error;
  }

  /// The peer's address (like Python's getpeername()).
  auto remote_endpoint() const requires addressed_stream<Stream> {
    std::error_code ignored;
    return core_->stream().remote_endpoint(ignored);
  }

  /// This side's address (like Python's getsockname()).
  auto local_endpoint() const requires addressed_stream<Stream> {
    std::error_code ignored;
    return core_->stream().local_endpoint(ignored);
  }

  /// Hands the stream to other code, open, for a protocol switch (an HTTP Upgrade to
  /// WebSocket): returns the stream and the bytes received after the last decoded message, and
  /// leaves this connection closed without closing the stream. Call it with no read() or
  /// write() in progress, after flush(); the observer is detached.
  released_stream<Stream> release_stream() {
    detail::read_buffer& input = core_->input();
    core_->drop_last_message();
    released_stream<Stream> released{std::move(core_->stream()), std::string{input.readable()}};
    core_->close();  // Closes only the moved-from shell.
    return released;
  }

  /// Gives up the native socket without closing it (like Python's detach()); pending operations
  /// end with operation_aborted and the connection is closed afterwards.
  auto release() requires socket_stream<Stream> {
    auto handle = core_->stream().release();
    core_->close();
    return handle;
  }

 private:
  using state = detail::framed_state<Codec, Stream>;
  using state_ptr = detail::ref_ptr<state>;

  static asio::awaitable<std::error_code> ready(std::error_code error) { co_return error; }

  // Messages that view the read buffer, of a codec that frames its own decoded messages for
  // less: an echoed line is not checked for UTF-8 and '\n' a second time (see decoded_view).
  static constexpr bool sends_decoded_cheaper =
      reencoding_codec<Codec> && std::is_same_v<message_type, std::string_view>;

  static std::error_code closed_reason(const state& core) {
    const std::error_code failure = core.failure();
    return failure ? failure : make_error_code(errc::connection_closed);
  }

  // The one read path: decode what is buffered, read more only when nothing decodes. The
  // decoding runs inside the core's read loop, so a read() is one coroutine frame.
  static asio::awaitable<read_result<message_type>> read_next(const state_ptr& core) {
    // The frame keeps `core` (the connection lives while a read waits, whoever drops it); the
    // attempt gets the connection from the loop instead of holding a second reference.
    return state::read_until(
        core, [first = true](state& connection, std::error_code read_error) mutable {
          return next_buffered(connection, std::exchange(first, false), read_error);
        });
  }

  // One attempt of the read path: the next message decoded from what is buffered, the reason
  // there is none, or nullopt when more must be read. `first` for a read() call's (or a
  // try_read()'s) first attempt; later attempts get what the read from the stream returned.
  static std::optional<read_result<message_type>> next_buffered(state& connection, bool first,
                                                                std::error_code read_error) {
    using result = read_result<message_type>;
    detail::read_buffer& input = connection.input();
    if (first) {
      if constexpr (answering_codec<Codec>) {
        if (const auto& ended = connection.reading_ended; ended.error) {
          return result::decode_failure(ended.error, ended.reason, false);
        }
      }
      connection.drop_last_message();
      connection.begin_read_call();
    } else if (read_error == asio::error::eof) {
      connection.set_end_of_stream();
    } else if (read_error) {
      return result::failure(read_error);
    }
    while (true) {
      // A cut stream (TLS without close_notify) gets no last, unterminated message: whoever
      // cut the stream may have cut it short.
      const bool final_frame = connection.at_end_of_stream() && !connection.end_was_truncated();
      auto decoded = final_frame ? connection.codec.decode_eof(input.readable())
                                 : connection.codec.decode(input.readable());
      if (decoded.has_message()) {
        connection.consume_before_read = static_cast<std::uint32_t>(decoded.consumed());
        connection.count_message_received();
        if constexpr (sends_decoded_cheaper) {
          detail::remember_decoded(&connection.codec, decoded.message());
        }
        return result::of(std::move(decoded).message());
      }
      input.consume(decoded.consumed());
      if (!decoded.has_error()) break;
      connection.count_decode_error(decoded.error(), decoded.recoverable());
      if (!decoded.recoverable()) {
        if constexpr (answering_codec<Codec>) {
          connection.reading_ended = {decoded.error(), decoded.reason()};
        } else {
          connection.fail(decoded.error());
        }
      }
      // A codec that consumed nothing would report the same error again: return it.
      if (!decoded.recoverable() || decoded.consumed() == 0 ||
          connection.options().decode_errors() == decode_error_policy::report) {
        return result::decode_failure(decoded.error(), decoded.reason(), decoded.recoverable());
      }
      if (connection.options().decode_errors() == decode_error_policy::reply) {
        reply_to_decode_error(connection, decoded.error(), decoded.reason());
      }
    }
    if (connection.at_end_of_stream()) {
      if (connection.end_was_truncated() && !input.empty()) {
        return result::failure(errc::truncated_frame, "the stream was cut inside a message");
      }
      return result::failure(asio::error::eof);
    }
    return std::nullopt;  // Read more.
  }

  // decode_error_policy::reply: "error: <what> (<reason>)", queued like try_write() (dropped if
  // the queue is full), for codecs whose messages can hold text.
  static void reply_to_decode_error(state& core, std::error_code error, std::string_view reason) {
    if constexpr (std::is_constructible_v<outgoing_type, std::string_view>) {
      std::string reply = "error: " + error.message();
      if (!reason.empty()) reply.append(" (").append(reason).append(")");
      queue_message(core, outgoing_type{std::string_view{reply}});
    }
  }

  template <typename Message>
  asio::awaitable<std::error_code> write_any(const Message& message) {
    if (core_->has_room() || core_->options().queue_policy() != send_queue_policy::wait) {
      return ready(queue_message(*core_, message));
    }
    return write_when_room(core_, message);
  }

  // The one write path: encode into the queue (whole or not at all) and start the writer.
  template <typename Message>
  static std::error_code queue_message(state& core, const Message& message) {
    if (!core.is_open()) return closed_reason(core);
    if (core.send_ended()) return asio::error::shut_down;  // After shutdown(send) over TLS.
    if (!core.has_room()) {
      if (core.options().queue_policy() != send_queue_policy::disconnect) {
        core.count_queue_drop();
        return errc::send_queue_full;
      }
      core.fail(errc::slow_consumer);
      return errc::slow_consumer;
    }
    std::string& queue = core.queue();
    if constexpr (std::is_same_v<Message, encoded_message<Codec>>) {
      if (!message) return message.error();
      queue.append(message.bytes());
    } else {
      const std::size_t size_before = queue.size();
      std::error_code error;
      if constexpr (sends_decoded_cheaper && std::is_same_v<Message, message_type>) {
        error = detail::is_last_decoded(&core.codec, message)
                    ? core.codec.encode_decoded(message, queue)
                    : core.codec.encode(message, queue);
      } else {
        error = core.codec.encode(message, queue);
      }
      if (error) {
        queue.resize(size_before);  // A codec must not leave half a frame behind.
        return error;
      }
    }
    // Bytes past the message being answered (dropped at the next read): more replies coming.
    core.commit_queued(core.input().readable().size() > core.consume_before_read);
    return {};
  }

  static asio::awaitable<std::error_code> wait_for_room_in(state_ptr core) {
    co_return co_await core->wait_for_room();
  }

  template <typename Message>
  static asio::awaitable<std::error_code> write_when_room(state_ptr core, const Message& message) {
    if (const std::error_code error = co_await core->wait_for_room()) co_return error;
    co_return queue_message(*core, message);
  }

  static asio::awaitable<std::pair<std::error_code, std::size_t>> receive_raw(
      state_ptr core, std::span<char> buffer) {
    detail::read_buffer& input = core->input();
    core->drop_last_message();
    if (input.empty() && !buffer.empty()) {
      core->begin_read_call();
      if (const std::error_code error = co_await core->read_some()) co_return std::pair{error, 0};
    }
    const std::string_view buffered = input.readable();
    const std::size_t count = std::min(buffered.size(), buffer.size());
    std::memcpy(buffer.data(), buffered.data(), count);
    input.consume(count);
    core->reset_codec();
    co_return std::pair{std::error_code{}, count};
  }

  static asio::awaitable<std::error_code> half_close_after_flush(state_ptr core) {
    if (const std::error_code error = co_await core->wait_until_sent()) co_return error;
    if (!core->is_open()) co_return closed_reason(*core);
    if constexpr (half_closing_stream<Stream>) {
      core->end_sending();
      co_return co_await core->wait_until_send_ended();
    } else {
      std::error_code error;
      core->stream().shutdown(asio::socket_base::shutdown_send, error);
      co_return error;
    }
  }

  // Hold the state for the whole wait: the connection may be destroyed meanwhile.
  static asio::awaitable<std::error_code> flush_all(state_ptr core) {
    co_return co_await core->wait_until_sent();
  }
  static asio::awaitable<std::error_code> send_file_from(state_ptr core, int file,
                                                         std::uint64_t offset,
                                                         std::uint64_t count) {
    co_return co_await core->send_file(file, offset, count);
  }

  state_ptr core_;
};

}  // namespace coronet
