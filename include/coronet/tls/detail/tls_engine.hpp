// tls_engine: coronet's TLS record engine, directly on OpenSSL. One SSL object reads ciphertext
// from, and writes it to, two small buffers of ours through a BIO of ours; the asynchronous
// operations (tls_operations.hpp) move those buffers to and from the socket. Why not Asio's
// ssl::stream: it holds two 17 KiB buffers and a BIO pair per stream for the stream's whole life
// (51 KiB of an idle connection), and its write encrypts only the first buffer of a sequence, so
// a batch of queued messages became one record and one send each. Here a write encrypts up to
// max_plaintext_per_write of a buffer sequence in full records and hands the ciphertext to the
// socket in one write, and both buffers exist only while they hold bytes.
//
// Who drives the socket. Two operations may run at once: a read-side one (read, or the
// handshake/close_notify, which run alone) and a write-side one (write, send_close_notify).
// - The socket reader (one at a time, reader_busy_): the read-side operation, or a write-side one
//   whose SSL call needs input (renegotiation is off, so only in theory) when no read runs.
// - The socket writer (one at a time, writer_busy_): the write-side operation, or the read-side
//   one when its SSL call produced output (a TLS 1.3 KeyUpdate answer, an alert) and no write
//   runs. Output SSL produces while the writer's socket write is in flight is appended behind
//   it, never moving the bytes in flight; if it does not fit, SSL is told to retry
//   (SSL_ERROR_WANT_WRITE) and the operation waits for that write to complete.
// - An operation that needs the busy role parks (one slot per side) and is resumed when the
//   other side's socket operation completes — whatever its result, so a close() resumes it too.
//   A parked operation does not see cancellation until then.
//
// Legal states (flags below): reader_busy_ and writer_busy_ each mean one socket operation is in
// flight, started by the side that holds the role; closed_ is final (the socket is closed; in
// flight operations complete with operation_aborted, and parked ones after them); socket_eof_ is
// final (the peer ended TCP: reads end, as truncated unless close_notify came first);
// input_ holds bytes only while SSL has not consumed them, output_ only until the socket took
// them: both are freed when drained, so an idle connection holds neither.
//
// After the handshake. A server connection that negotiated TLS 1.3 with one of the default
// cipher suites frees its SSL object and goes on with tls13_records (handed_over_, see
// tls13_records.hpp for why): OpenSSL hands the application traffic secrets to a key-log
// callback of the server's context (install_secret_capture), and the engine counts the session
// tickets the handshake sealed. From then on ssl_ is null, input_ also holds the plaintext of
// the last opened record until it is read (plain_begin_, plain_size_), and what SSL answered
// before (alerts, KeyUpdate) the engine seals itself. Everything else above is unchanged.
#pragma once

#include "coronet/tls/tls_enabled.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>
#include <utility>

#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>

#include "coronet/tls/detail/tls13_records.hpp"
#include "coronet/tls/tls_peer.hpp"

struct ssl_st;
struct ssl_ctx_st;

namespace coronet::detail {

/// What an SSL call needs before it can go on.
enum class tls_want : std::uint8_t {
  nothing,  // Done (count says how much).
  input,    // More ciphertext from the peer.
  output,   // Room for ciphertext: the socket must take what is buffered first.
  closed,   // The peer sent close_notify (a read ends cleanly).
  failed,   // error says why.
};

/// The result of one call into SSL.
struct tls_step {
  tls_want want = tls_want::nothing;
  std::size_t count = 0;
  std::error_code error;
};

/// An operation waiting for the other side's socket operation (see the file comment).
class tls_parked {
 public:
  virtual ~tls_parked() = default;
  virtual void resume() = 0;
};

/// The SSL object, its ciphertext buffers and the socket (heap-allocated: the BIO and the
/// operations point at it, and the stream that owns it moves).
class tls_engine {
 public:
  using socket_type = asio::ip::tcp::socket;

  /// The most plaintext one write takes (64 KiB: four full records, one socket write).
  static constexpr std::size_t max_plaintext_per_write = 64 * 1024;
  /// One socket read: a whole record of the largest size (16 KiB + TLS 1.2's overhead).
  static constexpr std::size_t input_chunk = 18 * 1024 + 5;
  /// The most ciphertext buffered for the socket: a full write plus a KeyUpdate or alert.
  static constexpr std::size_t max_output = max_plaintext_per_write + 8 * 1024;
  /// Buffers in one gather (a framed connection writes one; more are taken in the next call).
  static constexpr std::size_t max_gather = 16;

  /// Makes the SSL object for `context` (throws std::system_error when OpenSSL cannot).
  tls_engine(socket_type socket, ssl_ctx_st* context);
  ~tls_engine();
  tls_engine(const tls_engine&) = delete;
  tls_engine& operator=(const tls_engine&) = delete;

  /// Lets the server connections of `context` free their SSL object after a TLS 1.3
  /// handshake (see the file comment): installs the callback that receives the traffic secrets.
  static void install_secret_capture(ssl_ctx_st* context);

  /// The SSL object; null once the connection went on without it (see the file comment).
  ssl_st* native_handle() const noexcept { return ssl_; }
  socket_type& socket() noexcept { return socket_; }
  /// The peer as the handshake left it (kept when the SSL object is freed).
  tls_peer peer() const;

  // ---- SSL calls (no I/O: ciphertext comes from input_ and goes to output_) ------------------

  /// Sets the side of the handshake (once, before it).
  void set_server(bool server);
  tls_step handshake();
  /// Decrypts into `into` (count buffers) until they are full or no whole record is left.
  tls_step read(const asio::mutable_buffer* into, std::size_t count);
  /// Encrypts up to max_plaintext_per_write of `from` (count buffers) in full records.
  tls_step write(const asio::const_buffer* from, std::size_t count);
  /// Writes close_notify (once; later calls succeed without writing anything).
  tls_step send_close_notify();
  /// Decrypts and drops what the peer still sends, until its close_notify.
  tls_step discard_until_close_notify();
  /// The peer's close_notify has been received.
  bool received_close_notify() const noexcept;

  // ---- ciphertext buffers --------------------------------------------------------------------

  bool has_output() const noexcept { return output_end_ > output_begin_; }
  asio::const_buffer output() const noexcept {
    return {output_.get() + output_begin_, output_end_ - output_begin_};
  }
  /// Heap bytes the ciphertext buffers hold now (0 while idle).
  std::size_t buffer_capacity() const noexcept { return input_capacity_ + output_capacity_; }
  /// Ciphertext received and not yet decrypted, plus ciphertext not yet sent.
  std::size_t buffered_bytes() const noexcept {
    return (input_end_ - input_begin_) + (output_end_ - output_begin_);
  }
  /// SSL holds decrypted bytes or we hold ciphertext it has not looked at: a read may complete
  /// without the socket.
  bool has_buffered_input() const noexcept;

  // ---- the socket roles (see the file comment) -----------------------------------------------

  bool reader_busy() const noexcept { return reader_busy_; }
  bool writer_busy() const noexcept { return writer_busy_; }
  bool closed() const noexcept { return closed_; }
  bool socket_eof() const noexcept { return socket_eof_; }
  /// A read ended because the peer ended TCP without close_notify.
  bool truncated() const noexcept { return truncated_; }
  void set_truncated() noexcept { truncated_ = true; }

  /// Reads what the socket has without waiting (the socket is non-blocking). Returns
  /// would_block when it has nothing: then the input buffer is freed before the wait.
  std::error_code read_now();
  /// Whether a read may complete without waiting: SSL or we hold bytes, or read_now() found
  /// some, the end or an error (kept for the read: deferred_error_).
  bool poll_input();
  /// The reader's role, for a socket read or a wait for readability.
  void begin_reading() noexcept { reader_busy_ = true; }
  /// The reader's socket operation completed: wakes a parked operation.
  void end_reading() {
    reader_busy_ = false;
    resume_parked();
  }
  /// The writer's role, for a socket write of output().
  void begin_writing() noexcept { writer_busy_ = true; }
  /// The writer's socket write completed with `count` bytes: frees the buffer once drained and
  /// wakes a parked operation.
  void end_writing(std::size_t count);

  /// Which side an operation is on (its parking slot).
  enum side : std::uint8_t { read_side = 0, write_side = 1 };
  /// Parks an operation until the other side's socket operation completes.
  void park(side which, std::unique_ptr<tls_parked> operation) {
    parked_[which] = std::move(operation);
  }

  /// Closes the socket: in-flight operations end with operation_aborted, parked ones after them.
  void close(std::error_code& error);

 private:
  friend struct tls_bio_access;

  // The operation that owned the role runs; only the other side's slot can hold one.
  void resume_parked() {
    for (auto& slot : parked_) {
      if (auto operation = std::move(slot)) operation->resume();
    }
  }
  // The application traffic secrets of a handshake that may hand over to tls13_records
  // (wiped when freed).
  struct captured_secrets {
    tls13_secret client;
    tls13_secret server;
    ~captured_secrets();
  };
  friend struct tls_secret_capture;
  // What replaces the SSL object once it is freed: the record layer, and what the handshake
  // told about the peer (one allocation).
  struct after_handshake {
    after_handshake(tls13_suite suite, const captured_secrets& secrets, std::uint64_t tickets,
                    tls_peer peer)
        : records{suite, secrets.client, secrets.server, tickets}, peer{std::move(peer)} {}
    tls13_records records;
    tls_peer peer;
  };
  tls13_records& records() noexcept { return handed_over_->records; }

  tls_step result_of(int returned, std::size_t count);
  std::size_t take_input(char* into, std::size_t size);
  bool append_output(const char* bytes, std::size_t size);
  char* output_room(std::size_t size);
  void release_input() noexcept;
  void go_on_without_ssl(std::size_t handshake_output);
  // The same calls once the record layer protects the records.
  tls_step read_records(const asio::mutable_buffer* into, std::size_t count);
  tls_step write_records(const asio::const_buffer* from, std::size_t count);
  tls_step send_close_notify_record();
  tls_step discard_records_until_close_notify();
  tls13_records::opened open_next_record();
  void seal_alert(std::uint8_t description);

  socket_type socket_;
  ssl_st* ssl_ = nullptr;
  std::unique_ptr<char[]> input_;
  std::unique_ptr<char[]> output_;
  std::unique_ptr<after_handshake> handed_over_;  // Once ssl_ is freed.
  std::unique_ptr<captured_secrets> secrets_;     // During a handshake that may hand over.
  std::unique_ptr<tls_parked> parked_[2];
  std::error_code deferred_error_;  // A socket error poll_input() found, for the next read_now.
  // Offsets, 32 bits: both buffers are bounded far below 4 GiB.
  std::uint32_t input_begin_ = 0, input_end_ = 0, input_capacity_ = 0;
  std::uint32_t output_begin_ = 0, output_end_ = 0, output_capacity_ = 0;
  // Without SSL: where the plaintext of the last opened record, not yet read, lies in input_.
  std::uint32_t plain_begin_ = 0, plain_size_ = 0;
  bool reader_busy_ = false;
  bool writer_busy_ = false;
  bool closed_ = false;
  bool socket_eof_ = false;
  bool truncated_ = false;
  bool close_notify_sent_ = false;
  bool input_ended_ = false;  // A read met close_notify or a failure: reads end without waiting.
  bool close_notify_received_ = false;  // Without SSL: the peer's close_notify came.
  bool may_hand_over_ = false;          // A server whose context captures secrets.
};

}  // namespace coronet::detail
