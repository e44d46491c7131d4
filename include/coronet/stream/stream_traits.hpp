// What a byte stream declares about itself. The framed connection takes shortcuts past Asio's
// generic stream operations only for streams that opt in here: a stream that merely has a
// native_handle() (a TLS or WebSocket wrapper forwarding its socket's) must not have its bytes
// read or written on the descriptor directly, or they would bypass the wrapper.
#pragma once

#include <type_traits>

#include <asio/basic_stream_socket.hpp>

namespace coronet {

/// Whether the bytes of `Stream` go straight to its native descriptor, unchanged. When true,
/// the framed connection reads with non-blocking read_some() and waits with async_wait()
/// (`Stream` must have both, and native_handle()), and send_file uses sendfile(2) on Linux.
/// Asio's stream sockets opt in; every other stream, wrappers included, gets Asio's generic
/// async_read_some / async_write_some path. Specialise it (std::true_type) for a stream of
/// your own that has those members and nothing between them and the descriptor.
template <typename Stream>
struct is_descriptor_stream : std::false_type {};

template <typename Protocol, typename Executor>
struct is_descriptor_stream<asio::basic_stream_socket<Protocol, Executor>> : std::true_type {};

template <typename Stream>
inline constexpr bool is_descriptor_stream_v = is_descriptor_stream<Stream>::value;

}  // namespace coronet
