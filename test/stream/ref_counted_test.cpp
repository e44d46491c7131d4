// ref_ptr, the handle a connection's state is shared by: the object lives exactly as long as
// its last handle, whatever type and thread drops it, and if_alive() never revives an object on
// its way out (the deadline service's case).
#include "coronet/detail/ref_counted.hpp"

#include <catch2/catch.hpp>
#include <thread>
#include <utility>
#include <vector>

using coronet::detail::make_ref;
using coronet::detail::ref_counted;
using coronet::detail::ref_ptr;

namespace {

struct tracked_base : ref_counted {
  explicit tracked_base(int& destroyed) : destroyed_count{&destroyed} {}
  int* destroyed_count;
};

// Destroyed through ref_counted's virtual destructor: its own must run too.
struct tracked : tracked_base {
  tracked(int& destroyed, int& derived_destroyed)
      : tracked_base{destroyed}, derived_destroyed_count{&derived_destroyed} {}
  ~tracked() override {
    ++*destroyed_count;
    ++*derived_destroyed_count;
  }
  int* derived_destroyed_count;
};

}  // namespace

TEST_CASE("ref_ptr: copies and moves share one object, destroyed when the last handle goes") {
  int destroyed = 0;
  int derived_destroyed = 0;
  auto first = make_ref<tracked>(destroyed, derived_destroyed);
  {
    ref_ptr<tracked> copy = first;
    ref_ptr<tracked> moved = std::move(copy);
    CHECK_FALSE(copy);  // NOLINT(bugprone-use-after-move): a moved-from handle is null.
    CHECK(moved == first);
    first = ref_ptr<tracked>{};  // Not the last handle: `moved` still owns it.
    CHECK(destroyed == 0);
    first = moved;
  }
  CHECK(destroyed == 0);
  first = ref_ptr<tracked>{};
  CHECK(destroyed == 1);
  CHECK(derived_destroyed == 1);
}

TEST_CASE("ref_ptr: a handle to the base keeps the derived object and destroys it whole") {
  int destroyed = 0;
  int derived_destroyed = 0;
  ref_ptr<tracked_base> base;
  {
    auto derived = make_ref<tracked>(destroyed, derived_destroyed);
    base = derived;                                   // Converting copy.
    ref_ptr<tracked_base> other{std::move(derived)};  // Converting move.
    CHECK_FALSE(derived);                             // NOLINT(bugprone-use-after-move)
  }
  CHECK(destroyed == 0);
  base = ref_ptr<tracked_base>{};
  CHECK(destroyed == 1);
  CHECK(derived_destroyed == 1);  // Through the derived class's destructor.
}

namespace {

// Asks for a handle to itself while it is being destroyed, as the deadline service may.
struct asks_in_destructor : ref_counted {
  explicit asks_in_destructor(bool& got) : got_handle{&got} {}
  ~asks_in_destructor() override {
    *got_handle = static_cast<bool>(ref_ptr<asks_in_destructor>::if_alive(this));
  }
  bool* got_handle;
};

}  // namespace

TEST_CASE("ref_ptr::if_alive: a handle while the object has an owner, none on its way out") {
  bool got_in_destructor = true;
  auto owner = make_ref<asks_in_destructor>(got_in_destructor);
  {
    auto alive = ref_ptr<asks_in_destructor>::if_alive(owner.get());
    REQUIRE(alive);
    CHECK(alive == owner);
  }
  owner = ref_ptr<asks_in_destructor>{};
  CHECK_FALSE(got_in_destructor);
}

TEST_CASE("ref_ptr: handles copied and dropped on two threads destroy the object once") {
  int destroyed = 0;
  int derived_destroyed = 0;
  auto shared = make_ref<tracked>(destroyed, derived_destroyed);
  constexpr int rounds = 100'000;
  auto churn = [](ref_ptr<tracked> mine) {
    for (int i = 0; i < rounds; ++i) {
      ref_ptr<tracked> copy = mine;
      auto revived = ref_ptr<tracked>::if_alive(copy.get());
      mine = std::move(copy);
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(churn, shared);
  threads.emplace_back(churn, shared);
  shared = ref_ptr<tracked>{};  // The threads' handles are the last ones now.
  for (auto& thread : threads)
    thread.join();
  CHECK(destroyed == 1);
  CHECK(derived_destroyed == 1);
}
