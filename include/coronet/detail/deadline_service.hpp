// One timer per execution context for the timeouts of all its connections. A connection that
// held an Asio timer of its own paid for the timer object and for a pending wait operation for
// as long as it was idle (about 250 bytes each, with an idle timeout always armed); here it pays
// for a place in a heap. Waking early is cheap, so deadlines that move later (every received
// message moves the idle deadline) are left in place and re-queued when they come up.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/execution_context.hpp>
#include <asio/steady_timer.hpp>

#include "coronet/detail/direct_resume.hpp"
#if CORONET_REACTOR_WAIT
#include <asio/detail/reactor.hpp>
#endif

namespace coronet::detail {

#if CORONET_REACTOR_WAIT
using context_reactor = asio::detail::reactor;
#else
struct context_reactor;  // None to reach: waits go through Asio's socket service.
#endif

/// Something with a deadline: a connection's watchdog. Owned by its user; it must be cancelled
/// (deadline_service::cancel) before it is destroyed.
class deadline_entry {
 public:
  using clock = std::chrono::steady_clock;

  /// `expired(entry)` is called when the deadline passes, on whichever thread runs the service's
  /// timer and with the service locked: it should only hand the work to the owner's executor.
  explicit deadline_entry(void (*expired)(deadline_entry&)) noexcept : expired_{expired} {}
  deadline_entry(const deadline_entry&) = delete;
  deadline_entry& operator=(const deadline_entry&) = delete;

  /// When it expires (time_point::max() while not queued).
  clock::time_point expiry() const noexcept { return expiry_; }

 private:
  friend class deadline_service;
  static constexpr std::uint32_t not_queued = std::numeric_limits<std::uint32_t>::max();

  clock::time_point expiry_ = clock::time_point::max();
  void (*expired_)(deadline_entry&);
  // 32 bits, last: a class derived from this one (a connection, of which there are many) puts
  // its own first 4 bytes in the padding after it.
  std::uint32_t heap_index_ = not_queued;
};

/// The deadline queue of one execution context (an Asio service: one per io_context, made on
/// first use). Thread-safe: connections of one io_context may run on several threads.
class deadline_service : public asio::execution_context::service {
 public:
  using key_type = deadline_service;
  static inline asio::execution_context::id id;
  using clock = deadline_entry::clock;

  explicit deadline_service(asio::execution_context& context);
  ~deadline_service() override;

  /// The service of the context `executor` belongs to.
  static deadline_service& of(const asio::any_io_executor& executor);

  /// Queues `entry` to expire at `expiry`, or moves it there if it is queued already.
  /// `executor` (of this service's context) runs the timer if it is not running yet.
  void schedule(deadline_entry& entry, clock::time_point expiry,
                const asio::any_io_executor& executor);

  /// Takes `entry` out of the queue (nothing happens if it is not queued). After this returns,
  /// `entry` will not be called.
  void cancel(deadline_entry& entry);

  /// The context's Asio reactor, if it had one when this service was made (it has once a socket
  /// or a timer was made on it) and Asio's internals are used (CORONET_REACTOR_WAIT); null
  /// otherwise. Looked up once here for the readability waits started in it
  /// (stream/detail/inline_wait.hpp), which need it on every wait: Asio's lookup takes a lock.
  context_reactor* reactor() const noexcept { return reactor_; }

 private:
  void shutdown() override;
  void arm(const asio::any_io_executor& executor);
  void on_timer();

  bool earlier(std::size_t a, std::size_t b) const noexcept;
  void place(std::size_t index, deadline_entry* entry) noexcept;
  void sift_up(std::size_t index) noexcept;
  void sift_down(std::size_t index) noexcept;
  void remove_at(std::size_t index) noexcept;

  std::mutex mutex_;
  std::vector<deadline_entry*> heap_;  // A binary min-heap on expiry.
  std::unique_ptr<asio::steady_timer> timer_;
  clock::time_point armed_for_ = clock::time_point::max();  // The pending wait's expiry.
  bool shut_down_ = false;
  context_reactor* reactor_ = nullptr;
};

}  // namespace coronet::detail
