// The per-thread cache of buffers that quiet connections give back: bounded, reused most recent
// first, one per thread; and the read buffer and send queue taking their storage from it.
#include "coronet/stream/detail/thread_buffer_cache.hpp"

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>

#include "coronet/stream/detail/read_buffer.hpp"
#include "coronet/stream/detail/send_queue.hpp"

using coronet::detail::read_buffer;
using coronet::detail::send_queue;
using coronet::detail::thread_buffer_cache;

namespace {

// Each test uses its own cache type (the tag), so they start empty whatever ran before.
template <int Tag>
struct tagged {
  std::unique_ptr<int> value;
};

// Connections in tests that ran before on this thread may have left buffers in the caches.
void empty_the_caches() {
  while (read_buffer::cache::kept() > 0)
    read_buffer::cache::take();
  while (send_queue::cache::kept() > 0)
    send_queue::cache::take();
}

}  // namespace

TEST_CASE("the buffer cache gives back the most recently kept buffer first") {
  using cache = thread_buffer_cache<tagged<1>, 4>;
  REQUIRE(cache::kept() == 0);
  CHECK(cache::take().value == nullptr);  // Empty: a default-constructed buffer.

  auto first = std::make_unique<int>(1);
  auto second = std::make_unique<int>(2);
  int* const first_address = first.get();
  int* const second_address = second.get();
  cache::keep({std::move(first)});
  cache::keep({std::move(second)});
  CHECK(cache::kept() == 2);
  CHECK(cache::take().value.get() == second_address);
  CHECK(cache::take().value.get() == first_address);
  CHECK(cache::kept() == 0);
}

TEST_CASE("the buffer cache keeps at most its number of slots and frees the rest") {
  using cache = thread_buffer_cache<tagged<2>, 2>;
  for (int i = 0; i < 5; ++i) {
    cache::keep({std::make_unique<int>(i)});
  }
  CHECK(cache::kept() == 2);
  CHECK(*cache::take().value == 1);  // The first two kept; the three that did not fit freed.
  CHECK(*cache::take().value == 0);
  CHECK(cache::take().value == nullptr);
}

TEST_CASE("each thread has its own buffer cache") {
  using cache = thread_buffer_cache<tagged<3>, 4>;
  cache::keep({std::make_unique<int>(7)});
  std::size_t kept_on_other_thread = 99;
  bool other_took_nothing = false;
  std::thread other{[&] {
    kept_on_other_thread = cache::kept();
    other_took_nothing = cache::take().value == nullptr;
  }};
  other.join();
  CHECK(kept_on_other_thread == 0);
  CHECK(other_took_nothing);
  CHECK(*cache::take().value == 7);
}

TEST_CASE("a read buffer released when small is reused by the next read buffer on the thread") {
  empty_the_caches();
  const char* released = nullptr;
  {
    read_buffer quiet;
    auto space = quiet.prepare(4096);
    released = space.data();
    quiet.commit(10);
    quiet.consume(10);
    quiet.release(4096);
    CHECK(quiet.capacity() == 0);  // The connection holds nothing while quiet.
    CHECK(read_buffer::cache::kept() == 1);
  }
  read_buffer next;
  auto space = next.prepare(100);
  CHECK(space.data() == released);
  CHECK(space.size() >= 4096);
  CHECK(read_buffer::cache::kept() == 0);
}

TEST_CASE("a read buffer larger than the cache limit is freed on release, not kept") {
  empty_the_caches();
  read_buffer large;
  large.prepare(8192);
  large.release(4096);
  CHECK(large.capacity() == 0);
  CHECK(read_buffer::cache::kept() == 0);
}

TEST_CASE("a read buffer is not released while it holds unread bytes") {
  empty_the_caches();
  read_buffer busy;
  auto space = busy.prepare(16);
  space[0] = 'a';
  busy.commit(1);
  busy.release(4096);
  CHECK(busy.capacity() >= 16);
  CHECK(busy.readable() == "a");
  CHECK(read_buffer::cache::kept() == 0);
}

TEST_CASE("a quiet send queue's buffers keep their capacity for the next connection's burst") {
  empty_the_caches();
  send_queue first;
  for (int i = 0; i < 16; ++i)
    first.pending().append(64, 'x');
  first.begin_batch();
  CHECK(first.hand_over(16 * 64));
  first.end_batch(1 << 20);
  const std::size_t grown = first.capacity();
  CHECK(grown >= 16 * 64);
  first.release(4096, false);
  CHECK(first.capacity() == 0);  // The connection holds nothing while quiet.
  CHECK(send_queue::cache::kept() == 1);

  send_queue next;
  CHECK(next.pending().empty());
  CHECK(next.queued_bytes() == 0);
  CHECK(next.capacity() == grown);  // No growth from nothing on its first burst.
}

TEST_CASE("a send queue given up with large buffers or for good keeps nothing in the cache") {
  empty_the_caches();
  send_queue large;
  large.pending().append(10'000, 'x');
  large.begin_batch();
  large.hand_over(10'000);
  large.end_batch(1 << 20);
  large.release(4096, false);  // The large string stays with the queue (a busy connection).
  CHECK(large.capacity() >= 10'000);
  CHECK(send_queue::cache::kept() == 0);
  large.release(4096, true);  // Quiet for long: everything freed.
  CHECK(large.capacity() == 0);
  CHECK(send_queue::cache::kept() == 0);
}
