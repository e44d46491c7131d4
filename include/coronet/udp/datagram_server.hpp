// basic_datagram_server: receives datagrams on one socket (UDP or Unix datagram) and runs the
// user's handler coroutine once per valid datagram, never more than max_concurrent_handlers at
// once. udp_server and unix_datagram_server are the two instantiations. The server runs on the
// caller's executor; nothing is global.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include "coronet/codec/codec_concepts.hpp"
#include "coronet/codec/datagram_codec.hpp"
#include "coronet/detail/describe_exception.hpp"
#include "coronet/detail/direct_resume.hpp"
#include "coronet/detail/server_lifecycle.hpp"
#include "coronet/detail/session_list.hpp"
#include "coronet/detail/tuple_awaitable.hpp"
#include "coronet/endpoint/address.hpp"
#include "coronet/error.hpp"
#include "coronet/log.hpp"
#include "coronet/udp/datagram_endpoint.hpp"
#include "coronet/udp/datagram_server_options.hpp"
#include "coronet/udp/datagram_stats.hpp"
#include "coronet/udp/received_datagram.hpp"

namespace coronet {

namespace detail {

/// Whether a receive error reports an ICMP error about an earlier send (port or host
/// unreachable) rather than a fault of the socket itself.
bool is_icmp_report(const std::error_code& error) noexcept;

template <typename Protocol, typename Codec>
struct datagram_server_state {
  datagram_server_state(const asio::any_io_executor& executor, datagram_server_options opts,
                        Codec codec)
      : options{std::move(opts)},
        lifecycle{executor, options.log, options.drain_timeout},
        endpoint{executor, options.endpoint, std::move(codec)},
        counters{
            std::make_shared<datagram_server_counters>(options.name, endpoint.shared_stats())} {}

  void log(log_level level, const std::string& message) const { lifecycle.log(level, message); }

  // The end of a stop: every handler is done (or the drain deadline passed).
  void finish() {
    lifecycle.end_drain();
    endpoint.close();
  }

  datagram_server_options options;
  server_lifecycle lifecycle;
  basic_datagram_endpoint<Protocol, Codec> endpoint;
  session_list handlers;                     // The running handlers, to cancel them.
  asio::cancellation_signal stop_receiving;  // Bound to the receive loop.
  bool receive_loop_running = false;
  // All but the endpoint's counts, which the endpoint keeps; shared with metrics readers.
  std::shared_ptr<datagram_server_counters> counters;
  // The handler object, alive while any running handler (which holds this state) may use it.
  std::shared_ptr<void> handler;
};

}  // namespace detail

/// A datagram server: binds when constructed (so local_endpoint() is known at once), receives
/// when serve() is called, and runs `handler(datagram&)` once per valid datagram.
///
/// The handler is a coroutine, `asio::awaitable<void>(received_datagram<Protocol, Codec>&)`; it
/// owns its copy of the message and can `co_await datagram.reply(...)`. At most
/// options.max_concurrent_handlers run at once; past that, options.when_busy says whether the
/// server stops receiving (the default) or drops. Rejected datagrams (too long, not UTF-8) are
/// counted in stats().endpoint and logged at debug level; a handler that throws is logged and
/// counted; either way the server goes on.
///
/// Use it from one thread (the thread running its executor), like every Asio object.
template <typename Protocol, codec Codec = datagram_codec>
class basic_datagram_server {
 public:
  using protocol_type = Protocol;
  using endpoint_type = typename Protocol::endpoint;
  using datagram_type = received_datagram<Protocol, Codec>;
  using server_endpoint_type = basic_datagram_endpoint<Protocol, Codec>;

  /// Binds (options.endpoint). Throws std::system_error if the address cannot be bound.
  basic_datagram_server(const asio::any_io_executor& executor, datagram_server_options options = {},
                        Codec codec = Codec{})
      : state_{std::make_shared<state_type>(executor, std::move(options), std::move(codec))} {}
  basic_datagram_server(asio::io_context& io, datagram_server_options options = {},
                        Codec codec = Codec{})
      : basic_datagram_server(io.get_executor(), std::move(options), std::move(codec)) {}

  basic_datagram_server(const basic_datagram_server&) = delete;
  basic_datagram_server& operator=(const basic_datagram_server&) = delete;

  /// Stops at once: cancels every handler and closes the socket (use stop() to let running
  /// handlers finish).
  ~basic_datagram_server() {
    halt_receiving();
    state_->handlers.for_each([](detail::server_session& running) {
      running.cancel_handler.emit(asio::cancellation_type::terminal);
    });
    state_->finish();
  }

  /// Starts receiving; each valid datagram runs `handler`. Call once.
  template <typename Handler>
  void serve(Handler handler) {
    static_assert(std::is_invocable_r_v<asio::awaitable<void>, Handler&, datagram_type&>,
                  "a datagram handler is called as handler(datagram&) and returns "
                  "asio::awaitable<void>");
    if (state_->receive_loop_running || state_->lifecycle.stopping()) return;
    state_->receive_loop_running = true;
    auto owned = std::make_shared<Handler>(std::move(handler));
    Handler* raw = owned.get();
    state_->handler = std::move(owned);
    asio::co_spawn(state_->endpoint.get_executor(), receive_loop(state_, raw),
                   asio::bind_cancellation_slot(state_->stop_receiving.slot(), asio::detached));
  }

  /// Graceful stop: stops receiving, lets running handlers finish (and reply) within
  /// options.drain_timeout, then cancels what is left and closes the socket (removing a Unix
  /// socket file). The io_context's run() returns once the last handler is done (if it has no
  /// other work).
  void stop() {
    if (state_->lifecycle.stopping()) return;
    halt_receiving();
    if (state_->handlers.empty()) {
      state_->finish();
      return;
    }
    state_->lifecycle.drain([state = state_] {
      state->handlers.for_each([](detail::server_session& running) {
        running.cancel_handler.emit(asio::cancellation_type::terminal);
      });
      state->endpoint.close();  // A handler that ignores cancellation: its sends fail now.
    });
  }

  /// The bound address (with the real port when the port option was 0).
  endpoint_type local_endpoint() const { return state_->endpoint.local_endpoint(); }

  /// Handlers running now.
  std::size_t active_handlers() const noexcept { return state_->handlers.size(); }

  /// Counters: the endpoint's (received, rejected, sent) and the handlers'.
  datagram_server_stats stats() const { return state_->counters->snapshot(); }

  /// stats() with the server's name (options.name). Callable from any thread.
  datagram_server_metrics metrics() const { return metrics_source()(); }

  /// Reads metrics() from any thread, also after the server is gone: what a metrics registry
  /// keeps (see coronet/metrics/server_collector.hpp).
  datagram_server_metrics_source metrics_source() const {
    return datagram_server_metrics_source{state_->counters};
  }

  /// The server's endpoint, to send datagrams of its own (from the executor's thread). Do not
  /// receive on it: the server does (a second receiver gets asio::error::already_started).
  server_endpoint_type& endpoint() noexcept { return state_->endpoint; }

 private:
  using state_type = detail::datagram_server_state<Protocol, Codec>;
  using state_ptr = std::shared_ptr<state_type>;

  void halt_receiving() {
    state_->lifecycle.begin_stop();
    if (state_->receive_loop_running) {
      state_->stop_receiving.emit(asio::cancellation_type::terminal);
    }
  }

  // One running handler: owned by its coroutine (through handler_task), in the server's list
  // while it runs so that stop() can cancel it.
  struct running_handler final : detail::server_session {
    running_handler(state_ptr server, datagram_type received)
        : server_state{std::move(server)}, datagram{std::move(received)} {
      server_state->handlers.push_back(*this);
    }
    ~running_handler() override { server_state->handlers.erase(*this); }
    void close_now() override {}  // Nothing of its own: it replies through the server's socket.

    state_ptr server_state;
    datagram_type datagram;
    asio::awaitable<void> body;  // The handler's coroutine, until it starts.
  };

  // What detail::spawn runs: the handler; its end frees its slot. Started the way stream
  // servers start theirs: one spawned coroutine per datagram, no wrapper around it.
  struct handler_task {
    asio::awaitable<void>& body() { return running->body; }
    void done(const std::exception_ptr& failure) && { handler_ended(std::move(running), failure); }

    std::unique_ptr<running_handler> running;
  };

  template <typename Handler>
  static void start_handler(const state_ptr& state, Handler* handler, datagram_type datagram) {
    auto running = std::make_unique<running_handler>(state, std::move(datagram));
    state->counters->saw_handlers(state->handlers.size());
    try {
      running->body = (*handler)(running->datagram);  // Throws only if not a coroutine.
    } catch (...) {
      handler_ended(std::move(running), std::current_exception());
      return;
    }
    const asio::cancellation_slot cancel = running->cancel_handler.slot();
    detail::spawn(state->endpoint.get_executor(), handler_task{std::move(running)}, cancel);
  }

  static void handler_ended(std::unique_ptr<running_handler> running,
                            const std::exception_ptr& failure) {
    const state_ptr state = running->server_state;
    const endpoint_type sender = running->datagram.sender;
    running.reset();  // Out of the list (and its datagram freed) before anyone is woken.
    if (failure) {
      state->counters->handler_failures.add(1);
      if (!state->lifecycle.stopping()) {
        state->log(log_level::error, "handler for a datagram from " + to_string(sender) +
                                         " failed: " + detail::describe_exception(failure));
      }
    } else {
      state->counters->handled.add(1);
    }
    if (state->lifecycle.unit_ended(state->handlers.empty())) state->finish();
  }

  template <typename Handler>
  static asio::awaitable<void> receive_loop(state_ptr state, Handler* handler) {
    using namespace std::chrono_literals;
    const datagram_server_options& options = state->options;
    detail::server_lifecycle& lifecycle = state->lifecycle;
    while (!lifecycle.stopping()) {
      if (state->handlers.size() >= options.max_concurrent_handlers &&
          options.when_busy == busy_policy::pause_receiving) {
        co_await lifecycle.wait_for_free_slot(detail::tuple_awaitable);
        continue;
      }
      auto received = co_await state->endpoint.receive_from(0ms);
      if (lifecycle.stopping()) break;
      if (!received) {
        if (!received.recoverable()) break;  // The endpoint was closed.
        if (received.decode_error()) {
          state->log(log_level::debug, "rejected a datagram from " + to_string(received.sender()) +
                                           ": " + received.error().message() + " (" +
                                           std::string{received.reason()} + ")");
          continue;
        }
        if (detail::is_icmp_report(received.error())) {
          // About a datagram sent earlier (a peer that went away), not about this socket.
          state->log(log_level::debug, "receive: " + received.error().message());
          continue;
        }
        // A socket error (out of memory, ...): retrying at once could spin.
        co_await lifecycle.retry_after_failure("receive", received.error(),
                                               detail::tuple_awaitable);
        continue;
      }
      lifecycle.succeeded();
      if (state->handlers.size() >= options.max_concurrent_handlers) {
        state->counters->dropped_busy.add(1);  // busy_policy::drop
        continue;
      }
      start_handler(state, handler,
                    datagram_type{owned_message_t<typename Codec::message_type>(*received),
                                  received.sender(), state->endpoint});
    }
    state->receive_loop_running = false;
  }

  state_ptr state_;
};

/// A UDP server (IPv4, IPv6, or dual-stack).
template <codec Codec = datagram_codec>
using udp_server = basic_datagram_server<asio::ip::udp, Codec>;
/// A Unix domain datagram socket server.
template <codec Codec = datagram_codec>
using unix_datagram_server = basic_datagram_server<asio::local::datagram_protocol, Codec>;

}  // namespace coronet
