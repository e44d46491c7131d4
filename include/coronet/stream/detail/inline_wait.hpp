// Waiting for a socket to become readable with the smallest pending operation Asio makes.
//
// Why: an idle connection waits for readability all its life, and Asio's wait operation holds a
// copy of the socket's executor and one of the handler's (two any_io_executor work guards, about
// 100 of its 200 bytes), which a plain io_context needs neither of: the context itself completes
// the wait on one of its threads, where the handler may run at once. So when the socket's
// executor and the handler's are the same plain io_context executor, the wait is started with
// the io_context's own executor type and a handler with no executor of its own.
//
// How: through basic_socket's implementation object, as basic_socket::async_wait's own
// initiation does (Asio's detail API: compiled only where direct_resume.hpp uses Asio's
// internals, Asio 1.22; elsewhere, and for any other executor, the socket's own async_wait).
//
// Where Asio's epoll reactor is reachable (CORONET_REACTOR_WAIT), the wait is also cheaper in
// system calls. Asio's own wait makes the reactor re-arm the descriptor (epoll_ctl) every time it
// starts: the reactor does not know whether the socket became readable while nobody waited, so it
// asks the kernel to report it again. That was one system call in six under echo load. But the
// reactor does know it, under the descriptor's lock: it notes "an event was handled" for every
// readiness event, and an operation that reports itself "done and exhausted" clears the note. The
// wait below is such an operation, started as Asio starts a read ("speculatively"): if an event
// was handled since the last wait ended, it ends at once (the reader tries the socket again);
// otherwise it is queued with no system call, and the next event, which the descriptor's
// edge-triggered registration is bound to deliver for anything that arrives after the reader
// found the socket empty, finds it there under that lock. Correct on any number of threads.
#pragma once

#include <new>
#include <system_error>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/socket_base.hpp>

#include "coronet/detail/deadline_service.hpp"
#include "coronet/detail/direct_resume.hpp"

#if CORONET_REACTOR_WAIT
#include <asio/detail/fenced_block.hpp>
#include <asio/detail/handler_work.hpp>
#include <asio/detail/reactor.hpp>
#include <asio/detail/reactor_op.hpp>
#endif

namespace coronet::detail {

#if CORONET_DIRECT_RESUME

// basic_socket keeps its implementation protected; this reaches it the way a derived class may.
template <typename Socket>
struct socket_internals : Socket {
  static auto& implementation(Socket& socket) noexcept {
    return socket.*(&socket_internals::impl_);
  }
};

// A handler without an associated executor (the wait operation then keeps none for it), bound
// to a cancellation slot. Not asio::bind_cancellation_slot: its binder declares an associated
// executor, even when the handler it wraps has none.
template <typename Handler>
struct executorless_handler {
  using cancellation_slot_type = asio::cancellation_slot;
  cancellation_slot_type get_cancellation_slot() const noexcept { return slot; }
  void operator()(std::error_code error) { handler(error); }

  Handler handler;
  asio::cancellation_slot slot;
};

#if CORONET_REACTOR_WAIT
// The same for a handler that has a cancellation slot of its own (resume_handler: the waiting
// coroutine's), which it clears itself when called: it forwards that slot instead of holding a
// copy. 8 bytes less in the wait operation, which every idle connection holds: 88 bytes, a
// 96-byte malloc chunk instead of 112.
template <typename Handler>
struct executorless_own_slot_handler {
  using cancellation_slot_type = asio::cancellation_slot;
  cancellation_slot_type get_cancellation_slot() const noexcept {
    return asio::get_associated_cancellation_slot(handler);
  }
  void operator()(std::error_code error) { handler(error); }

  Handler handler;
};
#endif

#endif

#if CORONET_REACTOR_WAIT

// The readability wait of the top of this file: Asio's reactive_wait_op, except that it reports
// itself exhausted (see there why).
template <typename Handler>
class readable_wait_op : public asio::detail::reactor_op {
  using io_executor = asio::io_context::executor_type;

 public:
  // Asio's ASIO_DEFINE_HANDLER_PTR, with an exact block rather than Asio's recycling allocator:
  // that one hands out the first cached block big enough, often a send operation's (169
  // bytes) for this one's 88, which an idle connection then holds for its whole wait. One
  // malloc per wait instead of a cache hit (a wait ends an idle stretch, not every message).
  struct ptr {
    Handler* h;
    readable_wait_op* v;
    readable_wait_op* p;
    ~ptr() { reset(); }
    static readable_wait_op* allocate(Handler&) {
      return static_cast<readable_wait_op*>(::operator new(sizeof(readable_wait_op)));
    }
    void reset() {
      if (p) {
        p->~readable_wait_op();
        p = nullptr;
      }
      if (v) {
        ::operator delete(v);
        v = nullptr;
      }
    }
  };

  readable_wait_op(Handler& handler, const io_executor& executor)
      : reactor_op{std::error_code{}, &readable_wait_op::do_perform,
                   &readable_wait_op::do_complete},
        handler_{std::move(handler)},
        work_{handler_, executor} {}

  static status do_perform(reactor_op*) { return done_and_exhausted; }

  static void do_complete(void* owner, asio::detail::operation* base,
                          const std::error_code& /*ignored*/, std::size_t /*ignored*/) {
    auto* self = static_cast<readable_wait_op*>(base);
    ptr memory = {std::addressof(self->handler_), self, self};
    asio::detail::handler_work<Handler, io_executor> work(std::move(self->work_));
    // The handler leaves the operation's memory before it is freed: it may own what owns it.
    asio::detail::binder1<Handler, std::error_code> handler(self->handler_, self->ec_);
    memory.h = std::addressof(handler.handler_);
    memory.reset();
    if (owner) {
      asio::detail::fenced_block barrier(asio::detail::fenced_block::half);
      work.complete(handler, handler.handler_);
    }
  }

 private:
  Handler handler_;
  asio::detail::handler_work<Handler, io_executor> work_;
};

// Cancels a pending readable_wait_op (what Asio's socket service does for its own operations).
// The operation's key is its socket's descriptor data, which cancel_readable_wait() also knows:
// the read timeout cancels the wait without a handler of its own in a slot (one block fewer
// per idle connection).
//
// Two pointers and no descriptor: Asio 1.22's epoll reactor (the only one this path is built
// for) finds the operations by descriptor data and ignores cancel_ops_by_key's descriptor. At 16
// bytes the slot's block (Asio's handler wrapper around this, and its size) is 33 bytes and
// takes a 48-byte malloc chunk; with the descriptor it was 41 and took 64, on every idle
// connection.
class readable_wait_cancellation {
 public:
  readable_wait_cancellation(asio::detail::reactor* reactor,
                             asio::detail::reactor::per_descriptor_data* descriptor_data)
      : reactor_{reactor}, descriptor_data_{descriptor_data} {}

  void operator()(asio::cancellation_type type) {
    constexpr auto cancelling = asio::cancellation_type::terminal |
                                asio::cancellation_type::partial | asio::cancellation_type::total;
    if ((type & cancelling) != asio::cancellation_type::none) {
      reactor_->cancel_ops_by_key(asio::detail::invalid_socket, *descriptor_data_,
                                  asio::detail::reactor::read_op, descriptor_data_);
    }
  }

 private:
  asio::detail::reactor* reactor_;
  asio::detail::reactor::per_descriptor_data* descriptor_data_;
};
static_assert(sizeof(readable_wait_cancellation) == 2 * sizeof(void*));

#endif

// Passes the waiting coroutine's cancellation on to `timeout`'s slot, to which a wait that is not
// the reactor's own operation is bound.
inline void forward_cancellation(asio::cancellation_slot own, asio::cancellation_signal& timeout) {
  if (own.is_connected()) {
    own.assign([&timeout](asio::cancellation_type type) { timeout.emit(type); });
  }
}

/// Waits for `socket` to become readable, then calls `handler(error)`. Equivalent to
/// socket.async_wait(wait_read, handler), with a smaller pending operation when both executors
/// are one plain io_context's, and, given that context's `reactor`
/// (deadline_service::reactor()), without re-arming the descriptor. The caller must have found
/// the socket empty (a read that would block) since its last wait on it ended: the wait may
/// otherwise sleep through bytes that are there already.
///
/// Two things cancel the wait: the handler's own cancellation slot (the waiting coroutine's),
/// and the read timeout, which emits `timeout` and calls cancel_readable_wait() (the wait is
/// bound to one or the other: both are needed).
template <typename Socket, typename Handler>
void async_wait_readable(Socket& socket, Handler handler, asio::cancellation_signal& timeout,
                         context_reactor* reactor = nullptr) {
  asio::cancellation_slot own = asio::get_associated_cancellation_slot(handler);
#if CORONET_DIRECT_RESUME
  if constexpr (std::is_same_v<typename Socket::executor_type, asio::any_io_executor>) {
    using context_executor = asio::io_context::executor_type;
    const asio::any_io_executor& io_executor = socket.get_executor();
    // Asio 1.22's any_executor::target<T>() does not check the type: target_type() first.
    const bool plain_context = io_executor.target_type() == typeid(context_executor);
    const context_executor* plain =
        plain_context ? io_executor.template target<context_executor>() : nullptr;
    if (plain != nullptr && asio::get_associated_executor(handler) == io_executor) {
      auto& object = socket_internals<Socket>::implementation(socket);
#if CORONET_REACTOR_WAIT
      if (reactor != nullptr) {
        auto& implementation = object.get_implementation();
        executorless_own_slot_handler<Handler> bound{std::move(handler)};
        using operation = readable_wait_op<executorless_own_slot_handler<Handler>>;
        typename operation::ptr memory = {std::addressof(bound), operation::ptr::allocate(bound),
                                          nullptr};
        memory.p = new (memory.v) operation(bound, *plain);
        memory.p->cancellation_key_ = &implementation.reactor_data_;
        if (own.is_connected()) {
          own.template emplace<readable_wait_cancellation>(reactor, &implementation.reactor_data_);
        }
        // Speculative: the reactor performs the operation at once if an event was handled since
        // the last one ended. A continuation: this runs inside one of the waiter's handlers.
        reactor->start_op(asio::detail::reactor::read_op, implementation.socket_,
                          implementation.reactor_data_, memory.p, true, true);
        memory.v = memory.p = nullptr;
        return;
      }
#endif
      forward_cancellation(own, timeout);
      executorless_handler<Handler> bound{std::move(handler), timeout.slot()};
      object.get_service().async_wait(object.get_implementation(), asio::socket_base::wait_read,
                                      bound, *plain);
      return;
    }
  }
#endif
  (void)reactor;
  forward_cancellation(own, timeout);
  socket.async_wait(asio::socket_base::wait_read,
                    asio::bind_cancellation_slot(timeout.slot(), std::move(handler)));
}

/// Cancels the wait async_wait_readable() started as the reactor's own operation on `socket`,
/// if one is pending (a wait bound to the timeout signal is cancelled by emitting it).
template <typename Socket>
void cancel_readable_wait(Socket& socket, context_reactor* reactor) {
#if CORONET_REACTOR_WAIT
  if constexpr (std::is_same_v<typename Socket::executor_type, asio::any_io_executor>) {
    if (reactor == nullptr || !socket.is_open()) return;
    auto& implementation = socket_internals<Socket>::implementation(socket).get_implementation();
    reactor->cancel_ops_by_key(implementation.socket_, implementation.reactor_data_,
                               asio::detail::reactor::read_op, &implementation.reactor_data_);
  }
#else
  (void)socket;
  (void)reactor;
#endif
}

}  // namespace coronet::detail
