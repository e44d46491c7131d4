// websocket_connection: the WebSocket stage between a byte stream and the user's handler. It
// runs websocket_codec in the one framed_connection (one read path, one bounded write path, the
// same timeouts and observer) and gives the handler what a line handler expects: read() yields
// each data message's payload as one message, write() sends one text message. The protocol's
// own traffic stays inside: pings are answered, an idle peer is pinged, a close frame is
// answered and ends reading, a protocol error is answered with a close frame carrying its code
// (1002, 1007, 1009), and a graceful close sends 1000 (1001 when the server stops) and waits,
// bounded, for the peer to close.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include "coronet/codec/websocket_codec.hpp"
#include "coronet/connection_observer.hpp"
#include "coronet/error.hpp"
#include "coronet/read_result.hpp"
#include "coronet/stream/connection_options.hpp"
#include "coronet/stream/encoded_message.hpp"
#include "coronet/stream/framed_connection.hpp"
#include "coronet/stream/stream_concepts.hpp"

namespace coronet {

/// What a websocket_connection does besides its codec's limits. Every limit is on by default.
struct websocket_options {
  /// The frame codec's role and limits (max_message_size 1 MiB, max_fragments 4096).
  websocket_codec_options codec;
  /// A ping goes out after this long without a frame from the peer, so that a peer that
  /// vanished is noticed (its connection then reaches the idle timeout) and proxies keep the
  /// connection open. Default 30 s; 0 turns it off.
  std::chrono::milliseconds ping_interval = std::chrono::seconds{30};
  /// Whether read() delivers binary messages too (their bytes as the message). Default off: a
  /// text handler gets no binary message, the connection closes with 1003 instead.
  bool accept_binary = false;
};

/// A WebSocket connection after the opening handshake, over any byte stream. Its read() and
/// write() have the shapes of framed_connection<line_codec, ...>'s, so a handler written for
/// lines runs over WebSocket unchanged: one text message is one line.
///
/// Not thread-safe: use it from its executor. Control frames are handled while a read() is in
/// progress (a handler that reads, as every line handler does).
template <byte_stream Stream>
class websocket_connection {
  // The codec answers its fatal errors (answering_codec): after one, the inner connection stops
  // reading but stays writable for the close frame that answers it.
  using inner_connection = framed_connection<websocket_codec, Stream>;

 public:
  using stream_type = Stream;
  using codec_type = websocket_codec;
  using message_type = std::string_view;
  using executor_type = typename Stream::executor_type;

  /// Takes ownership of `stream`, on which the opening handshake is done.
  websocket_connection(Stream stream, websocket_options options,
                       const connection_options& limits = {})
      : state_{std::make_shared<state>(std::move(stream), options, limits)} {
    start_pinging(state_);
  }

  websocket_connection(websocket_connection&&) noexcept = default;
  websocket_connection& operator=(websocket_connection&&) noexcept = default;
  ~websocket_connection() {
    if (state_) state_->stop_pinging();
  }

  executor_type get_executor() { return state_->inner.get_executor(); }

  /// The next data message's payload, or why there is none: asio::error::eof once the peer has
  /// sent its close frame (answered already), a decode error (websocket_errc, answered with a
  /// close frame carrying its code), a timeout or a socket error. The view is valid until the
  /// next read().
  asio::awaitable<read_result<std::string_view>> read() { return read_data(state_); }

  /// read() without waiting (see framed_connection::try_read): the next data message if the
  /// frames already received hold one, control frames before it handled as read() handles
  /// them; asio::error::would_block when read() would have to read from the stream.
  read_result<std::string_view> try_read() {
    state& s = *state_;
    while (true) {
      if (auto ended = reading_ended(s)) return *std::move(ended);
      auto next = s.inner.try_read();
      if (next.error() == asio::error::would_block ||
          next.error() == asio::error::already_started) {
        return read_result<std::string_view>::failure(next.error());
      }
      if (!took_control_frame(s, next)) return data_or_end(s, next);
    }
  }

  /// Waits until more frames have been received, then returns nothing: take the messages with
  /// try_read() (see framed_connection::receive_more: no coroutine frame waits).
  auto receive_more() { return state_->inner.receive_more(); }

  /// receive_more() for a caller that is not a coroutine (framed_connection::receive_then): how
  /// a server runs callbacks on a WebSocket connection without a coroutine.
  template <typename Continuation>
  void receive_then(Continuation continuation) {
    state_->inner.receive_then(std::move(continuation));
  }
  /// wait_for_room() for a caller that is not a coroutine (framed_connection::when_room).
  template <typename Resume>
  void when_room(Resume resume) {
    state_->inner.when_room(std::move(resume));
  }
  /// Ends a receive_then() and wakes a when_room() wait (framed_connection::cancel_waits).
  void cancel_waits() { state_->inner.cancel_waits(); }

  /// Queues `text` as one text message (see framed_connection::write for the queue policy).
  /// Returns errc::invalid_utf8 for text that is not UTF-8, errc::connection_closed once a close
  /// frame has been sent.
  asio::awaitable<std::error_code> write(std::string_view text) {
    return write(websocket_message::text(text));
  }

  /// Queues any message: binary, a ping, or a close frame (after which nothing more is sent).
  asio::awaitable<std::error_code> write(websocket_message message) {
    return write_message(state_, message);
  }

  /// A message framed once, to be written to many connections (a chat room's broadcast): the
  /// server role's frames carry no mask, so their bytes are the same for every recipient.
  using encoded_text = encoded_message<websocket_codec>;

  /// Frames `text` as one text message for write(encoded_text) on this connection or any other
  /// with the same codec options. Its error() is errc::invalid_utf8 for text that is not UTF-8.
  /// In the client role every frame needs a mask of its own: write the text instead.
  encoded_text encode_text(std::string_view text) const {
    return encoded_text{state_->inner.codec(), websocket_message::text(text)};
  }

  /// write() of a message framed by encode_text(): its bytes are queued as they are (no
  /// framing or UTF-8 check per recipient). `message` must outlive the returned awaitable.
  asio::awaitable<std::error_code> write(const encoded_text& message) {
    return write_encoded(state_, message);
  }

  /// write() without waiting for room in the send queue.
  std::error_code try_write(std::string_view text) {
    return try_write(websocket_message::text(text));
  }
  /// write() of any message without waiting.
  std::error_code try_write(websocket_message message) { return queue(*state_, message); }
  /// write() of a message framed by encode_text() without waiting.
  std::error_code try_write(const encoded_text& message) {
    if (state_->close_sent) return errc::connection_closed;
    return state_->inner.try_write(message);
  }

  /// Whether write() would queue a message now (see framed_connection::has_room).
  bool has_room() const noexcept { return state_->inner.has_room(); }

  /// Waits until has_room() (see framed_connection::wait_for_room).
  asio::awaitable<std::error_code> wait_for_room() { return state_->inner.wait_for_room(); }

  /// Waits until every queued byte has been handed to the stream.
  asio::awaitable<std::error_code> flush() { return state_->inner.flush(); }

  /// Graceful close: sends a close frame (1000, or 1001 when `why` is server_stop) unless one
  /// was sent, sends what is queued, then waits within `drain_timeout` for the peer to close.
  asio::awaitable<void> close_gracefully(std::chrono::milliseconds drain_timeout,
                                         coronet::close_reason why = coronet::close_reason::none) {
    return close_after_farewell(state_, drain_timeout, why);
  }

  /// Closes now, without a close frame.
  void close() {
    state_->stop_pinging();
    state_->inner.close();
  }

  /// Whether messages can still be sent (open, and no close frame sent).
  bool is_open() const noexcept { return state_ && state_->inner.is_open() && !state_->close_sent; }

  /// The error that ended the connection: a protocol error (websocket_errc), or the stream's.
  std::error_code error() const noexcept {
    return state_->failure ? state_->failure : state_->inner.error();
  }

  /// What ended the connection, as framed_connection reports it; protocol_error after a
  /// WebSocket protocol error, peer_closed after the peer's close frame.
  coronet::close_reason close_reason() const noexcept {
    if (state_->failure) return coronet::close_reason::protocol_error;
    const coronet::close_reason inner = state_->inner.close_reason();
    // A close frame from the peer is its clean end of the stream.
    if (inner == coronet::close_reason::none && state_->close_received) {
      return coronet::close_reason::peer_closed;
    }
    return inner;
  }

  /// The close code and reason the peer sent (no_status until a close frame arrives).
  std::uint16_t peer_close_code() const noexcept { return state_->peer_close_code; }

  /// Reports this connection's events to `observer` (see framed_connection::set_observer).
  void set_observer(connection_observer* observer) noexcept {
    state_->observer = observer;
    state_->inner.set_observer(observer);
  }

  /// Decode errors of WebSocket are never recoverable: there is no policy to set. Present so
  /// that code written for framed_connection compiles.
  void set_decode_errors(decode_error_policy) noexcept {}

  /// The frame codec (for its options).
  const websocket_codec& codec() const noexcept { return state_->inner.codec().codec(); }
  connection_options options() const noexcept { return state_->inner.options(); }
  const websocket_options& websocket() const noexcept { return state_->options; }
  std::size_t queued_bytes() const noexcept { return state_->inner.queued_bytes(); }
  std::size_t buffer_capacity() const noexcept { return state_->inner.buffer_capacity(); }

  /// The underlying stream (endpoints, socket options, the handshake's results).
  Stream& stream() noexcept { return state_->inner.stream(); }
  const Stream& stream() const noexcept { return state_->inner.stream(); }

  /// The peer's address.
  auto remote_endpoint() const requires addressed_stream<Stream> {
    return state_->inner.remote_endpoint();
  }
  /// This side's address.
  auto local_endpoint() const requires addressed_stream<Stream> {
    return state_->inner.local_endpoint();
  }

 private:
  struct state {
    state(Stream stream, const websocket_options& websocket, const connection_options& limits)
        : options{websocket},
          inner{std::move(stream), websocket_codec{websocket.codec}, limits},
          ping_timer{inner.get_executor()} {}

    void stop_pinging() {
      pinging = false;
      ping_timer.cancel();
    }

    websocket_options options;
    inner_connection inner;
    asio::steady_timer ping_timer;
    connection_observer* observer = nullptr;
    std::error_code failure;  // A protocol error, answered with a close frame.
    std::uint16_t peer_close_code = websocket_close::no_status;
    bool close_sent = false;
    bool close_received = false;
    bool heard_from_peer = false;  // A frame arrived since the last ping tick.
    bool pinging = false;
  };
  using state_ptr = std::shared_ptr<state>;

  // A coroutine of its own: the message framed_connection::write() is given must live until
  // that write has queued it, which may be after a wait for room.
  static asio::awaitable<std::error_code> write_message(state_ptr s, websocket_message message) {
    if (s->close_sent) co_return errc::connection_closed;
    if (message.kind == websocket_kind::close) s->close_sent = true;
    co_return co_await s->inner.write(message);
  }

  static asio::awaitable<std::error_code> write_encoded(state_ptr s, const encoded_text& message) {
    if (s->close_sent) co_return errc::connection_closed;
    co_return co_await s->inner.write(message);
  }

  static std::error_code queue(state& s, const websocket_message& message) {
    if (s.close_sent) return errc::connection_closed;
    const std::error_code error = s.inner.try_write(message);
    if (!error && message.kind == websocket_kind::close) s.close_sent = true;
    return error;
  }

  // Sends a close frame with `code` unless one was sent; the peer then closes.
  static void send_close(state& s, std::uint16_t code) {
    if (s.close_sent) return;
    queue(s, websocket_message::close(code));
    s.close_sent = true;
  }

  static asio::awaitable<read_result<std::string_view>> read_data(state_ptr s) {
    while (!reading_ended(*s)) {
      // Initialised by the read and passed on by reference: g++ keeps a co_await's temporaries
      // in the frame while the read waits, so this is the frame's one read_result.
      auto next = co_await s->inner.read();
      if (!took_control_frame(*s, next)) co_return data_or_end(*s, next);
    }
    co_return *reading_ended(*s);
  }

  // Why reading is over (the peer's close frame, or a protocol error already answered).
  static std::optional<read_result<std::string_view>> reading_ended(const state& s) {
    if (s.close_received) return read_result<std::string_view>::failure(asio::error::eof);
    if (s.failure) return read_result<std::string_view>::failure(s.failure);
    return std::nullopt;
  }

  // A ping (answered here) or a pong: the reader reads on. Any frame shows the peer is there.
  static bool took_control_frame(state& s, const read_result<websocket_message>& next) {
    if (!next) return false;
    s.heard_from_peer = true;
    if (next->kind == websocket_kind::ping) {
      // Dropped when the send queue is full: the peer is not reading anyway.
      if (!s.close_sent) queue(s, websocket_message::pong(next->payload));
      return true;
    }
    return next->kind == websocket_kind::pong;
  }

  // What the reader gets from anything but a ping or a pong: a data message, or why there is
  // none.
  static read_result<std::string_view> data_or_end(state& s,
                                                   const read_result<websocket_message>& next) {
    using result = read_result<std::string_view>;
    if (!next) {
      // A frame that breaks the protocol: the inner connection counted it and stays open for
      // the close frame that answers it.
      if (next.decode_error()) return answer(s, next.error(), next.reason());
      return result::failure(next.error(), next.reason(), false);
    }
    const websocket_message& message = *next;
    switch (message.kind) {
      case websocket_kind::close:
        s.close_received = true;
        s.peer_close_code = message.close_code;
        // Echo the peer's code (RFC 6455 section 5.5.1); a close without one gets none back.
        send_close(s, message.close_code);
        return result::failure(asio::error::eof);
      case websocket_kind::binary:
        if (!s.options.accept_binary) {
          return fail(s, websocket_errc::unsupported_data, "binary message to a text handler");
        }
        return result::of(message.payload);
      default:  // Text; pings and pongs never get here.
        return result::of(message.payload);
    }
  }

  // A protocol error found here rather than by the codec: counted like the codec's, answered.
  static read_result<std::string_view> fail(state& s, std::error_code error,
                                            std::string_view reason) {
    if (s.observer) s.observer->report_decode_error(error, false);
    return answer(s, error, reason);
  }

  // Ends reading with `error` and answers it with its close code.
  static read_result<std::string_view> answer(state& s, std::error_code error,
                                              std::string_view reason) {
    s.failure = error;
    // A stream cut inside a frame has no peer left to tell.
    if (error != errc::truncated_frame) send_close(s, close_code_for(error));
    return read_result<std::string_view>::decode_failure(error, reason, false);
  }

  static asio::awaitable<void> close_after_farewell(state_ptr s,
                                                    std::chrono::milliseconds drain_timeout,
                                                    coronet::close_reason why) {
    s->stop_pinging();
    const std::uint16_t code = why == coronet::close_reason::server_stop
                                   ? websocket_close::going_away
                                   : websocket_close::normal;
    if (s->inner.is_open()) send_close(*s, code);
    // Sends the close frame, half-closes, and discards what the peer still sends (its own close
    // frame among it) until it closes, all within the drain timeout.
    co_await s->inner.close_gracefully(drain_timeout);
  }

  // Pings the peer after each ping_interval in which no frame came from it.
  static void start_pinging(const state_ptr& s) {
    if (s->options.ping_interval.count() <= 0) return;
    s->pinging = true;
    schedule_ping(s);
  }
  static void schedule_ping(const state_ptr& s) {
    s->ping_timer.expires_after(s->options.ping_interval);
    s->ping_timer.async_wait([weak = std::weak_ptr<state>{s}](std::error_code error) {
      const state_ptr alive = weak.lock();
      if (error || !alive || !alive->pinging || !alive->inner.is_open()) return;
      if (!std::exchange(alive->heard_from_peer, false) && !alive->close_sent) {
        queue(*alive, websocket_message::ping());
      }
      schedule_ping(alive);
    });
  }

  state_ptr state_;
};

}  // namespace coronet
