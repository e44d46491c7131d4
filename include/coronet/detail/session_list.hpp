// What a server is running, in start order — a stream server's sessions, a datagram server's
// handlers: an intrusive list (the links live in each entry, so keeping one costs no allocation
// of its own) of what stop() and the destructor must reach: how to cancel an entry's handler
// and how to close what it holds.
#pragma once

#include <cstddef>

#include <asio/cancellation_signal.hpp>

namespace coronet::detail {

// One running handler (with its connection, for a stream server), as the server sees it. The
// handler coroutine is spawned directly (no wrapper coroutine of its own: every suspended frame
// costs an idle connection memory); its completion ends the entry.
struct server_session {
  server_session() = default;
  server_session(const server_session&) = delete;
  server_session& operator=(const server_session&) = delete;
  virtual ~server_session() = default;
  /// Closes what the entry holds (a connection, a stream in its handshake); may do nothing.
  virtual void close_now() = 0;
  /// Cancels the handler (a server's stop): its coroutine through cancel_handler, unless the
  /// entry runs its handler some other way.
  virtual void cancel() { cancel_handler.emit(asio::cancellation_type::terminal); }

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

}  // namespace coronet::detail
