// System calls behind framed_connection::send_file (see file_transfer.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <system_error>
#include <utility>

namespace coronet::detail {

#if defined(__linux__)
/// One sendfile(2) call on a non-blocking socket: bytes sent, or an error (would_block when the
/// socket buffer is full). SIGPIPE is never delivered for a closed peer: it is EPIPE instead.
std::pair<std::error_code, std::size_t> sendfile_some(int socket, int file, std::uint64_t offset,
                                                      std::size_t count) noexcept;
#endif

/// pread(2) of up to `size` bytes at `offset`: the count (0 at end of file) or an error.
std::pair<std::error_code, std::size_t> read_file_at(int file, std::uint64_t offset, char* buffer,
                                                     std::size_t size) noexcept;

}  // namespace coronet::detail
