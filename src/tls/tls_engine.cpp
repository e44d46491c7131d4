// coronet's TLS record engine: the SSL object, the BIO that feeds it from our ciphertext buffers,
// and the bounded buffers themselves (see tls_engine.hpp for who drives the socket). What runs
// once the SSL object is gone is in tls_engine_records.cpp.
#include "coronet/tls/detail/tls_engine.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <string_view>
#include <utility>

#include <asio/error.hpp>
#include <asio/ssl/error.hpp>

namespace coronet::detail {

// The BIO's callbacks reach the engine's buffers through this.
struct tls_bio_access {
  static tls_engine& of(BIO* bio) { return *static_cast<tls_engine*>(BIO_get_data(bio)); }

  static int read(BIO* bio, char* into, std::size_t size, std::size_t* read) {
    BIO_clear_retry_flags(bio);
    *read = of(bio).take_input(into, size);
    if (*read > 0) return 1;
    BIO_set_retry_read(bio);  // Nothing yet (or the peer ended TCP: the operation sees that).
    return 0;
  }

  static int write(BIO* bio, const char* bytes, std::size_t size, std::size_t* written) {
    BIO_clear_retry_flags(bio);
    if (of(bio).append_output(bytes, size)) {
      *written = size;
      return 1;
    }
    *written = 0;
    BIO_set_retry_write(bio);  // No room until the socket takes what is buffered.
    return 0;
  }

  static long control(BIO* bio, int command, long, void*) {
    tls_engine& engine = of(bio);
    switch (command) {
      case BIO_CTRL_FLUSH:
        return 1;  // The operations flush output() themselves.
      case BIO_CTRL_PENDING:
        return static_cast<long>(engine.input_end_ - engine.input_begin_);
      case BIO_CTRL_WPENDING:
        return static_cast<long>(engine.output_end_ - engine.output_begin_);
      default:
        return 0;
    }
  }

  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  // The BIO type of ours, to tell our BIO from another.
  static int type() {
    static const int made = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK;
    return made;
  }

  static BIO_METHOD* method() {
    static BIO_METHOD* const made = [] {
      BIO_METHOD* m = BIO_meth_new(type(), "coronet tls");
      BIO_meth_set_read_ex(m, read);
      BIO_meth_set_write_ex(m, write);
      BIO_meth_set_ctrl(m, control);
      BIO_meth_set_create(m, create);
      return m;
    }();
    return made;
  }
};

tls_engine::captured_secrets::~captured_secrets() {
  OPENSSL_cleanse(this, sizeof *this);
}

// OpenSSL gives a context's key-log callback each secret of a handshake as a line of the NSS
// key log format ("LABEL <client random> <secret>", hexadecimal); the engine of the SSL object
// keeps the two it needs. Nothing is logged anywhere.
struct tls_secret_capture {
  static void receive(const SSL* ssl, const char* line) {
    // The engine is the data of the SSL object's BIO (an SSL object of ours has ours).
    BIO* bio = SSL_get_rbio(ssl);
    if (bio == nullptr || BIO_method_type(bio) != tls_bio_access::type()) return;
    tls_engine* engine = &tls_bio_access::of(bio);
    if (!engine->may_hand_over_) return;
    const std::string_view text{line};
    const bool client = text.starts_with("CLIENT_TRAFFIC_SECRET_0 ");
    if (!client && !text.starts_with("SERVER_TRAFFIC_SECRET_0 ")) return;
    // The secret is the line's last field, so its text ends where the line does.
    const char* hex = line + text.rfind(' ') + 1;
    const std::size_t digits = text.size() - static_cast<std::size_t>(hex - line);
    if (!engine->secrets_) engine->secrets_ = std::make_unique<tls_engine::captured_secrets>();
    tls13_secret& secret = client ? engine->secrets_->client : engine->secrets_->server;
    secret.size = 0;
    if (digits % 2 != 0 || digits / 2 > secret.bytes.size()) return;
    long length = 0;
    if (unsigned char* bytes = OPENSSL_hexstr2buf(hex, &length)) {
      std::memcpy(secret.bytes.data(), bytes, static_cast<std::size_t>(length));
      secret.size = static_cast<std::uint8_t>(length);
      OPENSSL_clear_free(bytes, static_cast<std::size_t>(length));
    }
  }
};

void tls_engine::install_secret_capture(ssl_ctx_st* context) {
  tls_bio_access::method();  // Made before any handshake, on this thread.
  SSL_CTX_set_keylog_callback(context, tls_secret_capture::receive);
}

namespace {

std::string one_line(X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return text;
}

// Plaintext gathered from small buffers into one record at a time.
constexpr std::size_t record_plaintext = 16 * 1024;
// Room reserved per record for its header, padding and tag (TLS 1.3 AEAD needs 22 bytes; TLS
// 1.2 CBC with SHA-384 up to 69).
constexpr std::size_t record_overhead = 96;

std::error_code ssl_error(unsigned long code) {
  return {static_cast<int>(code), asio::error::get_ssl_category()};
}

}  // namespace

tls_engine::tls_engine(socket_type socket, ssl_ctx_st* context) : socket_{std::move(socket)} {
  ERR_clear_error();
  ssl_ = SSL_new(context);
  BIO* bio = ssl_ != nullptr ? BIO_new(tls_bio_access::method()) : nullptr;
  if (bio == nullptr) {
    const std::error_code error = ssl_error(ERR_get_error());
    SSL_free(ssl_);
    throw std::system_error(error, "cannot make a TLS session");
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // One reference, owned by the SSL object from here.
  // Partial writes and a moving buffer: a write gathers small buffers into a record of its own
  // copy, and retries continue from where the socket stopped. Buffers released while idle.
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                         SSL_MODE_RELEASE_BUFFERS);
  // Take whole records from our buffer in one BIO call rather than header and body apart.
  SSL_set_read_ahead(ssl_, 1);
  std::error_code ignored;
  socket_.non_blocking(true, ignored);  // read_now never waits; Asio's async operations still do.
}

tls_engine::~tls_engine() {
  SSL_free(ssl_);
}

void tls_engine::set_server(bool server) {
  if (server) {
    SSL_set_accept_state(ssl_);
    may_hand_over_ =
        SSL_CTX_get_keylog_callback(SSL_get_SSL_CTX(ssl_)) == tls_secret_capture::receive;
    // SSL must take no record beyond the handshake's last, which the record layer will open:
    // without read-ahead it reads a record's header, then exactly its body.
    if (may_hand_over_) SSL_set_read_ahead(ssl_, 0);
  } else {
    SSL_set_connect_state(ssl_);
  }
}

tls_step tls_engine::result_of(int returned, std::size_t count) {
  switch (SSL_get_error(ssl_, returned)) {
    case SSL_ERROR_WANT_READ:
      return {tls_want::input, count, {}};
    case SSL_ERROR_WANT_WRITE:
      return {tls_want::output, count, {}};
    case SSL_ERROR_ZERO_RETURN:
      return {tls_want::closed, count, {}};
    case SSL_ERROR_SYSCALL: {
      // Our BIO never fails with errno; an empty queue means the stream ended.
      const unsigned long code = ERR_get_error();
      if (code != 0) return {tls_want::failed, count, ssl_error(code)};
      return {tls_want::failed, count, asio::ssl::error::stream_truncated};
    }
    default: {
      const unsigned long code = ERR_get_error();
      return {tls_want::failed, count,
              code != 0 ? ssl_error(code) : make_error_code(asio::error::no_recovery)};
    }
  }
}

tls_step tls_engine::handshake() {
  ERR_clear_error();
  const std::size_t buffered = output_end_ - output_begin_;
  const int returned = SSL_do_handshake(ssl_);
  if (returned != 1) return result_of(returned, 0);
  if (may_hand_over_) {
    may_hand_over_ = false;
    go_on_without_ssl(buffered);
    if (ssl_ != nullptr) SSL_set_read_ahead(ssl_, 1);  // It stays: take whole records again.
  }
  secrets_.reset();
  return {};
}

tls_peer tls_engine::peer() const {
  if (ssl_ == nullptr) return handed_over_ ? handed_over_->peer : tls_peer{};
  tls_peer peer;
  if (X509* certificate = SSL_get0_peer_certificate(ssl_)) {
    peer.has_certificate = true;
    peer.verified = SSL_get_verify_result(ssl_) == X509_V_OK;
    peer.subject = one_line(X509_get_subject_name(certificate));
  }
  peer.version = SSL_get_version(ssl_);
  const unsigned char* protocol = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &protocol, &length);
  if (protocol != nullptr) peer.alpn.assign(reinterpret_cast<const char*>(protocol), length);
  if (const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name))
    peer.server_name = name;
  peer.resumed = SSL_session_reused(ssl_) == 1;
  return peer;
}

tls_step tls_engine::read(const asio::mutable_buffer* into, std::size_t count) {
  if (handed_over_) return read_records(into, count);
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) {
    auto* at = static_cast<char*>(into[i].data());
    std::size_t left = into[i].size();
    while (left > 0) {
      ERR_clear_error();
      std::size_t got = 0;
      const int returned = SSL_read_ex(ssl_, at, left, &got);
      if (returned == 1) {
        total += got;
        at += got;
        left -= got;
        continue;
      }
      tls_step step = result_of(returned, total);
      // The end (close_notify) or a failure: the next read reports it without the socket.
      if (step.want == tls_want::closed || step.want == tls_want::failed) input_ended_ = true;
      // What was read is returned first; the cause comes again with the next read.
      if (total > 0) return {tls_want::nothing, total, {}};
      return step;
    }
  }
  return {tls_want::nothing, total, {}};
}

tls_step tls_engine::write(const asio::const_buffer* from, std::size_t count) {
  if (handed_over_) return write_records(from, count);
  std::size_t wanted = 0;
  for (std::size_t i = 0; i < count; ++i)
    wanted += from[i].size();
  wanted = std::min(wanted, max_plaintext_per_write);
  // Room for all of it at once: one allocation, never regrown record by record.
  const std::size_t records = wanted / record_plaintext + 1;
  if (!writer_busy_ &&
      output_capacity_ < (output_end_ - output_begin_) + wanted + records * record_overhead) {
    append_output(nullptr, wanted + records * record_overhead);  // Grows, appends nothing.
  }
  char staging[record_plaintext];
  std::size_t total = 0;
  std::size_t index = 0;
  std::size_t offset = 0;  // Into from[index].
  while (total < wanted) {
    while (index < count && offset == from[index].size())
      ++index, offset = 0;
    const char* chunk = static_cast<const char*>(from[index].data()) + offset;
    std::size_t size = std::min(from[index].size() - offset, wanted - total);
    const std::size_t target = std::min(record_plaintext, wanted - total);
    if (size < target) {
      // Gather this and the following small buffers into one record.
      std::size_t gathered = 0;
      std::size_t i = index;
      std::size_t o = offset;
      while (gathered < target && i < count) {
        const std::size_t take = std::min(from[i].size() - o, target - gathered);
        if (take > 0)
          std::memcpy(staging + gathered, static_cast<const char*>(from[i].data()) + o, take);
        gathered += take;
        o += take;
        if (o == from[i].size()) ++i, o = 0;
      }
      chunk = staging;
      size = gathered;
    }
    ERR_clear_error();
    std::size_t written = 0;
    const int returned = SSL_write_ex(ssl_, chunk, size, &written);
    if (returned != 1) {
      tls_step step = result_of(returned, total);
      if (total > 0 && step.want != tls_want::failed) return {tls_want::nothing, total, {}};
      return step;
    }
    total += written;
    // Move past `written` bytes of the buffers.
    for (std::size_t left = written; left > 0;) {
      const std::size_t take = std::min(from[index].size() - offset, left);
      left -= take;
      offset += take;
      if (offset == from[index].size() && left > 0) ++index, offset = 0;
    }
  }
  return {tls_want::nothing, total, {}};
}

tls_step tls_engine::send_close_notify() {
  if (close_notify_sent_) return {};
  if (handed_over_) return send_close_notify_record();
  ERR_clear_error();
  const int returned = SSL_shutdown(ssl_);
  if (returned >= 0) {  // 0: sent, the peer's not yet received; 1: both.
    close_notify_sent_ = true;
    return {};
  }
  return result_of(returned, 0);
}

tls_step tls_engine::discard_until_close_notify() {
  if (handed_over_) return discard_records_until_close_notify();
  char scratch[4096];
  while (true) {
    ERR_clear_error();
    std::size_t got = 0;
    const int returned = SSL_read_ex(ssl_, scratch, sizeof scratch, &got);
    if (returned == 1) continue;
    tls_step step = result_of(returned, 0);
    if (step.want == tls_want::closed) return {};
    return step;
  }
}

bool tls_engine::received_close_notify() const noexcept {
  if (ssl_ == nullptr) return close_notify_received_;
  return (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) != 0;
}

bool tls_engine::has_buffered_input() const noexcept {
  if (ssl_ == nullptr) return input_end_ > input_begin_ || plain_size_ > 0;
  return input_end_ > input_begin_ || SSL_has_pending(ssl_) == 1;
}

std::size_t tls_engine::take_input(char* into, std::size_t size) {
  const std::size_t count = std::min<std::size_t>(size, input_end_ - input_begin_);
  if (count == 0) return 0;  // Possibly no buffer at all: no memcpy from null.
  std::memcpy(into, input_.get() + input_begin_, count);
  input_begin_ += static_cast<std::uint32_t>(count);
  // SSL reads ahead: what it took is in its own record buffer, so ours can go at once (the next
  // socket read takes a new one) and a connection that has decrypted everything holds none.
  if (input_begin_ == input_end_) release_input();
  return count;
}

void tls_engine::release_input() noexcept {
  if (input_end_ == input_begin_ && plain_size_ == 0) {
    input_.reset();
    input_capacity_ = input_begin_ = input_end_ = plain_begin_ = 0;
  }
}

bool tls_engine::poll_input() {
  if (has_buffered_input() || input_ended_ || socket_eof_ || deferred_error_ || reader_busy_) {
    return true;
  }
  const std::error_code error = read_now();
  if (error == asio::error::would_block) return false;
  if (error && error != asio::error::eof) deferred_error_ = error;
  return true;
}

std::error_code tls_engine::read_now() {
  if (closed_) return asio::error::operation_aborted;
  if (deferred_error_) return std::exchange(deferred_error_, {});
  if (plain_size_ > 0)
    return {};  // A read has plaintext to take first (it lies before input_begin_).
  if (input_capacity_ == 0) {
    input_.reset(new char[input_chunk]);
    input_capacity_ = static_cast<std::uint32_t>(input_chunk);
  } else if (input_begin_ > 0) {
    std::memmove(input_.get(), input_.get() + input_begin_, input_end_ - input_begin_);
    input_end_ -= input_begin_;
    input_begin_ = 0;
  }
  if (input_end_ == input_capacity_) return {};  // Full: SSL takes some first.
  std::error_code error;
  const std::size_t count = socket_.read_some(
      asio::buffer(input_.get() + input_end_, input_capacity_ - input_end_), error);
  if (count > 0) {
    input_end_ += static_cast<std::uint32_t>(count);
    return {};
  }
  if (error == asio::error::eof) socket_eof_ = true;
  release_input();  // Nothing came: wait without a buffer.
  if (handed_over_ && input_capacity_ == 0) records().release_contexts();  // And without ciphers.
  return error ? error : make_error_code(asio::error::would_block);
}

bool tls_engine::append_output(const char* bytes, std::size_t size) {
  if (size == 0) return true;
  char* room = output_room(size);
  if (room == nullptr) return false;
  if (bytes != nullptr && size > 0) {
    std::memcpy(room, bytes, size);
    output_end_ += static_cast<std::uint32_t>(size);
  }
  return true;
}

char* tls_engine::output_room(std::size_t size) {
  const std::size_t used = output_end_ - output_begin_;
  if (output_end_ + size > output_capacity_) {
    // Bytes in flight must not move: without the writer's role, compact or grow; with it, only
    // what fits behind them goes in.
    if (writer_busy_ || used + size > max_output) return nullptr;
    const std::size_t capacity = std::min(max_output, std::max(used + size, std::size_t{4096}));
    if (capacity > output_capacity_) {
      std::unique_ptr<char[]> grown{new char[capacity]};
      if (used > 0) std::memcpy(grown.get(), output_.get() + output_begin_, used);
      output_ = std::move(grown);
      output_capacity_ = static_cast<std::uint32_t>(capacity);
    } else {
      std::memmove(output_.get(), output_.get() + output_begin_, used);
    }
    output_begin_ = 0;
    output_end_ = static_cast<std::uint32_t>(used);
  }
  return output_.get() + output_end_;
}

void tls_engine::end_writing(std::size_t count) {
  writer_busy_ = false;
  output_begin_ += static_cast<std::uint32_t>(count);
  if (output_begin_ == output_end_) {
    output_.reset();  // Drained: an idle connection holds no output buffer.
    output_capacity_ = output_begin_ = output_end_ = 0;
  }
  resume_parked();
}

void tls_engine::close(std::error_code& error) {
  closed_ = true;
  socket_.close(error);
}

}  // namespace coronet::detail
