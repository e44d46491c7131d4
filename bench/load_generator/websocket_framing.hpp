// The load generator's WebSocket client side (--websocket, echo mode), written here rather than
// taken from coronet, for the same reason as the line splitter: the figures should measure the
// server, and the checks should not trust the library under test. The opening handshake sends a
// random Sec-WebSocket-Key and checks the server's Sec-WebSocket-Accept against our own SHA-1 of
// it (RFC 6455 section 4); messages go out as single masked text frames and come back as single
// unmasked text frames, anything else being an error.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/awaitable.hpp>

#include "options.hpp"
#include "stream.hpp"

namespace load {

/// Base64 of SHA-1(key + the RFC 6455 GUID): the Sec-WebSocket-Accept a server must answer.
std::string websocket_accept_for(std::string_view key);

/// Frames the server sends, as they are read: the buffer is bounded by one read plus the
/// largest frame accepted, and every frame must be one whole unmasked text message.
class websocket_reader {
 public:
  /// `read_size`: free space offered to each read; `max_payload`: a larger frame is an error.
  websocket_reader(std::size_t read_size, std::size_t max_payload);

  /// Bytes that arrived with the handshake's response, before any read.
  void preload(std::string_view bytes);
  /// Free space for the next read (compacts first when the tail is short).
  std::span<char> prepare();
  void commit(std::size_t count) noexcept { end_ += count; }
  /// The payload of the next complete frame; valid until the next prepare(). Nothing when the
  /// frame is incomplete or wrong (then problem() says why).
  std::optional<std::string_view> next();
  /// Empty while every frame was a text message within bounds; otherwise what was wrong.
  const std::string& problem() const noexcept { return problem_; }

 private:
  std::vector<char> data_;
  std::size_t read_size_;
  std::size_t max_payload_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::string problem_;
};

/// Appends `payload` as one masked, final text frame (the client role). The masks come from a
/// fast generator seeded once from std::random_device: unpredictable enough for a benchmark,
/// not for a client facing untrusted intermediaries.
void append_masked_text(std::string& out, std::string_view payload);

/// The client's opening handshake on a connected stream: GET `options.websocket_path`, a fresh
/// random key, and the response checked (101, Upgrade, Connection, Sec-WebSocket-Accept), the
/// whole exchange bounded by options.connect_timeout. Bytes after the response go to `reader`.
/// Returns an empty string, or what went wrong.
asio::awaitable<std::string> websocket_handshake(stream& stream, websocket_reader& reader,
                                                 const options& options);

}  // namespace load
