// Shared ownership with the count in the object: ref_ptr<T> is one pointer, where
// std::shared_ptr is two, and make_ref allocates the object alone, where std::make_shared adds
// a 16-byte control block. A connection's state is owned this way because every idle
// connection holds it, and its pending wait holds a handle to it: 32 bytes per connection.
//
// What it does not do: weak references, custom deleters, aliasing. In place of weak_ptr::lock
// there is ref_ptr::if_alive, for a caller that knows the object's memory is still there (the
// deadline service, which the destructor waits for). The object is destroyed through its
// virtual destructor when the last ref_ptr goes, on whichever thread drops it (the count is
// atomic, as shared_ptr's).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace coronet::detail {

/// Base of an object owned by ref_ptr handles.
class ref_counted {
 public:
  ref_counted(const ref_counted&) = delete;
  ref_counted& operator=(const ref_counted&) = delete;

 protected:
  ref_counted() noexcept = default;
  virtual ~ref_counted() = default;

 private:
  template <typename T>
  friend class ref_ptr;

  void add_reference() noexcept { references_.fetch_add(1, std::memory_order_relaxed); }
  // A reference only while the object has an owner: none once the count has reached zero and
  // the object is on its way out.
  bool add_reference_if_owned() noexcept {
    std::uint32_t count = references_.load(std::memory_order_relaxed);
    while (count != 0) {
      if (references_.compare_exchange_weak(count, count + 1, std::memory_order_acq_rel,
                                            std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
  void drop_reference() noexcept {
    // acq_rel: whatever other owners did to the object happens before its destruction.
    if (references_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // 32 bits: 4 billion handles to one object is not a case to plan for.
  std::atomic<std::uint32_t> references_{0};
};

/// A counted handle to a T derived from ref_counted (null or owning one reference).
template <typename T>
class ref_ptr {
 public:
  ref_ptr() noexcept = default;
  /// Takes a reference to `object`, which may already have owners (ref_ptr{this} is
  /// shared_from_this()).
  explicit ref_ptr(T* object) noexcept : object_{object} {
    if (object_) counted(object_).add_reference();
  }
  ref_ptr(const ref_ptr& other) noexcept : ref_ptr{other.object_} {}
  ref_ptr(ref_ptr&& other) noexcept : object_{std::exchange(other.object_, nullptr)} {}
  template <typename U>
  requires std::is_convertible_v<U*, T*> ref_ptr(const ref_ptr<U>& other)
  noexcept : ref_ptr{other.get()} {}
  template <typename U>
  requires std::is_convertible_v<U*, T*> ref_ptr(ref_ptr<U>&& other)
  noexcept : object_{other.release()} {}

  /// A handle to `object` if it still has an owner, else a null one. `object`'s memory must
  /// still be there: the caller knows its destructor has not finished (it waits for the
  /// caller, as ~connection_core waits for the deadline service's lock).
  static ref_ptr if_alive(T* object) noexcept {
    ref_ptr handle;
    if (counted(object).add_reference_if_owned()) handle.object_ = object;
    return handle;
  }

  ref_ptr& operator=(ref_ptr other) noexcept {
    std::swap(object_, other.object_);
    return *this;
  }
  ~ref_ptr() {
    if (object_) counted(object_).drop_reference();
  }

  T* get() const noexcept { return object_; }
  T& operator*() const noexcept { return *object_; }
  T* operator->() const noexcept { return object_; }
  explicit operator bool() const noexcept { return object_ != nullptr; }
  friend bool operator==(const ref_ptr& a, const ref_ptr& b) noexcept = default;

 private:
  template <typename U>
  friend class ref_ptr;

  // The reference goes to the caller (for the converting move).
  T* release() noexcept { return std::exchange(object_, nullptr); }

  static ref_counted& counted(T* object) noexcept { return *object; }

  T* object_ = nullptr;
};

/// A new T, owned by the returned handle.
template <typename T, typename... Args>
ref_ptr<T> make_ref(Args&&... args) {
  return ref_ptr<T>{new T(std::forward<Args>(args)...)};
}

}  // namespace coronet::detail
