// basic_server: accepts up to max_connections stream connections (TCP or Unix socket) and runs
// the user's handler coroutine on each, through a framed_connection. tcp_server and unix_server
// are the two instantiations. The server runs on the caller's executor; nothing is global.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/bind_allocator.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include "coronet/codec/codec_concepts.hpp"
#include "coronet/detail/connection_core.hpp"
#include "coronet/detail/describe_exception.hpp"
#include "coronet/detail/direct_resume.hpp"
#include "coronet/detail/plain_allocator.hpp"
#include "coronet/endpoint/address.hpp"
#include "coronet/endpoint/server_options.hpp"
#include "coronet/endpoint/socket_options.hpp"
#include "coronet/stream/framed_connection.hpp"

namespace coronet {

namespace detail {

// One open connection, as the server sees it: how to cancel its handler and how to close it.
// The handler coroutine is spawned directly (no wrapper coroutine of its own: every suspended
// frame costs an idle connection memory); its completion ends the session.
struct server_session {
  server_session() = default;
  server_session(const server_session&) = delete;
  server_session& operator=(const server_session&) = delete;
  virtual ~server_session() = default;
  virtual void close_now() = 0;

  // The handler's cancellation state lives in this signal's memory. The session is destroyed
  // by the handler's completion, after the handler's last frame is gone.
  asio::cancellation_signal cancel_handler;
  // Links in the server's session_list (in the session itself: a list node of its own would
  // be one more allocation per connection).
  server_session* previous = nullptr;
  server_session* next = nullptr;
};

// The open sessions of a server, in accept order. Does not own them: each is owned by its
// handler's coroutine and unlinks itself when it ends.
class session_list {
 public:
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  void push_back(server_session& session) noexcept {
    session.previous = last_;
    session.next = nullptr;
    (last_ ? last_->next : first_) = &session;
    last_ = &session;
    ++size_;
  }

  /// Unlinks `session` if it is in the list (calling it twice is harmless).
  void erase(server_session& session) noexcept {
    if (session.previous == nullptr && first_ != &session) return;
    (session.previous ? session.previous->next : first_) = session.next;
    (session.next ? session.next->previous : last_) = session.previous;
    session.previous = session.next = nullptr;
    --size_;
  }

  /// Calls f(session) for each; f may unlink the session it is given.
  template <typename F>
  void for_each(F f) {
    for (server_session* session = first_; session != nullptr;) {
      server_session* const following = session->next;
      f(*session);
      session = following;
    }
  }

 private:
  server_session* first_ = nullptr;
  server_session* last_ = nullptr;
  std::size_t size_ = 0;
};

template <typename Protocol>
struct server_state {
  server_state(const asio::any_io_executor& executor, server_options server_options)
      : acceptor{executor},
        options{std::move(server_options)},
        slot_freed{executor, asio::steady_timer::time_point::max()},
        drain_deadline{executor} {}

  void log(log_level level, const std::string& message) const {
    if (options.log) options.log(level, message);
  }

  typename Protocol::acceptor acceptor;
  server_options options;
  session_list sessions;
  std::size_t refusing = 0;
  bool stopping = false;
  asio::steady_timer slot_freed;  // Never expires; cancelled when a connection ends.
  asio::steady_timer drain_deadline;
  ino_t unix_socket_inode = 0;  // To remove only our own socket file at stop.
  // The handler object, alive while any session (which holds this state) may still run it.
  std::shared_ptr<void> handler;
};

// Refusals in flight at once; past this, connections over the limit are closed without a word.
inline constexpr std::size_t max_concurrent_refusals = 64;

void open_tcp_acceptor(asio::ip::tcp::acceptor& acceptor, const server_options& options);
ino_t open_unix_acceptor(asio::local::stream_protocol::acceptor& acceptor,
                         const server_options& options);

}  // namespace detail

/// A stream server: binds and listens when constructed (so local_endpoint() is known at once),
/// accepts when serve() is called, and runs `handler(connection&)` once per connection.
///
/// The handler is a coroutine, `asio::awaitable<void>(framed_connection<Codec, socket>&)`; the
/// connection ends when it returns (what it queued is sent first) or throws (logged through
/// options.log). Either way only that connection is affected.
///
/// Use it from one thread (the thread running its executor), like every Asio object.
template <typename Protocol>
class basic_server {
 public:
  using protocol_type = Protocol;
  using socket_type = typename Protocol::socket;
  using endpoint_type = typename Protocol::endpoint;
  template <stream_codec Codec>
  using connection_type = framed_connection<Codec, socket_type>;

  /// Binds and listens. Throws std::system_error if the address cannot be bound.
  basic_server(const asio::any_io_executor& executor, server_options options)
      : state_{std::make_shared<detail::server_state<Protocol>>(executor, std::move(options))} {
    if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
      detail::open_tcp_acceptor(state_->acceptor, state_->options);
    } else {
      state_->unix_socket_inode = detail::open_unix_acceptor(state_->acceptor, state_->options);
    }
  }
  basic_server(asio::io_context& io, server_options options)
      : basic_server(io.get_executor(), std::move(options)) {}

  basic_server(const basic_server&) = delete;
  basic_server& operator=(const basic_server&) = delete;

  /// Closes the listener and every connection at once (use stop() for a graceful end).
  ~basic_server() {
    halt_accepting();
    state_->sessions.for_each([](detail::server_session& session) {
      session.cancel_handler.emit(asio::cancellation_type::terminal);
      session.close_now();
    });
  }

  /// Starts accepting; each connection gets a fresh `Codec{}` and runs `handler`.
  template <stream_codec Codec, typename Handler>
  void serve(Handler handler) {
    serve(Codec{}, std::move(handler));
  }

  /// Starts accepting; each connection gets a copy of `codec` (so its options) and runs
  /// `handler`. Call once.
  template <stream_codec Codec, typename Handler>
  void serve(Codec codec, Handler handler) {
    static_assert(std::is_invocable_v<Handler&, connection_type<Codec>&>,
                  "a handler is called as handler(connection&) and returns asio::awaitable<void>");
    auto loop = std::make_shared<accept_loop<Codec, Handler>>(
        state_, keep_handler(std::move(handler)), std::move(codec));
    asio::post(state_->acceptor.get_executor(), [loop] { loop->accept_next(); });
  }

  /// The bound address (with the real port when options.port was 0).
  endpoint_type local_endpoint() const { return state_->acceptor.local_endpoint(); }

  /// Connections being served now (refused ones are not counted).
  std::size_t connection_count() const noexcept { return state_->sessions.size(); }

  /// Graceful stop: stops accepting, cancels every handler, lets each connection send what it
  /// has queued and half-close within options.drain_timeout, then closes whatever is left.
  /// The io_context's run() returns once the last connection is gone (if it has no other work).
  void stop() {
    if (state_->stopping) return;
    halt_accepting();
    state_->sessions.for_each([](detail::server_session& session) {
      session.cancel_handler.emit(asio::cancellation_type::terminal);
    });
    // A handler that ignores cancellation is closed at the deadline.
    if (state_->sessions.empty()) return;
    state_->drain_deadline.expires_after(state_->options.drain_timeout);
    state_->drain_deadline.async_wait([state = state_](std::error_code error) {
      if (error) return;
      state->sessions.for_each([](detail::server_session& session) { session.close_now(); });
    });
  }

 private:
  using state_ptr = std::shared_ptr<detail::server_state<Protocol>>;

  void halt_accepting() {
    state_->stopping = true;
    std::error_code ignored;
    state_->acceptor.close(ignored);
    state_->slot_freed.cancel();
    if constexpr (!std::is_same_v<Protocol, asio::ip::tcp>) {
      if (state_->unix_socket_inode != 0) {
        detail::remove_unix_socket_file(state_->options.unix_path, state_->unix_socket_inode);
        state_->unix_socket_inode = 0;
      }
    }
  }

  // The handler lives in the shared state: sessions keep that alive anyway, so their completion
  // handlers (which every connection's coroutine stores) need not carry a reference of their own.
  template <typename Handler>
  Handler* keep_handler(Handler handler) {
    auto owned = std::make_shared<Handler>(std::move(handler));
    Handler* raw = owned.get();
    state_->handler = std::move(owned);
    return raw;
  }

  // Accepts connections until stop(). Plain completion handlers rather than a coroutine: every
  // accept would otherwise leave a coroutine frame in Asio's per-thread recycling cache, where
  // the new connection's handler frame, which needs less, would take it and keep it while idle.
  template <typename Codec, typename Handler>
  struct accept_loop : std::enable_shared_from_this<accept_loop<Codec, Handler>> {
    accept_loop(state_ptr server, Handler* handler_object, Codec connection_codec)
        : state{std::move(server)},
          handler{handler_object},
          codec{std::move(connection_codec)},
          pause{state->acceptor.get_executor()} {}

    void accept_next() {
      if (state->stopping) return;
      const server_options& options = state->options;
      if (state->sessions.size() >= options.max_connections &&
          options.when_full == overload_policy::pause_accepting) {
        state->slot_freed.async_wait(
            [self = this->shared_from_this()](std::error_code) { self->accept_next(); });
        return;
      }
      // The accept operation's memory stays out of the recycling cache too (see above).
      state->acceptor.async_accept(asio::bind_allocator(
          detail::plain_allocator<void>{},
          [self = this->shared_from_this()](std::error_code error, socket_type socket) {
            self->accepted(error, std::move(socket));
          }));
    }

    void accepted(std::error_code error, socket_type socket) {
      using namespace std::chrono_literals;
      if (state->stopping) return;
      if (error) {
        // Out of descriptors or memory: retrying at once would spin; back off up to 1 s.
        backoff = std::min<std::chrono::milliseconds>(std::max(backoff * 2, 10ms), 1s);
        state->log(log_level::error, "accept failed: " + error.message() + "; retrying in " +
                                         std::to_string(backoff.count()) + " ms");
        pause.expires_after(backoff);
        pause.async_wait(
            [self = this->shared_from_this()](std::error_code) { self->accept_next(); });
        return;
      }
      backoff = 0ms;
      if (state->sessions.size() >= state->options.max_connections) {
        refuse(state, codec, std::move(socket));
      } else {
        start_session(state, handler, codec, std::move(socket));
      }
      accept_next();
    }

    state_ptr state;
    Handler* handler;
    Codec codec;
    std::chrono::milliseconds backoff{0};
    asio::steady_timer pause;  // The back-off after a failed accept.
  };

  // A session's memory: owned by its handler's coroutine (through session_task), so it goes
  // when that coroutine ends or is destroyed (an io_context destroyed with handlers suspended).
  template <typename Codec>
  struct session_entry final : detail::server_session {
    session_entry(state_ptr server, connection_type<Codec> accepted, const endpoint_type& remote)
        : state{std::move(server)}, connection{std::move(accepted)}, peer{remote} {
      state->sessions.push_back(*this);
    }
    ~session_entry() override { state->sessions.erase(*this); }
    void close_now() override { connection.close(); }

    state_ptr state;
    connection_type<Codec> connection;
    asio::awaitable<void> handler;  // The handler's coroutine, until it starts.
    endpoint_type peer;             // For the log: a failed connection's socket no longer knows it.
  };

  // What detail::spawn runs: the session's handler; its end ends the session.
  template <typename Codec>
  struct session_task {
    asio::awaitable<void>& body() { return session->handler; }
    void done(const std::exception_ptr& failure) && { end_session(std::move(session), failure); }

    std::unique_ptr<session_entry<Codec>> session;
  };

  template <typename Codec, typename Handler>
  static void start_session(const state_ptr& state, Handler* handler, const Codec& codec,
                            socket_type socket) {
    const server_options& options = state->options;
    std::error_code ignored;
    const endpoint_type peer = socket.remote_endpoint(ignored);
    if (const std::error_code error = apply_socket_options(socket, options.socket)) {
      state->log(log_level::warning,
                 to_string(peer) + ": socket options not applied: " + error.message());
    }
    auto session = std::make_unique<session_entry<Codec>>(
        state, connection_type<Codec>{std::move(socket), codec, options.connection}, peer);
    try {
      // Only a handler that is not a coroutine can throw here.
      session->handler = (*handler)(session->connection);
    } catch (...) {
      end_session(std::move(session), std::current_exception());
      return;
    }
    // stop() cancels the handler through the session's signal.
    const asio::cancellation_slot cancel = session->cancel_handler.slot();
    detail::spawn(state->acceptor.get_executor(), session_task<Codec>{std::move(session)}, cancel);
  }

  // The handler returned or threw. Its slot frees now; the graceful close that follows (send
  // the queue, half-close, wait for the peer's close) is bounded by drain_timeout on its own.
  template <typename Codec>
  static void end_session(std::unique_ptr<session_entry<Codec>> session,
                          const std::exception_ptr& failure) {
    const state_ptr state = session->state;
    state->sessions.erase(*session);
    if (failure && !state->stopping) {
      state->log(log_level::error, to_string(session->peer) +
                                       ": handler failed: " + detail::describe_exception(failure));
    } else if (const std::error_code error = session->connection.error()) {
      state->log(log_level::info,
                 to_string(session->peer) + ": connection ended: " + error.message());
    }
    state->slot_freed.cancel();
    if (state->stopping && state->sessions.empty()) state->drain_deadline.cancel();
    asio::co_spawn(state->acceptor.get_executor(),
                   close_gracefully(std::move(session->connection), state->options.drain_timeout),
                   asio::detached);
  }

  template <typename Codec>
  static asio::awaitable<void> close_gracefully(connection_type<Codec> connection,
                                                std::chrono::milliseconds drain_timeout) {
    co_await connection.close_gracefully(drain_timeout);
  }

  template <typename Codec>
  static void refuse(const state_ptr& state, const Codec& codec, socket_type socket) {
    const server_options& options = state->options;
    std::error_code ignored;
    const std::string peer = to_string(socket.remote_endpoint(ignored));
    const std::string reason =
        "server full (" + std::to_string(options.max_connections) + " connections)";
    state->log(log_level::warning, "refused " + peer + ": " + reason);
    if (state->refusing >= detail::max_concurrent_refusals) return;  // The socket closes here.
    ++state->refusing;
    asio::co_spawn(state->acceptor.get_executor(),
                   send_refusal(state, codec, std::move(socket), "error: " + reason),
                   asio::detached);
  }

  template <typename Codec>
  static asio::awaitable<void> send_refusal(state_ptr state, Codec codec, socket_type socket,
                                            std::string default_message) {
    using namespace std::chrono_literals;
    connection_options refusal_limits = state->options.connection;
    refusal_limits.write_timeout = 1s;
    connection_type<Codec> connection{std::move(socket), std::move(codec), refusal_limits};
    using message_type = typename Codec::message_type;
    if constexpr (std::is_constructible_v<message_type, std::string_view>) {
      const std::string& custom = state->options.refusal_message;
      const std::string& text = custom.empty() ? default_message : custom;
      connection.try_write(message_type{std::string_view{text}});
    }
    co_await connection.close_gracefully(1s);
    --state->refusing;
  }

  state_ptr state_;
};

/// A TCP server (IPv4, IPv6, or dual-stack).
using tcp_server = basic_server<asio::ip::tcp>;
/// A Unix domain stream socket server.
using unix_server = basic_server<asio::local::stream_protocol>;

}  // namespace coronet
