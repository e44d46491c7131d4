// stream_ref: a byte stream that refers to another one without owning it, so that a protocol
// stage can run a framed_connection on a stream that stays where it is (the WebSocket upgrade
// reads its HTTP request through one while the server's handshake deadline can still close the
// real stream). Closing the reference closes the stream it refers to.
#pragma once

#include <system_error>
#include <utility>

#include <asio/socket_base.hpp>

namespace coronet::detail {

template <typename Stream>
class stream_ref {
 public:
  using executor_type = typename Stream::executor_type;

  explicit stream_ref(Stream& stream) noexcept : stream_{&stream} {}
  // A moved-from reference refers to nothing, so that closing the shell a stream was moved out
  // of (framed_connection::release_stream) leaves the stream open.
  stream_ref(stream_ref&& other) noexcept : stream_{std::exchange(other.stream_, nullptr)} {}
  stream_ref& operator=(stream_ref&& other) noexcept {
    stream_ = std::exchange(other.stream_, nullptr);
    return *this;
  }

  executor_type get_executor() { return stream_->get_executor(); }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return stream_->async_read_some(buffers, std::forward<Token>(token));
  }
  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return stream_->async_write_some(buffers, std::forward<Token>(token));
  }
  void close(std::error_code& error) {
    if (stream_ != nullptr) stream_->close(error);
  }

  // A socket's half-close and addresses, so a graceful close of a refused upgrade half-closes
  // the socket (the peer reads the refusal, then the end).
  void shutdown(asio::socket_base::shutdown_type what, std::error_code& error) requires
      requires(Stream& s, std::error_code& e) {
    s.shutdown(asio::socket_base::shutdown_both, e);
  }
  { stream_->shutdown(what, error); }
  auto remote_endpoint(std::error_code& error) const requires
      requires(const Stream& s, std::error_code& e) {
    s.remote_endpoint(e);
  }
  { return stream_->remote_endpoint(error); }
  auto local_endpoint(std::error_code& error) const requires
      requires(const Stream& s, std::error_code& e) {
    s.local_endpoint(e);
  }
  { return stream_->local_endpoint(error); }
  auto native_handle() requires requires(Stream& s) { s.native_handle(); }
  { return stream_->native_handle(); }
  template <typename Token>
  auto async_close_notify(Token&& token) requires requires(Stream& s) {
    s.async_close_notify([](std::error_code) {});
  }
  { return stream_->async_close_notify(std::forward<Token>(token)); }

  Stream& get() noexcept { return *stream_; }

 private:
  Stream* stream_;
};

}  // namespace coronet::detail
