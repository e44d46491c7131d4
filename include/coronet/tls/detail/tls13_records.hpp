// tls13_records: TLS 1.3's record protection once the handshake is over (RFC 8446 5.2-5.5 and
// 7.1-7.2), on OpenSSL's AEAD ciphers and HKDF. Why coronet does this itself: OpenSSL 3.0 keeps
// about 13.9 KB per connection for the connection's whole life (the SSL object alone is 7.6 KB,
// more than half of it record-layer arrays for 32 pipelines), so an idle TLS server connection
// cost 22x a plain one. After a TLS 1.3 server handshake the engine hands the two application
// traffic secrets to this class and frees the SSL object; what stays is the secrets, the keys
// and two sequence numbers (about 230 B). The cipher contexts exist only while records are
// sealed or opened. Only what TLS 1.3 allows after the handshake is accepted: application data,
// alerts and KeyUpdate; anything else ends the connection with the alert RFC 8446 names.
//
// Pure: no I/O. A record is opened in place in the caller's buffer and sealed in place in the
// caller's buffer, so no plaintext or ciphertext is copied beyond what the cipher writes.
#pragma once

#include "coronet/tls/tls_enabled.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <system_error>

struct evp_cipher_ctx_st;

namespace coronet::detail {

/// The TLS 1.3 cipher suites this record layer protects records with (the three OpenSSL
/// enables by default; a connection that negotiated another one keeps OpenSSL's record layer).
enum class tls13_suite : std::uint8_t { aes_128_gcm_sha256, aes_256_gcm_sha384, chacha20_poly1305 };

/// The suite of a TLS 1.3 cipher suite number (0x1301...), if supported here.
std::optional<tls13_suite> tls13_suite_from_id(std::uint16_t id);

/// A traffic secret: as long as the suite's hash (32 bytes, or 48 for SHA-384).
struct tls13_secret {
  std::array<unsigned char, 48> bytes{};
  std::uint8_t size = 0;
};

/// A protected record's content type (inside the encryption).
enum class tls13_content : std::uint8_t { alert = 21, handshake = 22, application_data = 23 };

/// The record layer of one connection after its handshake (see the file comment).
class tls13_records {
 public:
  static constexpr std::size_t header_size = 5;
  static constexpr std::size_t tag_size = 16;
  /// The largest plaintext of one record (2^14).
  static constexpr std::size_t max_plaintext = 16 * 1024;
  /// The largest protected record body a peer may send (2^14 + 256).
  static constexpr std::size_t max_record_body = max_plaintext + 256;
  /// Records sealed with one key before we move to the next (RFC 8446 5.5 allows AES-GCM
  /// 2^24.5 full-size records per key).
  static constexpr std::uint64_t max_records_per_key = std::uint64_t{1} << 24;
  /// KeyUpdates or empty records in a row, without data between them, before the peer is taken
  /// for hostile (each costs us a key derivation or a decryption and gives nothing).
  static constexpr int max_records_without_data = 32;

  /// The bytes one record of `size` plaintext bytes takes sealed.
  static constexpr std::size_t sealed_size(std::size_t size) {
    return header_size + size + 1 + tag_size;
  }

  /// Takes over from the handshake: `read` is the peer's application traffic secret, `write`
  /// ours; `write_sequence` counts the records already sealed with `write` (session tickets).
  /// Throws std::system_error if OpenSSL cannot derive the keys.
  tls13_records(tls13_suite suite, const tls13_secret& read, const tls13_secret& write,
                std::uint64_t write_sequence);
  ~tls13_records();
  tls13_records(const tls13_records&) = delete;
  tls13_records& operator=(const tls13_records&) = delete;

  /// What opening the first record of a buffer found.
  struct opened {
    enum kind : std::uint8_t {
      incomplete,        // The record has not fully arrived (record_size: its size, if known).
      application_data,  // data_size bytes of plaintext at buffer + header_size.
      control,           // A KeyUpdate or a user_canceled alert, handled: nothing to deliver.
      close_notify,      // The peer's close_notify: the end of its stream.
      failed,            // error says why; alert, if not 0, is the alert to send the peer.
    };
    kind what = incomplete;
    std::size_t record_size = 0;  // The bytes the record took, header included.
    std::size_t data_size = 0;
    std::error_code error;
    std::uint8_t alert = 0;
  };

  /// Opens the first record of `buffer` (`size` bytes) in place: its plaintext replaces the
  /// ciphertext. Once it failed, the connection is over: later calls fail the same way.
  opened open(unsigned char* buffer, std::size_t size);

  /// Seals the `size` bytes at `record + header_size` (put there by the caller, at most
  /// max_plaintext) as one record of `content`; `record` has sealed_size(size) bytes. Returns
  /// sealed_size(size), or 0 if OpenSSL has no memory for a cipher context (the connection
  /// cannot go on).
  std::size_t seal(unsigned char* record, std::size_t size, tls13_content content);

  /// A KeyUpdate of ours must go out before our next application data: the peer asked for one,
  /// or the write key has sealed max_records_per_key records.
  bool key_update_due() const noexcept;
  /// Seals a KeyUpdate at `record` (sealed_size(5) bytes) and moves to the next write key;
  /// `request_update` asks the peer to answer with its own. Returns the bytes written (0: as
  /// seal).
  std::size_t seal_key_update(unsigned char* record, bool request_update = false);

  /// Seals an alert (close_notify is 0, warning level; others fatal) at `record`
  /// (sealed_size(2) bytes). Returns the bytes written (0: as seal).
  std::size_t seal_alert(unsigned char* record, std::uint8_t description);

  /// Why the connection failed (a record did not open); empty while it has not.
  std::error_code failure() const noexcept { return failure_.error; }

  /// Frees the cipher contexts; the next record makes them again from the keys. An idle
  /// connection holds only its secrets and keys.
  void release_contexts() noexcept;

 private:
  struct direction {
    tls13_secret secret;
    std::array<unsigned char, 32> key{};
    std::array<unsigned char, 12> iv{};
    std::uint64_t sequence = 0;
    evp_cipher_ctx_st* context = nullptr;
  };

  bool derive_keys(direction& which);
  bool next_secret(direction& which);
  bool crypt(direction& which, bool encrypt, unsigned char* header, unsigned char* body,
             std::size_t size, unsigned char* tag);
  opened fail(std::uint8_t alert, int reason);
  opened handshake_message(const unsigned char* bytes, std::size_t size, std::size_t record_size);

  direction read_;
  direction write_;
  tls13_suite suite_;
  std::array<unsigned char, 5> partial_handshake_{};  // A KeyUpdate split across records.
  std::uint8_t partial_size_ = 0;
  std::uint8_t in_a_row_without_data_ = 0;
  bool peer_asked_for_update_ = false;
  opened failure_;  // Set once the connection failed.
};

}  // namespace coronet::detail
