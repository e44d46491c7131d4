// send_file's transfer: sendfile(2) straight from the file to the descriptor for streams whose
// bytes go unchanged to their descriptor (is_descriptor_stream), pread and write through the
// stream otherwise (a TLS stream must encrypt the file like any other bytes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>
#include <tuple>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "coronet/detail/tuple_awaitable.hpp"
#include "coronet/stream/detail/sendfile.hpp"
#include "coronet/stream/stream_traits.hpp"

namespace coronet::detail {

/// Sends `count` bytes of `file` from `offset` over `stream`. `before_wait()` is called before
/// every wait for the stream to take more (the caller arms its write timeout there) and
/// `sent(bytes)` after every transfer. Returns asio::error::eof if the file ends first.
template <typename Stream, typename BeforeWait, typename Sent>
asio::awaitable<std::error_code> transfer_file(Stream& stream, int file, std::uint64_t offset,
                                               std::uint64_t count, BeforeWait before_wait,
                                               Sent sent) {
#if defined(__linux__)
  if constexpr (is_descriptor_stream_v<Stream>) {
    std::error_code error;
    stream.native_non_blocking(true, error);
    while (!error && count > 0) {
      const auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(count, 1U << 30));
      auto [sent_error, bytes] = sendfile_some(stream.native_handle(), file, offset, chunk);
      if (!sent_error && bytes == 0) co_return asio::error::eof;  // The file is shorter.
      if (sent_error == asio::error::would_block) {
        before_wait();
        std::tie(error) = co_await stream.async_wait(Stream::wait_write, tuple_awaitable);
        continue;
      }
      error = sent_error;
      sent(bytes);
      offset += bytes;
      count -= bytes;
    }
    co_return error;
  }
#endif
  constexpr std::size_t chunk_size = 64 * 1024;
  const auto chunk = std::make_unique_for_overwrite<char[]>(chunk_size);
  while (count > 0) {
    const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(count, chunk_size));
    auto [read_error, read] = read_file_at(file, offset, chunk.get(), wanted);
    if (read_error) co_return read_error;
    if (read == 0) co_return asio::error::eof;
    before_wait();
    auto [write_error, written] =
        co_await asio::async_write(stream, asio::buffer(chunk.get(), read), tuple_awaitable);
    if (write_error) co_return write_error;
    sent(written);
    offset += written;
    count -= written;
  }
  co_return std::error_code{};
}

}  // namespace coronet::detail
