// Raw bytes on the peer side of the in-memory stream pair: what a test sends past the codec,
// and what it reads back to check the exact bytes a connection wrote.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <coronet/testing/memory_stream.hpp>
#include <cstddef>
#include <string>

namespace coronet_test {

/// Writes `bytes` as they are.
inline asio::awaitable<void> send_raw(coronet::testing::memory_stream& stream, std::string bytes) {
  co_await asio::async_write(stream, asio::buffer(bytes), asio::use_awaitable);
}

/// Reads exactly `count` bytes.
inline asio::awaitable<std::string> read_raw(coronet::testing::memory_stream& stream,
                                             std::size_t count) {
  std::string bytes(count, '\0');
  co_await asio::async_read(stream, asio::buffer(bytes), asio::use_awaitable);
  co_return bytes;
}

}  // namespace coronet_test
