// An allocator that is plain operator new and delete. Bound to an Asio operation, it keeps that
// operation's memory out of Asio's per-thread recycling cache (which std::allocator selects):
// a large block parked there is handed to the next smaller request, which then keeps it.
#pragma once

#include <cstddef>
#include <new>

namespace coronet::detail {

template <typename T>
struct plain_allocator {
  using value_type = T;

  plain_allocator() noexcept = default;
  template <typename U>
  plain_allocator(const plain_allocator<U>& /*other*/) noexcept {}  // NOLINT: rebinding

  T* allocate(std::size_t count) { return static_cast<T*>(::operator new(count * sizeof(T))); }
  void deallocate(T* pointer, std::size_t /*count*/) noexcept { ::operator delete(pointer); }

  template <typename U>
  bool operator==(const plain_allocator<U>& /*other*/) const noexcept {
    return true;
  }
};

}  // namespace coronet::detail
