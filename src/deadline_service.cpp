// The deadline queue: a binary heap of entries and one timer armed for the earliest.
#include "coronet/detail/deadline_service.hpp"

#include <utility>

#include <asio/execution/context.hpp>
#include <asio/query.hpp>

namespace coronet::detail {

deadline_service::deadline_service(asio::execution_context& context)
    : asio::execution_context::service{context} {
#if CORONET_REACTOR_WAIT
  // Never made here: a context without sockets or timers (a thread pool's) needs none.
  if (asio::has_service<asio::detail::reactor>(context)) {
    reactor_ = &asio::use_service<asio::detail::reactor>(context);
  }
#endif
}

deadline_service::~deadline_service() = default;

deadline_service& deadline_service::of(const asio::any_io_executor& executor) {
  return asio::use_service<deadline_service>(asio::query(executor, asio::execution::context));
}

void deadline_service::shutdown() {
  const std::lock_guard lock{mutex_};
  shut_down_ = true;
  timer_.reset();
}

void deadline_service::schedule(deadline_entry& entry, clock::time_point expiry,
                                const asio::any_io_executor& executor) {
  const std::lock_guard lock{mutex_};
  if (shut_down_) return;
  const clock::time_point before = entry.expiry_;
  entry.expiry_ = expiry;
  if (entry.heap_index_ == deadline_entry::not_queued) {
    heap_.push_back(&entry);
    entry.heap_index_ = static_cast<std::uint32_t>(heap_.size() - 1);
    sift_up(entry.heap_index_);
  } else if (expiry < before) {
    sift_up(entry.heap_index_);
  } else {
    sift_down(entry.heap_index_);
  }
  if (heap_.front()->expiry_ < armed_for_) arm(executor);
}

void deadline_service::cancel(deadline_entry& entry) {
  const std::lock_guard lock{mutex_};
  if (entry.heap_index_ != deadline_entry::not_queued) remove_at(entry.heap_index_);
  entry.expiry_ = clock::time_point::max();
  // Nothing left to wait for: let the context's run() return.
  if (heap_.empty() && timer_ && armed_for_ != clock::time_point::max()) {
    armed_for_ = clock::time_point::max();
    timer_->cancel();
  }
}

// With the lock held.
void deadline_service::arm(const asio::any_io_executor& executor) {
  if (!timer_) timer_ = std::make_unique<asio::steady_timer>(executor);
  armed_for_ = heap_.front()->expiry_;
  timer_->expires_at(armed_for_);  // Cancels the wait pending for a later expiry, if any.
  timer_->async_wait([this](std::error_code error) {
    if (!error) on_timer();  // operation_aborted: re-armed or cancelled meanwhile.
  });
}

void deadline_service::on_timer() {
  const std::lock_guard lock{mutex_};
  if (shut_down_) return;
  armed_for_ = clock::time_point::max();
  const clock::time_point now = clock::now();
  while (!heap_.empty() && heap_.front()->expiry_ <= now) {
    deadline_entry* entry = heap_.front();
    remove_at(0);
    entry->expiry_ = clock::time_point::max();
    entry->expired_(*entry);
  }
  if (!heap_.empty()) arm(timer_->get_executor());
}

bool deadline_service::earlier(std::size_t a, std::size_t b) const noexcept {
  return heap_[a]->expiry_ < heap_[b]->expiry_;
}

void deadline_service::place(std::size_t index, deadline_entry* entry) noexcept {
  heap_[index] = entry;
  entry->heap_index_ = static_cast<std::uint32_t>(index);
}

void deadline_service::sift_up(std::size_t index) noexcept {
  while (index > 0) {
    const std::size_t parent = (index - 1) / 2;
    if (!earlier(index, parent)) break;
    deadline_entry* moving = heap_[index];
    place(index, heap_[parent]);
    place(parent, moving);
    index = parent;
  }
}

void deadline_service::sift_down(std::size_t index) noexcept {
  while (true) {
    const std::size_t left = 2 * index + 1;
    if (left >= heap_.size()) break;
    std::size_t child = left;
    if (left + 1 < heap_.size() && earlier(left + 1, left)) child = left + 1;
    if (!earlier(child, index)) break;
    deadline_entry* moving = heap_[index];
    place(index, heap_[child]);
    place(child, moving);
    index = child;
  }
}

void deadline_service::remove_at(std::size_t index) noexcept {
  deadline_entry* removed = heap_[index];
  removed->heap_index_ = deadline_entry::not_queued;
  deadline_entry* last = heap_.back();
  heap_.pop_back();
  if (index == heap_.size()) return;  // It was the last one.
  place(index, last);
  sift_up(index);
  sift_down(last->heap_index_);
}

}  // namespace coronet::detail
