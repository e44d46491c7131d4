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
#pragma once

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

#include "coronet/detail/direct_resume.hpp"

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

#endif

/// Waits for `socket` to become readable, then calls `handler(error)`; the wait is cancelled
/// through `slot`. Equivalent to socket.async_wait(wait_read, bind_cancellation_slot(slot,
/// handler)), with a smaller pending operation when both executors are one plain io_context's.
template <typename Socket, typename Handler>
void async_wait_readable(Socket& socket, Handler handler, asio::cancellation_slot slot) {
#if CORONET_DIRECT_RESUME
  if constexpr (std::is_same_v<typename Socket::executor_type, asio::any_io_executor>) {
    using context_executor = asio::io_context::executor_type;
    const asio::any_io_executor& io_executor = socket.get_executor();
    // Asio 1.22's any_executor::target<T>() does not check the type: target_type() first.
    const bool plain_context = io_executor.target_type() == typeid(context_executor);
    const context_executor* plain =
        plain_context ? io_executor.template target<context_executor>() : nullptr;
    if (plain != nullptr && asio::get_associated_executor(handler) == io_executor) {
      auto& implementation = socket_internals<Socket>::implementation(socket);
      executorless_handler<Handler> bound{std::move(handler), slot};
      implementation.get_service().async_wait(implementation.get_implementation(),
                                              asio::socket_base::wait_read, bound, *plain);
      return;
    }
  }
#endif
  socket.async_wait(asio::socket_base::wait_read,
                    asio::bind_cancellation_slot(slot, std::move(handler)));
}

}  // namespace coronet::detail
