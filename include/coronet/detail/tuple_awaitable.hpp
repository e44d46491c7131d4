// The completion token coronet's coroutines await operations with: the operation's results as a
// tuple (error code included), so expected network events come back as values, not exceptions.
#pragma once

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace coronet::detail {

inline constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace coronet::detail
