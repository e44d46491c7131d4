// basic_server: accepts up to max_connections stream connections through a transport (TCP, Unix
// socket, or one that wraps them: see stream_transport.hpp) and runs the user's handler
// coroutine on each, through the connection type the transport chooses. tcp_server and
// unix_server are the plain instantiations. The server runs on the caller's executor; nothing
// is global.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_allocator.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "coronet/codec/codec_concepts.hpp"
#include "coronet/connection_observer.hpp"
#include "coronet/detail/describe_exception.hpp"
#include "coronet/detail/direct_resume.hpp"
#include "coronet/detail/plain_allocator.hpp"
#include "coronet/detail/ref_counted.hpp"
#include "coronet/detail/server_counters.hpp"
#include "coronet/detail/server_lifecycle.hpp"
#include "coronet/detail/session_list.hpp"
#include "coronet/endpoint/address.hpp"
#include "coronet/endpoint/server_metrics.hpp"
#include "coronet/endpoint/server_options.hpp"
#include "coronet/endpoint/socket_options.hpp"
#include "coronet/endpoint/stream_transport.hpp"
#include "coronet/error.hpp"

namespace coronet {

namespace detail {

// Shared by the server object, its accept loop, handshakes and every session (one handle in
// each: a ref_ptr, 8 bytes in every connection's session where a shared_ptr took 16).
template <typename Transport>
struct server_state : ref_counted {
  server_state(const asio::any_io_executor& executor, server_options server_options,
               Transport server_transport)
      : options{std::move(server_options)},
        lifecycle{executor, options.log, options.drain_timeout},
        listener{executor, options},
        transport{std::move(server_transport)} {
    if (options.metrics) {
      counters = std::make_shared<server_counters>(options.name, options.observer,
                                                   preparing_transport<Transport>);
    }
  }

  void log(log_level level, const std::string& message) const { lifecycle.log(level, message); }
  // What connections report to: with metrics on, the counters' observer (the user's, if set).
  server_observer* observer() const noexcept {
    return counters ? &counters->attached() : options.observer.get();
  }
  // Sessions and handshakes together count against max_connections.
  bool full() const noexcept { return sessions.size() + handshakes >= options.max_connections; }
  bool drained() const noexcept { return sessions.empty() && preparing.empty(); }

  server_options options;
  server_lifecycle lifecycle;
  typename Transport::listener_type listener;
  Transport transport;
  session_list sessions;       // Handlers running.
  session_list preparing;      // Handshakes in progress (refusals' too).
  std::size_t handshakes = 0;  // Those in `preparing` that will become sessions.
  std::size_t refusing = 0;    // Refusals in flight (handshake or message).
  // The handler object, alive while any session (which holds this state) may still run it.
  std::shared_ptr<void> handler;
  // The built-in metrics (null when options.metrics is off); shared with metrics readers.
  std::shared_ptr<server_counters> counters;
};

// Refusals in flight at once; past this, connections over the limit are closed without a word.
inline constexpr std::size_t max_concurrent_refusals = 64;

/// "server full (1 connection)", "server full (64 connections)".
std::string server_full_reason(std::size_t max_connections);

// A handler that says it can run on Connection without a coroutine per connection, and how:
// start(connection), take_arrived(connection) -> what to wait for or why it ends,
// finish(connection, why) (coronet::callbacks() with an on_message that never waits).
template <typename Handler, typename Connection>
concept runs_without_coroutine = requires {
  requires Handler::template runs_without_coroutine<Connection>;
};

// Names the return type when a handler is not a coroutine: the compiler shows
// handler_return_check<R> with R spelled out.
template <typename Result>
struct handler_return_check {
  static constexpr bool is_coroutine = std::is_same_v<Result, asio::awaitable<void>>;
  static_assert(is_coroutine,
                "a server handler must return asio::awaitable<void> (a coroutine: it co_awaits "
                "or co_returns); the handler_return_check<...> above names what it returns");
};

}  // namespace detail

/// A stream server: binds and listens when constructed (so local_endpoint() is known at once),
/// accepts when serve() is called, and runs `handler(connection&)` once per connection.
///
/// The handler is a coroutine, `asio::awaitable<void>(connection_type<Codec>&)`; the connection
/// ends when it returns (what it queued is sent first) or throws (logged through options.log).
/// Either way only that connection is affected.
///
/// Use it from one thread (the thread running its executor), like every Asio object.
template <stream_transport Transport>
class basic_server {
 public:
  using transport_type = Transport;
  using listener_type = typename Transport::listener_type;
  using protocol_type = typename listener_type::protocol_type;
  using socket_type = typename listener_type::socket_type;
  using endpoint_type = typename listener_type::endpoint_type;
  using stream_type = typename Transport::stream_type;
  template <stream_codec Codec>
  using connection_type = typename Transport::template connection_type<Codec>;

  /// Binds and listens. Throws std::system_error if the address cannot be bound.
  basic_server(const asio::any_io_executor& executor, server_options options,
               Transport transport = Transport{})
      : executor_{executor},
        state_{detail::make_ref<state>(executor, std::move(options), std::move(transport))} {}
  basic_server(asio::io_context& io, server_options options, Transport transport = Transport{})
      : basic_server(io.get_executor(), std::move(options), std::move(transport)) {}

  basic_server(const basic_server&) = delete;
  basic_server& operator=(const basic_server&) = delete;

  /// Closes the listener and every connection at once (use stop() for a graceful end).
  ~basic_server() {
    halt_accepting();
    state_->sessions.for_each([](detail::server_session& session) {
      session.cancel();
      session.close_now();
    });
    state_->lifecycle.end_drain();
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
                  "a server handler is called as handler(connection&): it takes the connection "
                  "by reference (auto& works)");
    if constexpr (std::is_invocable_v<Handler&, connection_type<Codec>&>) {
      using result = std::invoke_result_t<Handler&, connection_type<Codec>&>;
      if constexpr (detail::handler_return_check<result>::is_coroutine) {
        auto loop = std::make_shared<accept_loop<Codec, Handler>>(
            state_, keep_handler(std::move(handler)), std::move(codec));
        asio::post(state_->listener.get_executor(), [loop] { loop->accept_next(); });
      }
    }
  }

  /// The bound address (with the real port when options.port was 0).
  endpoint_type local_endpoint() const { return state_->listener.local_endpoint(); }

  /// Connections being served now (refused ones and handshakes in progress are not counted).
  std::size_t connection_count() const noexcept { return state_->sessions.size(); }

  /// Connections in the transport's handshake now (they count against max_connections).
  std::size_t handshake_count() const noexcept { return state_->handshakes; }

  /// What the server counted so far (see server_metrics). Callable from any thread.
  server_metrics metrics() const { return metrics_source()(); }

  /// Reads metrics() from any thread, also after the server is gone: what a metrics registry
  /// keeps (see coronet/metrics/server_collector.hpp).
  server_metrics_source metrics_source() const {
    return server_metrics_source{state_->counters, state_->options.name};
  }

  /// The executor the server and its sessions run on: for work that must share their thread
  /// (a broadcast hub its sessions publish to).
  const asio::any_io_executor& get_executor() const noexcept { return executor_; }

  /// The transport (for its own controls, such as reloading a certificate).
  Transport& transport() noexcept { return state_->transport; }

  /// Graceful stop: stops accepting, ends handshakes in progress, cancels every handler, lets
  /// each connection send what it has queued and half-close within options.drain_timeout, then
  /// closes whatever is left. The io_context's run() returns once the last connection is gone
  /// (if it has no other work).
  void stop() {
    if (state_->lifecycle.stopping()) return;
    halt_accepting();
    state_->sessions.for_each([](detail::server_session& session) { session.cancel(); });
    if (state_->drained()) return;
    // A handler that ignores cancellation is closed at the deadline.
    state_->lifecycle.drain([state = state_] {
      state->sessions.for_each([](detail::server_session& session) { session.close_now(); });
    });
  }

 private:
  using state = detail::server_state<Transport>;
  using state_ptr = detail::ref_ptr<state>;

  void halt_accepting() {
    state_->lifecycle.begin_stop();
    state_->listener.close();
    state_->preparing.for_each([](detail::server_session& pending) { pending.close_now(); });
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
        : server_state{std::move(server)},
          handler{handler_object},
          codec{std::move(connection_codec)} {}

    void accept_next() {
      if (server_state->lifecycle.stopping()) return;
      if (server_state->full() &&
          server_state->options.when_full == overload_policy::pause_accepting) {
        server_state->lifecycle.wait_for_free_slot(
            [self = this->shared_from_this()](std::error_code) { self->accept_next(); });
        return;
      }
      // The accept operation's memory stays out of the recycling cache too (see above).
      server_state->listener.async_accept(asio::bind_allocator(
          detail::plain_allocator<void>{},
          [self = this->shared_from_this()](std::error_code error, socket_type socket) {
            self->accepted(error, std::move(socket));
          }));
    }

    void accepted(std::error_code error, socket_type socket) {
      detail::server_lifecycle& lifecycle = server_state->lifecycle;
      if (lifecycle.stopping()) return;
      if (error) {
        // Out of descriptors or memory: retrying at once would spin.
        lifecycle.retry_after_failure(
            "accept", error,
            [self = this->shared_from_this()](std::error_code) { self->accept_next(); });
        return;
      }
      lifecycle.succeeded();
      if (server_state->full()) {
        refuse(server_state, codec, std::move(socket));
      } else {
        admit(server_state, handler, codec, std::move(socket));
      }
      accept_next();
    }

    state_ptr server_state;
    Handler* handler;
    Codec codec;
  };

  // ---- the prepare step (transports with a handshake) ----------------------------------------

  // A stream between accept and its session: the transport's handshake runs on it, under the
  // handshake deadline. Shared with the handshake's completion and the deadline's.
  struct pending_stream final : detail::server_session {
    pending_stream(state_ptr server, stream_type accepted, const endpoint_type& remote)
        : server_state{std::move(server)},
          stream{std::move(accepted)},
          peer{remote},
          deadline{stream.get_executor()} {
      server_state->preparing.push_back(*this);
    }
    ~pending_stream() override { server_state->preparing.erase(*this); }
    void close_now() override {
      std::error_code ignored;
      stream.close(ignored);
    }

    state_ptr server_state;
    stream_type stream;
    endpoint_type peer;
    asio::steady_timer deadline;
    bool timed_out = false;
  };

  // Runs the transport's handshake on `stream`, then `next(stream)` — or, when it fails or
  // runs out of time, closes the stream, reports it and drops it. Without a prepare step,
  // `next` runs at once.
  template <typename Next>
  static void prepare(const state_ptr& server, stream_type stream, const endpoint_type& peer,
                      bool becomes_session, Next next) {
    if constexpr (preparing_transport<Transport>) {
      auto pending = std::make_shared<pending_stream>(server, std::move(stream), peer);
      if (becomes_session) ++server->handshakes;
      pending->deadline.expires_after(server->options.handshake_timeout);
      pending->deadline.async_wait(
          [weak = std::weak_ptr<pending_stream>{pending}](std::error_code error) {
            if (error) return;
            if (const auto alive = weak.lock()) {
              alive->timed_out = true;
              alive->close_now();
            }
          });
      server->transport.async_prepare(
          pending->stream,
          [pending, becomes_session, next = std::move(next)](std::error_code error) mutable {
            pending->deadline.cancel();
            const state_ptr owner = pending->server_state;
            if (becomes_session) --owner->handshakes;
            if (!error && pending->timed_out) error = errc::timed_out;
            if (!error && owner->lifecycle.stopping()) error = asio::error::operation_aborted;
            if (error) {
              if (!becomes_session) --owner->refusing;  // A refusal ends here.
              if (error == errc::answered_without_session) {
                // Served, not failed (a page on a WebSocket port): neither logged nor refused.
                if (owner->counters) owner->counters->handshakes_answered.add(1);
              } else {
                handshake_failed(owner, *pending, error, becomes_session);
              }
              pending.reset();
              owner->lifecycle.unit_ended(owner->drained());
              return;
            }
            if (owner->counters) owner->counters->handshakes_ok.add(1);
            stream_type ready = std::move(pending->stream);
            const endpoint_type from = pending->peer;
            pending.reset();
            next(std::move(ready), from);
          });
    } else {
      static_cast<void>(server);
      static_cast<void>(becomes_session);
      next(std::move(stream), peer);
    }
  }

  static void handshake_failed(const state_ptr& server, pending_stream& pending,
                               std::error_code error, bool would_be_session) {
    if (server->counters) server->counters->handshake_failed(pending.timed_out, would_be_session);
    if (server_observer* observer = server->observer()) {
      observer->on_handshake_failed(error, pending.timed_out);
    }
    if (server->lifecycle.stopping()) return;
    // One line per failure, at most 10 a second: a flood of garbage must not flood the log.
    server->lifecycle.log_rate_limited(
        log_level::warning,
        to_string(pending.peer) + ": handshake " +
            (pending.timed_out ? std::string{"timed out"} : "failed: " + error.message()));
  }

  // ---- sessions ------------------------------------------------------------------------------

  // A session's memory: owned by its handler's coroutine (through session_task), so it goes
  // when that coroutine ends or is destroyed (an io_context destroyed with handlers suspended).
  // A Reactive session runs its handler without a coroutine (see reactive_step); it is owned
  // by the wait it is in.
  template <typename Codec, bool Reactive = false>
  struct session_entry final : detail::server_session {
    session_entry(state_ptr server, connection_type<Codec> accepted, const endpoint_type& remote)
        : server_state{std::move(server)}, connection{std::move(accepted)}, peer{remote} {
      server_state->sessions.push_back(*this);
      connection.set_observer(server_state->observer());
    }
    ~session_entry() override { server_state->sessions.erase(*this); }
    void close_now() override { connection.close(); }
    void cancel() override {
      if constexpr (Reactive) {
        cancelled = true;  // For the next step, whatever it waits for now.
        connection.cancel_waits();
      } else {
        detail::server_session::cancel();
      }
    }

    state_ptr server_state;
    connection_type<Codec> connection;
    endpoint_type peer;      // For the log: a failed connection's socket no longer knows it.
    bool cancelled = false;  // Reactive only: the server stopped it (in peer's padding).
    std::chrono::steady_clock::time_point started;  // For the lifetime histogram (metrics on).
  };

  // What detail::spawn runs: the session's handler; its end ends the session. The handler's
  // coroutine lives here, in the entry frame, rather than in the session: the session's block
  // then falls into a smaller malloc size class (every connection holds one).
  template <typename Codec>
  struct session_task {
    asio::awaitable<void>& body() { return handler; }
    void done(const std::exception_ptr& failure) && { end_session(std::move(session), failure); }

    std::unique_ptr<session_entry<Codec>> session;
    asio::awaitable<void> handler;  // Until it starts.
  };

  // Socket options, then the transport's handshake, then the session.
  template <typename Codec, typename Handler>
  static void admit(const state_ptr& server, Handler* handler, const Codec& codec,
                    socket_type socket) {
    std::error_code ignored;
    const endpoint_type peer = socket.remote_endpoint(ignored);
    if (const std::error_code error = apply_socket_options(socket, server->options.socket)) {
      server->log(log_level::warning,
                  to_string(peer) + ": socket options not applied: " + error.message());
    }
    prepare(server, server->transport.make_stream(std::move(socket)), peer, true,
            [server, handler, codec](stream_type stream, const endpoint_type& from) {
              start_session(server, handler, codec, std::move(stream), from);
            });
  }

  template <typename Codec, typename Handler>
  static void start_session(const state_ptr& server, Handler* handler, const Codec& codec,
                            stream_type stream, const endpoint_type& peer) {
    constexpr bool reactive = detail::runs_without_coroutine<Handler, connection_type<Codec>>;
    auto session = std::make_unique<session_entry<Codec, reactive>>(
        server,
        server->transport.make_connection(std::move(stream), codec, server->options.connection),
        peer);
    if (server->counters) {
      server->counters->accepted.add(1);
      session->started = std::chrono::steady_clock::now();
    }
    if (server_observer* observer = server->observer()) observer->on_session_start();
    if constexpr (reactive) {
      try {
        handler->start(session->connection);
      } catch (...) {
        end_session(std::move(session), std::current_exception());
        return;
      }
      reactive_step<Codec, Handler>::run(std::move(session));
    } else {
      asio::awaitable<void> body;
      try {
        // Only a handler that is not a coroutine can throw here.
        body = (*handler)(session->connection);
      } catch (...) {
        end_session(std::move(session), std::current_exception());
        return;
      }
      // stop() cancels the handler through the session's signal.
      const asio::cancellation_slot cancel = session->cancel_handler.slot();
      detail::spawn(server->listener.get_executor(),
                    session_task<Codec>{std::move(session), std::move(body)}, cancel);
    }
  }

  // A handler whose steps run without a coroutine (coronet::callbacks() whose on_message
  // never waits, on a framed connection: detail::runs_without_coroutine) is run from the
  // connection's completions, one step at a time: take what has arrived, then wait for more
  // input or for room. While it waits, the wait holds this step, the step the session, and
  // nothing else does: no handler frame, no entry frame, no cancellation state (stop() cancels
  // the connection's waits instead).
  template <typename Codec, typename Handler>
  class reactive_step {
   public:
    using session_type = session_entry<Codec, true>;
    using executor_type = typename connection_type<Codec>::executor_type;

    explicit reactive_step(std::unique_ptr<session_type> session) : session_{std::move(session)} {}

    executor_type get_executor() const noexcept { return session_->connection.get_executor(); }
    asio::cancellation_slot get_cancellation_slot() const noexcept { return {}; }
    void resume() { run(std::move(session_)); }
    void operator()() { run(std::move(session_)); }

    // One step; the session ends here when the handler is done (or throws).
    static void run(std::unique_ptr<session_type> session) {
      const auto& handler = *static_cast<const Handler*>(session->server_state->handler.get());
      connection_type<Codec>& connection = session->connection;
      std::error_code next;
      try {
        if (!session->cancelled) next = handler.take_arrived(connection);
        // Cancelled before this step, or by a callback in it (one that stops the server):
        // nothing more to wait for.
        if (session->cancelled &&
            (!next || next == asio::error::would_block || next == errc::send_queue_full)) {
          next = asio::error::operation_aborted;
        }
        if (next == asio::error::would_block) {
          connection.receive_then(reactive_step{std::move(session)});
          return;
        }
        if (next == errc::send_queue_full) {
          connection.when_room(reactive_step{std::move(session)});
          return;
        }
        handler.finish(connection, next);
      } catch (...) {
        if (session) end_session(std::move(session), std::current_exception());
        return;
      }
      end_session(std::move(session), nullptr);
    }

   private:
    std::unique_ptr<session_type> session_;
  };

  // The handler returned or threw. Its slot frees now; the graceful close that follows (send
  // the queue, half-close, wait for the peer's close) is bounded by drain_timeout on its own.
  template <typename Session>
  static void end_session(std::unique_ptr<Session> session, const std::exception_ptr& failure) {
    const state_ptr server = session->server_state;
    server->sessions.erase(*session);
    const bool stopping = server->lifecycle.stopping();
    if (failure && !stopping) {
      server->log(log_level::error, to_string(session->peer) +
                                        ": handler failed: " + detail::describe_exception(failure));
    } else if (const std::error_code error = session->connection.error()) {
      server->log(log_level::info,
                  to_string(session->peer) + ": connection ended: " + error.message());
    }
    const close_reason reason = session_end_reason(session->connection, failure, stopping);
    if (server->counters) {
      server->counters->session_ended(reason, std::chrono::steady_clock::now() - session->started);
    }
    if (server_observer* observer = server->observer()) observer->on_session_end(reason);
    server->lifecycle.unit_ended(server->drained());
    asio::co_spawn(server->listener.get_executor(),
                   close_gracefully(server, std::move(session->connection), stopping),
                   asio::detached);
  }

  template <typename Connection>
  static close_reason session_end_reason(const Connection& connection,
                                         const std::exception_ptr& failure, bool stopping) {
    if (stopping) return close_reason::server_stop;
    if (failure) return close_reason::handler_error;
    const close_reason ended_by = connection.close_reason();
    return ended_by == close_reason::none ? close_reason::handler_done : ended_by;
  }

  // Holds the server state (and so its observer) until the connection is closed. A connection
  // whose goodbye depends on why it ends (WebSocket: 1001 when the server stops, else 1000)
  // is told.
  template <typename Connection>
  static asio::awaitable<void> close_gracefully(state_ptr server, Connection connection,
                                                bool stopping) {
    const std::chrono::milliseconds drain = server->options.drain_timeout;
    if constexpr (requires { connection.close_gracefully(drain, close_reason::server_stop); }) {
      const close_reason why = stopping ? close_reason::server_stop : close_reason::handler_done;
      co_await connection.close_gracefully(drain, why);
    } else {
      co_await connection.close_gracefully(drain);
    }
    connection.close();
  }

  // ---- refusals ------------------------------------------------------------------------------

  template <typename Codec>
  static void refuse(const state_ptr& server, const Codec& codec, socket_type socket) {
    std::error_code ignored;
    const endpoint_type peer = socket.remote_endpoint(ignored);
    const std::string reason = detail::server_full_reason(server->options.max_connections);
    server->log(log_level::warning, "refused " + to_string(peer) + ": " + reason);
    if (server->counters) server->counters->refused_full.add(1);
    if (server_observer* observer = server->observer()) observer->on_refused();
    if (server->refusing >= detail::max_concurrent_refusals) return;  // The socket closes here.
    ++server->refusing;
    prepare(server, server->transport.make_stream(std::move(socket)), peer, false,
            [server, codec, reason](stream_type stream, const endpoint_type&) {
              asio::co_spawn(server->listener.get_executor(),
                             send_refusal(server, codec, std::move(stream), "error: " + reason),
                             asio::detached);
            });
  }

  // The refusal goes through the codec, so a client of any protocol can read it: the codec's
  // own refusal when it has one (refusing_codec: HTTP's 503), else as a message when the
  // codec's messages can hold text (line, length-prefixed and most user codecs); a codec whose
  // messages cannot is refused by closing the connection.
  template <typename Codec>
  static asio::awaitable<void> send_refusal(state_ptr server, Codec codec, stream_type stream,
                                            std::string default_message) {
    using namespace std::chrono_literals;
    struct refusal_done {
      state* owner;
      ~refusal_done() { --owner->refusing; }
    } done{server.get()};
    connection_options refusal_limits = server->options.connection;
    refusal_limits.write_timeout = 1s;
    auto connection =
        server->transport.make_connection(std::move(stream), std::move(codec), refusal_limits);
    connection.set_observer(server->observer());
    using outgoing_type = outgoing_message_t<Codec>;
    const std::string& custom = server->options.refusal_message;
    [[maybe_unused]] const std::string& text = custom.empty() ? default_message : custom;
    if constexpr (refusing_codec<Codec>) {
      connection.try_write(connection.codec().refusal(text));
    } else if constexpr (std::is_constructible_v<outgoing_type, std::string_view>) {
      connection.try_write(outgoing_type{std::string_view{text}});
    }
    co_await connection.close_gracefully(1s);
    connection.close();
  }

  asio::any_io_executor executor_;
  state_ptr state_;
};

/// A TCP server (IPv4, IPv6, or dual-stack).
using tcp_server = basic_server<tcp_transport>;
/// A Unix domain stream socket server.
using unix_server = basic_server<unix_transport>;

}  // namespace coronet
