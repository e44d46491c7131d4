// The concepts a codec satisfies. A codec is pure: it turns bytes into messages and messages into
// bytes and never touches a socket, so the same codec serves TCP, Unix sockets and UDP.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <system_error>

#include "coronet/codec/decode_result.hpp"

namespace coronet {

/// What a codec's encode() takes: `C::outgoing_type` when the codec declares one (an asymmetric
/// codec, such as HTTP's: requests in, responses out), else `C::message_type`.
template <typename C>
struct outgoing_message {
  using type = typename C::message_type;
};
template <typename C>
requires requires {
  typename C::outgoing_type;
}
struct outgoing_message<C> {
  using type = typename C::outgoing_type;
};

/// The type a codec `C` encodes (see outgoing_message).
template <typename C>
using outgoing_message_t = typename outgoing_message<C>::type;

/// A codec decodes messages from a byte buffer and encodes messages by appending to one.
///
/// - `C::message_type` is what decode() yields. It may view into the input (std::string_view);
///   it stays valid until the caller drops the consumed bytes.
/// - `decode(bytes)` looks at `bytes`, the caller's buffered input starting at the first byte not
///   yet consumed. It returns a decode_result; the caller drops consumed() bytes and calls again
///   while the result is a message or a recoverable error.
/// - `encode(message, out)` appends the framed message to `out`. It returns an empty error_code,
///   or an error (and leaves `out` unchanged) if the message cannot be framed faithfully.
///   `message` is a message_type, or the codec's `outgoing_type` when it declares one: a
///   protocol whose two directions carry different messages (HTTP) encodes what it answers.
template <typename C>
concept codec = requires(C& c, std::string_view bytes, const outgoing_message_t<C>& message,
                         std::string& out) {
  typename C::message_type;
  { c.decode(bytes) } -> std::same_as<decode_result<typename C::message_type>>;
  { c.encode(message, out) } -> std::same_as<std::error_code>;
};

/// A codec that sends on a message it decoded itself for less than a new one: an echo or a
/// relay of the very view decode() returned. `encode_decoded(message, out)` frames it like
/// encode() but may skip what decode() already checked (line_codec: the UTF-8 check and the
/// scan for '\n'). A framed connection calls it only for the view its last read returned.
template <typename C>
concept reencoding_codec = codec<C> &&
    requires(const C& c, const typename C::message_type& message, std::string& out) {
  { c.encode_decoded(message, out) } -> std::same_as<std::error_code>;
};

/// A codec for byte streams (TCP, Unix stream sockets), where reads split input anywhere.
///
/// On top of `codec`, a stream codec must:
/// - decode the same messages and errors however the stream is split into calls, with the
///   caller's buffer growing by appending (it passes back every byte it has not consumed);
/// - cost O(n) in total for n bytes, however they are split (no rescan of the whole buffer per
///   call: a codec remembers how far it has looked);
/// - offer `decode_eof(bytes)`, called once the stream has ended: like decode(), but it also
///   yields or rejects a final incomplete frame. need_more from decode_eof means "nothing left".
template <typename C>
concept stream_codec = codec<C> && requires(C& c, std::string_view bytes) {
  { c.decode_eof(bytes) } -> std::same_as<decode_result<typename C::message_type>>;
};

/// A codec that can be returned to its freshly constructed state (same options, no decode
/// state) by `reset()`. Optional: framed_connection resets its codec after raw reads
/// (recv_into); for a codec without reset() it keeps a fresh copy to assign instead.
template <typename C>
concept resettable_codec = requires(C& c) {
  c.reset();
};

/// A codec whose protocol answers an unrecoverable decode error before closing (HTTP's 400,
/// WebSocket's close frame): it declares `static constexpr bool answers_fatal_errors = true`.
/// After such an error a framed_connection ends reading (every later read() returns the same
/// error) but stays writable, so the handler can send its answer; returning closes it. For other
/// codecs an unrecoverable error closes the connection at once.
template <typename C>
concept answering_codec = requires {
  requires C::answers_fatal_errors;
};

/// A codec that says how its protocol turns a client away (a server at max_connections):
/// `refusal(text)` returns the outgoing message a server sends before closing, e.g. an HTTP
/// codec's 503 response. Optional: without it a server sends `text` itself when the outgoing
/// message type can hold text, and otherwise just closes.
template <typename C>
concept refusing_codec = codec<C> && requires(const C& c, std::string_view text) {
  { c.refusal(text) } -> std::convertible_to<outgoing_message_t<C>>;
};

}  // namespace coronet
