// basic_datagram_endpoint: a UDP or Unix datagram socket whose messages go through a codec
// (datagram_codec by default): Python's sendto / recvfrom / recvfrom_into / connect / send /
// recv on a SOCK_DGRAM socket, as co_await calls whose network errors are values.
// udp_endpoint and unix_datagram_endpoint are the two instantiations.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/local/datagram_protocol.hpp>

#include "coronet/codec/codec_concepts.hpp"
#include "coronet/codec/datagram_codec.hpp"
#include "coronet/error.hpp"
#include "coronet/udp/datagram_options.hpp"
#include "coronet/udp/datagram_stats.hpp"
#include "coronet/udp/detail/datagram_core.hpp"
#include "coronet/udp/receive_result.hpp"

namespace coronet {

/// A datagram socket bound when constructed (so local_endpoint() is known at once), with
/// coroutine sends and receives through `Codec`.
///
/// - One datagram is one message: send_to() encodes a message and sends it as one datagram;
///   receive_from() takes one datagram and decodes it. A datagram larger than the limit
///   (max_datagram_size()) is rejected whole with errc::frame_too_long, never cut; a codec
///   error (errc::invalid_utf8, ...) rejects that datagram only. Both are counted in stats()
///   and the endpoint goes on.
/// - Errors are values: receive calls return a receive_result, sends an error_code. Only
///   construction throws (std::system_error when the address cannot be bound).
/// - One coroutine receives at a time (a second concurrent receive_from() gets
///   asio::error::already_started); any number may send at once.
/// - Use it from the thread running its executor, like every Asio object. Destroying it closes
///   the socket: pending calls return errc::connection_closed. A moved-from endpoint may only be
///   destroyed or assigned to.
template <typename Protocol, codec Codec = datagram_codec>
class basic_datagram_endpoint {
  static_assert(std::is_same_v<Protocol, asio::ip::udp> ||
                    std::is_same_v<Protocol, asio::local::datagram_protocol>,
                "a datagram endpoint runs on asio::ip::udp or asio::local::datagram_protocol");

 public:
  using protocol_type = Protocol;
  using endpoint_type = typename Protocol::endpoint;
  using socket_type = typename Protocol::socket;
  using codec_type = Codec;
  using message_type = typename Codec::message_type;
  using result_type = receive_result<message_type, endpoint_type>;
  using into_result_type = receive_into_result<endpoint_type>;

  /// Opens and binds as `options` says (UDP: host and port; Unix: unix_path, or unbound when
  /// empty) and applies options.socket. Throws std::system_error when that fails.
  basic_datagram_endpoint(const asio::any_io_executor& executor, datagram_options options = {},
                          Codec codec = Codec{})
      : core_{std::make_shared<core_type>(executor, std::move(options), std::move(codec))} {
    if constexpr (std::is_same_v<Protocol, asio::ip::udp>) {
      detail::open_udp_socket(core_->socket, core_->options);
    } else {
      core_->unix_inode = detail::open_unix_datagram_socket(core_->socket, core_->options);
      if (core_->unix_inode != 0) core_->unix_path = core_->options.unix_path;
    }
  }
  basic_datagram_endpoint(asio::io_context& io, datagram_options options = {},
                          Codec codec = Codec{})
      : basic_datagram_endpoint(io.get_executor(), std::move(options), std::move(codec)) {}

  basic_datagram_endpoint(basic_datagram_endpoint&&) noexcept = default;
  basic_datagram_endpoint& operator=(basic_datagram_endpoint&& other) noexcept {
    if (this != &other) {
      close();
      core_ = std::move(other.core_);
    }
    return *this;
  }
  /// Closes the socket (and removes its Unix socket file).
  ~basic_datagram_endpoint() { close(); }

  // ---- sending ----------------------------------------------------------------------------

  /// Encodes `message` and sends it as one datagram to `peer` (Python's sendto). Returns an
  /// empty error_code once the datagram is handed to the operating system (which may still
  /// lose it: UDP does not tell), or a codec error (errc::frame_too_long, errc::invalid_utf8;
  /// nothing is sent), errc::timed_out (options.send_timeout), a socket error, or
  /// errc::connection_closed.
  asio::awaitable<std::error_code> send_to(const message_type& message, const endpoint_type& peer) {
    return send_datagram(core_, message, &peer);
  }

  /// Sends to the peer given to connect() (Python's send on a connected SOCK_DGRAM socket).
  /// Without connect(), the socket error is asio::error::not_connected (or, for Unix sockets,
  /// destination_address_required).
  asio::awaitable<std::error_code> send(const message_type& message) {
    return send_datagram(core_, message, nullptr);
  }

  // ---- receiving --------------------------------------------------------------------------

  /// The next datagram, decoded, and its sender (Python's recvfrom), bounded by
  /// options.receive_timeout. A message that views into the receive buffer (std::string_view
  /// for datagram_codec) is valid until the next receive call. See receive_result for errors.
  asio::awaitable<result_type> receive_from() {
    return receive_from(core_->options.receive_timeout);
  }

  /// receive_from() bounded by `timeout` for this call (zero: wait as long as it takes).
  asio::awaitable<result_type> receive_from(std::chrono::milliseconds timeout) {
    return receive_message(core_, timeout);
  }

  /// receive_from() for a connected endpoint (Python's recv): only the peer's datagrams arrive.
  asio::awaitable<result_type> receive() { return receive_from(core_->options.receive_timeout); }
  /// receive() bounded by `timeout` for this call (zero: wait as long as it takes).
  asio::awaitable<result_type> receive(std::chrono::milliseconds timeout) {
    return receive_from(timeout);
  }

  /// The next datagram's raw bytes into `buffer`, without the codec (Python's recvfrom_into),
  /// bounded by options.receive_timeout. A datagram larger than `buffer` is reported as
  /// errc::frame_too_long with its full size (Linux: recvmsg with MSG_TRUNC), never as a
  /// silently shorter message.
  asio::awaitable<into_result_type> receive_from_into(std::span<char> buffer) {
    return receive_from_into(buffer, core_->options.receive_timeout);
  }
  /// receive_from_into() bounded by `timeout` for this call (zero: wait as long as it takes).
  asio::awaitable<into_result_type> receive_from_into(std::span<char> buffer,
                                                      std::chrono::milliseconds timeout) {
    return receive_raw(core_, buffer, timeout);
  }

  // ---- the socket -------------------------------------------------------------------------

  /// Sets the default peer (Python's connect on SOCK_DGRAM): send() goes there and only its
  /// datagrams are received. No packet is sent. A connected UDP endpoint learns from ICMP that
  /// the peer's port is closed: the next receive returns asio::error::connection_refused.
  std::error_code connect(const endpoint_type& peer) {
    std::error_code error;
    core_->socket.connect(peer, error);
    return error;
  }

  /// The bound address (with the real port when options.port was 0), like getsockname().
  endpoint_type local_endpoint() const {
    std::error_code ignored;
    return core_->socket.local_endpoint(ignored);
  }

  /// The peer given to connect(), like getpeername(); an empty endpoint when not connected.
  endpoint_type remote_endpoint() const {
    std::error_code ignored;
    return core_->socket.remote_endpoint(ignored);
  }

  /// Closes the socket now: pending calls return errc::connection_closed. Removes the Unix
  /// socket file this endpoint bound (if it is still ours).
  void close() {
    if (core_) core_->close();
  }

  /// Whether the endpoint is open (not closed, not moved from).
  bool is_open() const noexcept { return core_ && !core_->closed; }

  /// Counters: datagrams received, rejected (by cause), sent. A snapshot: readable from any
  /// thread while the endpoint exists.
  datagram_stats stats() const noexcept { return core_->stats->snapshot(); }

  /// The live counters behind stats(), for readers that may outlive the endpoint (a server's
  /// metrics_source()).
  std::shared_ptr<const detail::datagram_counters> shared_stats() const noexcept {
    return core_->stats;
  }

  /// Largest datagram receive_from() accepts (the codec's max_datagram_size when it has one,
  /// else options.max_datagram_size; at most 16 MiB).
  std::size_t max_datagram_size() const noexcept { return core_->limit; }

  const datagram_options& options() const noexcept { return core_->options; }
  const Codec& codec() const noexcept { return core_->codec; }
  asio::any_io_executor get_executor() const { return core_->socket.get_executor(); }

  /// The socket itself, for what coronet does not wrap (set_option, available(), ...).
  socket_type& socket() noexcept { return core_->socket; }

 private:
  using core_type = detail::datagram_core<Protocol, Codec>;
  using core_ptr = std::shared_ptr<core_type>;

  // The coroutines below hold the core, never `this`: an endpoint may be destroyed (or moved)
  // while they are suspended.

  static asio::awaitable<std::error_code> send_datagram(core_ptr core, const message_type& message,
                                                        const endpoint_type* peer) {
    if (!core || core->closed) co_return errc::connection_closed;
    std::string wire = std::move(core->spare_send_buffer);
    wire.clear();
    if (const std::error_code error = core->codec.encode(message, wire)) {
      core->stats->send_errors.add(1);
      co_return error;
    }
    auto [error, count] = co_await detail::run_datagram_operation(
        core->options.send_timeout, [&core, &wire, peer](auto token) {
          if (peer != nullptr) return core->socket.async_send_to(asio::buffer(wire), *peer, token);
          return core->socket.async_send(asio::buffer(wire), token);
        });
    core->spare_send_buffer = std::move(wire);
    if (error && core->closed) error = errc::connection_closed;
    if (error) {
      core->stats->send_errors.add(1);
    } else {
      core->stats->sent.add(1);
      core->stats->bytes_sent.add(count);
    }
    co_return error;
  }

  static asio::awaitable<result_type> receive_message(core_ptr core,
                                                      std::chrono::milliseconds timeout) {
    if (!core || core->closed) co_return result_type::failure(errc::connection_closed, {}, false);
    if (core->receiving) co_return result_type::failure(asio::error::already_started);
    core->receiving = true;
    const std::span<char> space = core->receive_space();
    endpoint_type sender;
    auto [error, size] =
        co_await detail::run_datagram_operation(timeout, [&core, &sender, space](auto token) {
          return core->socket.async_receive_from(asio::buffer(space.data(), space.size()), sender,
                                                 detail::datagram_receive_flags, token);
        });
    core->receiving = false;
    if (error) co_return result_type::failure(count_failure(*core, error), {}, !core->closed);
    co_return decode(*core, space.data(), size, std::move(sender));
  }

  // `size` is the datagram's full size (MSG_TRUNC), which may exceed the buffer.
  static result_type decode(core_type& core, const char* data, std::size_t size,
                            endpoint_type sender) {
    detail::datagram_counters& stats = *core.stats;
    stats.received.add(1);
    stats.bytes_received.add(size);
    if (size > core.limit) {
      // Over the limit by one byte (the buffer's extra byte) or by more (cut by the kernel).
      stats.rejected_oversize.add(1);
      return result_type::decode_failure(
          errc::frame_too_long, "datagram larger than max_datagram_size", std::move(sender));
    }
    auto decoded = core.codec.decode(std::string_view{data, size});
    if (decoded.has_message()) {
      return result_type::of(std::move(decoded).message(), std::move(sender));
    }
    if (decoded.needs_more()) {
      stats.rejected_other.add(1);
      return result_type::decode_failure(errc::truncated_frame,
                                         "the codec wants more bytes than one datagram holds",
                                         std::move(sender));
    }
    const std::error_code error = decoded.error();
    (error == errc::frame_too_long ? stats.rejected_oversize
     : error == errc::invalid_utf8 ? stats.rejected_invalid_utf8
                                   : stats.rejected_other)
        .add(1);
    return result_type::decode_failure(error, decoded.reason(), std::move(sender));
  }

  static asio::awaitable<into_result_type> receive_raw(core_ptr core, std::span<char> buffer,
                                                       std::chrono::milliseconds timeout) {
    into_result_type result;
    if (!core || core->closed) {
      result.error = errc::connection_closed;
      co_return result;
    }
    auto [error, size] = co_await detail::run_datagram_operation(timeout, [&](auto token) {
      return core->socket.async_receive_from(asio::buffer(buffer.data(), buffer.size()),
                                             result.sender, detail::datagram_receive_flags, token);
    });
    if (error) {
      result.error = count_failure(*core, error);
      co_return result;
    }
    core->stats->received.add(1);
    core->stats->bytes_received.add(size);
    result.size = std::min(size, buffer.size());
    result.datagram_size = size;
    if (size > buffer.size()) {
      core->stats->rejected_oversize.add(1);
      result.error = errc::frame_too_long;
    }
    co_return result;
  }

  // What a failed receive reports: connection_closed once the endpoint is closed (pending
  // operations then end with operation_aborted), else the error, counted when it is a socket's.
  static std::error_code count_failure(core_type& core, std::error_code error) {
    if (core.closed) return errc::connection_closed;
    if (error != errc::timed_out && error != asio::error::operation_aborted) {
      core.stats->receive_errors.add(1);
    }
    return error;
  }

  core_ptr core_;
};

/// A UDP endpoint (IPv4, IPv6, or dual-stack).
template <codec Codec = datagram_codec>
using udp_endpoint = basic_datagram_endpoint<asio::ip::udp, Codec>;
/// A Unix domain datagram socket endpoint.
template <codec Codec = datagram_codec>
using unix_datagram_endpoint = basic_datagram_endpoint<asio::local::datagram_protocol, Codec>;

}  // namespace coronet
