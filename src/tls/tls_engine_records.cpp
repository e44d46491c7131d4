// tls_engine after a TLS 1.3 server handshake, without its SSL object: handing over to
// tls13_records, then reading, writing and closing with it (see tls_engine.hpp, "After the
// handshake"). The socket roles, buffers and their bounds are the same as with SSL.
#include "coronet/tls/detail/tls_engine.hpp"

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>

#include <asio/ssl/error.hpp>

namespace coronet::detail {
namespace {

using records = tls13_records;

unsigned char* bytes_of(char* at) {
  return reinterpret_cast<unsigned char*>(at);
}

std::size_t hash_size_of(tls13_suite suite) {
  return suite == tls13_suite::aes_256_gcm_sha384 ? 48 : 32;
}

}  // namespace

void tls_engine::go_on_without_ssl(std::size_t handshake_output) {
  // Only what tls13_records covers, and only if SSL holds no record it read past the handshake.
  if (!secrets_ || SSL_version(ssl_) != TLS1_3_VERSION || SSL_has_pending(ssl_) == 1) return;
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_);
  const std::optional<tls13_suite> suite =
      cipher != nullptr ? tls13_suite_from_id(SSL_CIPHER_get_protocol_id(cipher)) : std::nullopt;
  if (!suite || secrets_->client.size != hash_size_of(*suite) ||
      secrets_->server.size != hash_size_of(*suite)) {
    return;
  }
  // The handshake's last step sealed only the session tickets, with our application key: their
  // count is the first sequence number left for us.
  const unsigned char* at = bytes_of(output_.get()) + output_begin_ + handshake_output;
  const unsigned char* const end = bytes_of(output_.get()) + output_end_;
  std::uint64_t tickets = 0;
  while (end - at >= static_cast<std::ptrdiff_t>(records::header_size)) {
    const std::size_t size = records::header_size + ((std::size_t{at[3]} << 8) | at[4]);
    if (at[0] != 23 || static_cast<std::size_t>(end - at) < size) return;
    at += size;
    ++tickets;
  }
  if (at != end) return;
  try {
    handed_over_ = std::make_unique<after_handshake>(*suite, *secrets_, tickets, peer());
  } catch (const std::system_error&) {
    return;  // OpenSSL could not derive the keys: SSL stays and protects the records.
  }
  SSL_free(ssl_);
  ssl_ = nullptr;
}

tls13_records::opened tls_engine::open_next_record() {
  return records().open(bytes_of(input_.get()) + input_begin_, input_end_ - input_begin_);
}

void tls_engine::seal_alert(std::uint8_t description) {
  if (close_notify_sent_) return;  // Nothing may follow close_notify.
  if (char* room = output_room(records::sealed_size(2))) {
    output_end_ += static_cast<std::uint32_t>(records().seal_alert(bytes_of(room), description));
  }
}

tls_step tls_engine::read_records(const asio::mutable_buffer* into, std::size_t count) {
  if (close_notify_received_) return {tls_want::closed, 0, {}};
  std::size_t total = 0;
  const auto ended = [&](tls_step step) {
    input_ended_ = true;
    release_input();
    return total > 0 ? tls_step{tls_want::nothing, total, {}} : step;
  };
  for (std::size_t i = 0; i < count; ++i) {
    auto* at = static_cast<char*>(into[i].data());
    std::size_t left = into[i].size();
    while (left > 0) {
      if (plain_size_ > 0) {
        const std::uint32_t take =
            static_cast<std::uint32_t>(std::min<std::size_t>(left, plain_size_));
        std::memcpy(at, input_.get() + plain_begin_, take);
        plain_begin_ += take;
        plain_size_ -= take;
        at += take;
        left -= take;
        total += take;
        continue;
      }
      const records::opened record = open_next_record();
      switch (record.what) {
        case records::opened::application_data:
          plain_begin_ = input_begin_ + static_cast<std::uint32_t>(records::header_size);
          plain_size_ = static_cast<std::uint32_t>(record.data_size);
          input_begin_ += static_cast<std::uint32_t>(record.record_size);
          continue;
        case records::opened::control:
          input_begin_ += static_cast<std::uint32_t>(record.record_size);
          // The peer asked for our KeyUpdate: it goes out now if there is room (else before our
          // next data, as RFC 8446 4.6.3 requires).
          if (records().key_update_due() && !close_notify_sent_) {
            if (char* room = output_room(records::sealed_size(5))) {
              output_end_ += static_cast<std::uint32_t>(records().seal_key_update(bytes_of(room)));
            }
          }
          continue;
        case records::opened::incomplete:
          release_input();
          return total > 0 ? tls_step{tls_want::nothing, total, {}}
                           : tls_step{tls_want::input, 0, {}};
        case records::opened::close_notify:
          input_begin_ += static_cast<std::uint32_t>(record.record_size);
          close_notify_received_ = true;
          return ended({tls_want::closed, 0, {}});
        case records::opened::failed:
          if (record.alert != 0) seal_alert(record.alert);
          return ended({tls_want::failed, 0, record.error});
      }
    }
  }
  release_input();
  return {tls_want::nothing, total, {}};
}

tls_step tls_engine::write_records(const asio::const_buffer* from, std::size_t count) {
  if (const std::error_code failure = records().failure()) return {tls_want::failed, 0, failure};
  if (close_notify_sent_) {
    return {tls_want::failed,
            0,
            {static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_PROTOCOL_IS_SHUTDOWN)),
             asio::error::get_ssl_category()}};
  }
  std::size_t wanted = 0;
  for (std::size_t i = 0; i < count; ++i)
    wanted += from[i].size();
  wanted = std::min(wanted, max_plaintext_per_write);
  // Room for all of it at once (one allocation, never regrown record by record).
  const std::size_t room_for_all = wanted + records::sealed_size(5) +
                                   (wanted / records::max_plaintext + 1) * records::sealed_size(0);
  if (!writer_busy_ && output_capacity_ < (output_end_ - output_begin_) + room_for_all)
    output_room(room_for_all);
  if (records().key_update_due()) {
    char* room = output_room(records::sealed_size(5));
    if (room == nullptr) return {tls_want::output, 0, {}};
    const std::size_t sealed = records().seal_key_update(bytes_of(room));
    if (sealed == 0) return {tls_want::failed, 0, make_error_code(std::errc::not_enough_memory)};
    output_end_ += static_cast<std::uint32_t>(sealed);
  }
  std::size_t total = 0;
  std::size_t index = 0;
  std::size_t offset = 0;  // Into from[index].
  while (total < wanted) {
    const std::size_t size = std::min(records::max_plaintext, wanted - total);
    char* record = output_room(records::sealed_size(size));
    if (record == nullptr) break;  // The socket takes what is buffered first.
    // The plaintext goes where the record's body will be, and is encrypted there.
    for (std::size_t copied = 0; copied < size;) {
      while (offset == from[index].size())
        ++index, offset = 0;
      const std::size_t take = std::min(from[index].size() - offset, size - copied);
      std::memcpy(record + records::header_size + copied,
                  static_cast<const char*>(from[index].data()) + offset, take);
      copied += take;
      offset += take;
    }
    const std::size_t sealed =
        records().seal(bytes_of(record), size, tls13_content::application_data);
    if (sealed == 0) {
      if (total > 0) break;
      return {tls_want::failed, 0, make_error_code(std::errc::not_enough_memory)};
    }
    output_end_ += static_cast<std::uint32_t>(sealed);
    total += size;
  }
  if (total == 0 && wanted > 0) return {tls_want::output, 0, {}};
  return {tls_want::nothing, total, {}};
}

tls_step tls_engine::send_close_notify_record() {
  char* room = output_room(records::sealed_size(2));
  if (room == nullptr) return {tls_want::output, 0, {}};
  const std::size_t sealed = records().seal_alert(bytes_of(room), SSL_AD_CLOSE_NOTIFY);
  if (sealed == 0) return {tls_want::failed, 0, make_error_code(std::errc::not_enough_memory)};
  output_end_ += static_cast<std::uint32_t>(sealed);
  close_notify_sent_ = true;
  return {};
}

tls_step tls_engine::discard_records_until_close_notify() {
  plain_size_ = 0;  // Nobody reads it any more.
  while (!close_notify_received_) {
    const records::opened record = open_next_record();
    switch (record.what) {
      case records::opened::application_data:
      case records::opened::control:  // No KeyUpdate answer after our close_notify.
        input_begin_ += static_cast<std::uint32_t>(record.record_size);
        continue;
      case records::opened::close_notify:
        input_begin_ += static_cast<std::uint32_t>(record.record_size);
        close_notify_received_ = true;
        break;
      case records::opened::incomplete:
        release_input();
        return {tls_want::input, 0, {}};
      case records::opened::failed:
        release_input();
        return {tls_want::failed, 0, record.error};
    }
  }
  release_input();
  return {};
}

}  // namespace coronet::detail
