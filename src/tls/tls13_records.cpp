// TLS 1.3 records after the handshake: keys from traffic secrets (HKDF-Expand-Label), AEAD
// sealing and opening with the per-record nonce, the inner content type and its padding,
// KeyUpdate and alerts. See tls13_records.hpp for why the SSL object is not kept for this.
#include "coronet/tls/detail/tls13_records.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include <asio/ssl/error.hpp>

namespace coronet::detail {
namespace {

constexpr std::uint8_t record_type_application_data = 23;
constexpr std::uint8_t handshake_type_key_update = 24;
constexpr std::uint8_t alert_level_warning = 1;
constexpr std::uint8_t alert_level_fatal = 2;

struct suite_parameters {
  const char* cipher;
  const char* digest;
  std::uint8_t key_size;
  std::uint8_t hash_size;
};

suite_parameters parameters_of(tls13_suite suite) {
  switch (suite) {
    case tls13_suite::aes_128_gcm_sha256:
      return {"AES-128-GCM", "SHA256", 16, 32};
    case tls13_suite::aes_256_gcm_sha384:
      return {"AES-256-GCM", "SHA384", 32, 48};
    case tls13_suite::chacha20_poly1305:
      break;
  }
  return {"ChaCha20-Poly1305", "SHA256", 32, 32};
}

// Fetched once: an implicit fetch on every cipher initialisation costs a lock and a lookup.
const EVP_CIPHER* cipher_of(tls13_suite suite) {
  static EVP_CIPHER* const ciphers[] = {
      EVP_CIPHER_fetch(nullptr, parameters_of(tls13_suite::aes_128_gcm_sha256).cipher, nullptr),
      EVP_CIPHER_fetch(nullptr, parameters_of(tls13_suite::aes_256_gcm_sha384).cipher, nullptr),
      EVP_CIPHER_fetch(nullptr, parameters_of(tls13_suite::chacha20_poly1305).cipher, nullptr),
  };
  return ciphers[static_cast<std::size_t>(suite)];
}

EVP_KDF* hkdf() {
  static EVP_KDF* const fetched = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  return fetched;
}

// HKDF-Expand-Label(secret, label, "", size) (RFC 8446 7.1). False if OpenSSL cannot (no
// memory).
bool expand_label(tls13_suite suite, const tls13_secret& secret, std::string_view label,
                  unsigned char* out, std::size_t size) {
  constexpr std::string_view prefix = "tls13 ";
  unsigned char info[2 + 1 + 6 + 16 + 1];
  std::size_t at = 0;
  info[at++] = static_cast<unsigned char>(size >> 8);
  info[at++] = static_cast<unsigned char>(size);
  info[at++] = static_cast<unsigned char>(prefix.size() + label.size());
  std::memcpy(info + at, prefix.data(), prefix.size());
  at += prefix.size();
  std::memcpy(info + at, label.data(), label.size());
  at += label.size();
  info[at++] = 0;  // An empty context.
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  char* digest = const_cast<char*>(parameters_of(suite).digest);
  const OSSL_PARAM parameters[] = {
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(
          OSSL_KDF_PARAM_KEY, const_cast<unsigned char*>(secret.bytes.data()), secret.size),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, at),
      OSSL_PARAM_construct_end(),
  };
  EVP_KDF_CTX* context = hkdf() != nullptr ? EVP_KDF_CTX_new(hkdf()) : nullptr;
  const bool derived = context != nullptr && EVP_KDF_derive(context, out, size, parameters) == 1;
  EVP_KDF_CTX_free(context);
  ERR_clear_error();
  return derived;
}

std::error_code ssl_reason(int reason) {
  return {static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, reason)), asio::error::get_ssl_category()};
}

void write_header(unsigned char* record, std::size_t body) {
  record[0] = record_type_application_data;  // Every protected record's outer type.
  record[1] = 3;                             // legacy_record_version 0x0303.
  record[2] = 3;
  record[3] = static_cast<unsigned char>(body >> 8);
  record[4] = static_cast<unsigned char>(body);
}

}  // namespace

std::optional<tls13_suite> tls13_suite_from_id(std::uint16_t id) {
  switch (id) {
    case 0x1301:
      return tls13_suite::aes_128_gcm_sha256;
    case 0x1302:
      return tls13_suite::aes_256_gcm_sha384;
    case 0x1303:
      return tls13_suite::chacha20_poly1305;
    default:
      return std::nullopt;
  }
}

tls13_records::tls13_records(tls13_suite suite, const tls13_secret& read, const tls13_secret& write,
                             std::uint64_t write_sequence)
    : suite_{suite} {
  read_.secret = read;
  write_.secret = write;
  if (!derive_keys(read_) || !derive_keys(write_)) {
    throw std::system_error(ssl_reason(SSL_R_BAD_KEY_UPDATE), "cannot derive TLS 1.3 keys");
  }
  write_.sequence = write_sequence;  // After derive_keys, which starts a new key at 0.
}

tls13_records::~tls13_records() {
  release_contexts();
  OPENSSL_cleanse(&read_, sizeof read_);
  OPENSSL_cleanse(&write_, sizeof write_);
}

bool tls13_records::derive_keys(direction& which) {
  const suite_parameters suite = parameters_of(suite_);
  which.sequence = 0;
  EVP_CIPHER_CTX_free(which.context);  // Holds the old key.
  which.context = nullptr;
  return expand_label(suite_, which.secret, "key", which.key.data(), suite.key_size) &&
         expand_label(suite_, which.secret, "iv", which.iv.data(), which.iv.size());
}

bool tls13_records::next_secret(direction& which) {
  tls13_secret next;
  next.size = which.secret.size;
  const bool expanded =
      expand_label(suite_, which.secret, "traffic upd", next.bytes.data(), next.size);
  which.secret = next;
  OPENSSL_cleanse(&next, sizeof next);
  return expanded && derive_keys(which);
}

void tls13_records::release_contexts() noexcept {
  EVP_CIPHER_CTX_free(read_.context);
  EVP_CIPHER_CTX_free(write_.context);
  read_.context = write_.context = nullptr;
}

bool tls13_records::crypt(direction& which, bool encrypt, unsigned char* header,
                          unsigned char* body, std::size_t size, unsigned char* tag) {
  if (which.context == nullptr) {
    which.context = EVP_CIPHER_CTX_new();
    if (which.context == nullptr ||
        EVP_CipherInit_ex2(which.context, cipher_of(suite_), which.key.data(), nullptr,
                           encrypt ? 1 : 0, nullptr) != 1) {
      EVP_CIPHER_CTX_free(which.context);
      which.context = nullptr;
      return false;
    }
  }
  // The nonce: the IV with the record's sequence number XORed into its last 8 bytes.
  std::array<unsigned char, 12> nonce = which.iv;
  for (int i = 0; i < 8; ++i)
    nonce[11 - i] ^= static_cast<unsigned char>(which.sequence >> (8 * i));
  EVP_CIPHER_CTX* context = which.context;
  int length = 0;
  const int count = static_cast<int>(size);
  bool done = EVP_CipherInit_ex2(context, nullptr, nullptr, nonce.data(), -1, nullptr) == 1 &&
              EVP_CipherUpdate(context, nullptr, &length, header, header_size) == 1 &&
              (count == 0 || EVP_CipherUpdate(context, body, &length, body, count) == 1);
  if (done && !encrypt)
    done = EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, tag_size, tag) == 1;
  unsigned char rest[16];
  done = done && EVP_CipherFinal_ex(context, rest, &length) == 1;
  if (done && encrypt)
    done = EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, tag_size, tag) == 1;
  ERR_clear_error();  // A forged record leaves OpenSSL's queue dirty; its reason is ours.
  ++which.sequence;
  return done;
}

tls13_records::opened tls13_records::fail(std::uint8_t alert, int reason) {
  failure_ = {opened::failed, 0, 0, ssl_reason(reason), alert};
  return failure_;
}

tls13_records::opened tls13_records::open(unsigned char* buffer, std::size_t size) {
  if (failure_.what == opened::failed) return {opened::failed, 0, 0, failure_.error, 0};
  if (size < header_size) return {};
  const std::size_t body = (std::size_t{buffer[3]} << 8) | buffer[4];
  // After the handshake every record is protected; a ChangeCipherSpec is no longer allowed.
  if (buffer[0] != record_type_application_data)
    return fail(SSL_AD_UNEXPECTED_MESSAGE, SSL_R_UNEXPECTED_RECORD);
  if (body > max_record_body) return fail(SSL_AD_RECORD_OVERFLOW, SSL_R_ENCRYPTED_LENGTH_TOO_LONG);
  if (body < 1 + tag_size)
    return fail(SSL_AD_BAD_RECORD_MAC, SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC);
  const std::size_t record_size = header_size + body;
  if (size < record_size) return {opened::incomplete, record_size, 0, {}, 0};
  if (read_.sequence == UINT64_MAX) return fail(SSL_AD_INTERNAL_ERROR, SSL_R_TOO_MANY_KEY_UPDATES);
  unsigned char* inner = buffer + header_size;
  std::size_t inner_size = body - tag_size;
  if (!crypt(read_, false, buffer, inner, inner_size, inner + inner_size))
    return fail(SSL_AD_BAD_RECORD_MAC, SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC);
  // The content type is the last byte that is not padding (zeros).
  while (inner_size > 0 && inner[inner_size - 1] == 0)
    --inner_size;
  if (inner_size == 0) return fail(SSL_AD_UNEXPECTED_MESSAGE, SSL_R_BAD_RECORD_TYPE);
  const std::uint8_t type = inner[--inner_size];
  if (inner_size > max_plaintext) return fail(SSL_AD_RECORD_OVERFLOW, SSL_R_DATA_LENGTH_TOO_LONG);
  // A handshake message cut across records must be continued by the next record.
  if (partial_size_ > 0 && type != static_cast<std::uint8_t>(tls13_content::handshake))
    return fail(SSL_AD_UNEXPECTED_MESSAGE, SSL_R_UNEXPECTED_RECORD);
  switch (type) {
    case static_cast<std::uint8_t>(tls13_content::application_data):
      if (inner_size > 0) {
        in_a_row_without_data_ = 0;
      } else if (++in_a_row_without_data_ > max_records_without_data) {
        return fail(SSL_AD_UNEXPECTED_MESSAGE, SSL_R_RECORD_TOO_SMALL);
      }
      return {opened::application_data, record_size, inner_size, {}, 0};
    case static_cast<std::uint8_t>(tls13_content::alert):
      // One alert per record, never split (RFC 8446 5.1).
      if (inner_size != 2) return fail(SSL_AD_DECODE_ERROR, SSL_R_INVALID_ALERT);
      if (inner[1] == SSL_AD_CLOSE_NOTIFY) return {opened::close_notify, record_size, 0, {}, 0};
      if (inner[1] == SSL_AD_USER_CANCELLED) return {opened::control, record_size, 0, {}, 0};
      // The peer ended the connection with an error: no alert back.
      return fail(0, SSL_AD_REASON_OFFSET + inner[1]);
    case static_cast<std::uint8_t>(tls13_content::handshake):
      if (inner_size == 0) return fail(SSL_AD_UNEXPECTED_MESSAGE, SSL_R_BAD_RECORD_TYPE);
      return handshake_message(inner, inner_size, record_size);
    default:
      return fail(SSL_AD_UNEXPECTED_MESSAGE, SSL_R_BAD_RECORD_TYPE);
  }
}

// After the handshake a server accepts one handshake message: KeyUpdate (it never asks for a
// certificate after the handshake, and tickets go from server to client only).
tls13_records::opened tls13_records::handshake_message(const unsigned char* bytes, std::size_t size,
                                                       std::size_t record_size) {
  if (partial_size_ + size > partial_handshake_.size()) {
    // Longer than a KeyUpdate: some other message, or more than one.
    const std::uint8_t type = partial_size_ > 0 ? partial_handshake_[0] : bytes[0];
    if (type != handshake_type_key_update)
      return fail(SSL_AD_UNEXPECTED_MESSAGE, SSL_R_UNEXPECTED_MESSAGE);
    // The key changes after a KeyUpdate, so nothing may follow it in its record.
    return fail(SSL_AD_UNEXPECTED_MESSAGE, SSL_R_NOT_ON_RECORD_BOUNDARY);
  }
  std::memcpy(partial_handshake_.data() + partial_size_, bytes, size);
  partial_size_ = static_cast<std::uint8_t>(partial_size_ + size);
  if (partial_handshake_[0] != handshake_type_key_update)
    return fail(SSL_AD_UNEXPECTED_MESSAGE, SSL_R_UNEXPECTED_MESSAGE);
  if (partial_size_ >= 4 &&
      (partial_handshake_[1] != 0 || partial_handshake_[2] != 0 || partial_handshake_[3] != 1)) {
    return fail(SSL_AD_DECODE_ERROR, SSL_R_BAD_HANDSHAKE_LENGTH);
  }
  if (partial_size_ < partial_handshake_.size()) return {opened::control, record_size, 0, {}, 0};
  partial_size_ = 0;
  const std::uint8_t request = partial_handshake_[4];
  if (request > SSL_KEY_UPDATE_REQUESTED)
    return fail(SSL_AD_ILLEGAL_PARAMETER, SSL_R_BAD_KEY_UPDATE);
  if (++in_a_row_without_data_ > max_records_without_data)
    return fail(SSL_AD_UNEXPECTED_MESSAGE, SSL_R_TOO_MANY_KEY_UPDATES);
  if (!next_secret(read_)) return fail(SSL_AD_INTERNAL_ERROR, SSL_R_BAD_KEY_UPDATE);
  if (request == SSL_KEY_UPDATE_REQUESTED) peer_asked_for_update_ = true;
  return {opened::control, record_size, 0, {}, 0};
}

std::size_t tls13_records::seal(unsigned char* record, std::size_t size, tls13_content content) {
  const std::size_t body = size + 1 + tag_size;
  write_header(record, body);
  unsigned char* inner = record + header_size;
  inner[size] = static_cast<unsigned char>(content);
  // Fails only without memory for a cipher context.
  if (!crypt(write_, true, record, inner, size + 1, inner + size + 1)) return 0;
  return header_size + body;
}

bool tls13_records::key_update_due() const noexcept {
  return peer_asked_for_update_ || write_.sequence >= max_records_per_key;
}

std::size_t tls13_records::seal_key_update(unsigned char* record, bool request_update) {
  unsigned char* message = record + header_size;
  message[0] = handshake_type_key_update;
  message[1] = 0;
  message[2] = 0;
  message[3] = 1;
  message[4] = request_update ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED;
  const std::size_t size = seal(record, 5, tls13_content::handshake);
  if (size == 0 || !next_secret(write_)) return 0;
  peer_asked_for_update_ = false;
  return size;
}

std::size_t tls13_records::seal_alert(unsigned char* record, std::uint8_t description) {
  record[header_size] =
      description == SSL_AD_CLOSE_NOTIFY ? alert_level_warning : alert_level_fatal;
  record[header_size + 1] = description;
  return seal(record, 2, tls13_content::alert);
}

}  // namespace coronet::detail
