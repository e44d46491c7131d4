// tls13_records, the record layer a TLS 1.3 server connection uses once its SSL object is freed:
// records sealed by one side open on the other for every cipher suite, a changed, oversized or
// forbidden record fails the connection with the alert RFC 8446 names, KeyUpdate moves both
// sides to the next key, and close_notify is the end of the stream. (Against OpenSSL as the
// peer, the whole TLS suite runs over it: see tls_test.cpp.)
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <catch2/catch.hpp>
#include <coronet/tls/detail/tls13_records.hpp>

#include <cstring>
#include <string>
#include <vector>

using coronet::detail::tls13_content;
using coronet::detail::tls13_records;
using coronet::detail::tls13_secret;
using coronet::detail::tls13_suite;
using opened = tls13_records::opened;

namespace {

tls13_secret secret_of(unsigned char fill, std::uint8_t size) {
  tls13_secret secret;
  secret.size = size;
  for (std::size_t i = 0; i < size; ++i)
    secret.bytes[i] = static_cast<unsigned char>(fill + i);
  return secret;
}

// Both ends of one connection: what `client` seals, `server` opens, and the other way round.
struct connection_pair {
  explicit connection_pair(tls13_suite suite = tls13_suite::aes_128_gcm_sha256)
      : client_secret{secret_of(1, suite == tls13_suite::aes_256_gcm_sha384 ? 48 : 32)},
        server_secret{secret_of(101, client_secret.size)},
        server{suite, client_secret, server_secret, 0},
        client{suite, server_secret, client_secret, 0} {}
  tls13_secret client_secret;
  tls13_secret server_secret;
  tls13_records server;
  tls13_records client;
};

std::vector<unsigned char> seal(tls13_records& from, const std::string& text,
                                tls13_content content = tls13_content::application_data) {
  std::vector<unsigned char> record(tls13_records::sealed_size(text.size()));
  std::memcpy(record.data() + tls13_records::header_size, text.data(), text.size());
  record.resize(from.seal(record.data(), text.size(), content));
  return record;
}

std::string plaintext_of(const std::vector<unsigned char>& record, const opened& result) {
  return {reinterpret_cast<const char*>(record.data()) + tls13_records::header_size,
          result.data_size};
}

int reason_of(const opened& result) {
  return ERR_GET_REASON(static_cast<unsigned long>(result.error.value()));
}

}  // namespace

TEST_CASE("a TLS 1.3 record sealed by one side opens on the other, for every cipher suite") {
  const tls13_suite suite =
      GENERATE(tls13_suite::aes_128_gcm_sha256, tls13_suite::aes_256_gcm_sha384,
               tls13_suite::chacha20_poly1305);
  connection_pair pair{suite};
  // Several records in a row (each its own nonce), an empty one and a full-size one.
  for (const std::string& text :
       {std::string{"hello\n"}, std::string{}, std::string(tls13_records::max_plaintext, 'x'),
        std::string{"again\n"}}) {
    std::vector<unsigned char> record = seal(pair.client, text);
    CHECK(record.size() == tls13_records::sealed_size(text.size()));
    CHECK(record[0] == 23);  // Every protected record's outer type is application_data.
    const opened result = pair.server.open(record.data(), record.size());
    REQUIRE(result.what == opened::application_data);
    CHECK(result.record_size == record.size());
    CHECK(plaintext_of(record, result) == text);
  }
  // And the other direction, after the contexts were released (an idle connection).
  pair.server.release_contexts();
  pair.client.release_contexts();
  std::vector<unsigned char> record = seal(pair.server, "reply\n");
  const opened result = pair.client.open(record.data(), record.size());
  REQUIRE(result.what == opened::application_data);
  CHECK(plaintext_of(record, result) == "reply\n");
}

TEST_CASE("a TLS 1.3 record layer taking over after two session tickets goes on from them") {
  connection_pair pair;
  for (const char* ticket : {"first ticket", "second ticket"}) {
    std::vector<unsigned char> record = seal(pair.server, ticket);
    REQUIRE(pair.client.open(record.data(), record.size()).what == opened::application_data);
  }
  tls13_records taking_over{tls13_suite::aes_128_gcm_sha256, pair.client_secret, pair.server_secret,
                            2};
  std::vector<unsigned char> record = seal(taking_over, "first line\n");
  const opened result = pair.client.open(record.data(), record.size());
  REQUIRE(result.what == opened::application_data);
  CHECK(plaintext_of(record, result) == "first line\n");
}

TEST_CASE("a TLS 1.3 record that has not fully arrived is incomplete, and opens once it has") {
  connection_pair pair;
  std::vector<unsigned char> record = seal(pair.client, "a line\n");
  CHECK(pair.server.open(record.data(), 3).what == opened::incomplete);
  const opened partial = pair.server.open(record.data(), record.size() - 1);
  CHECK(partial.what == opened::incomplete);
  CHECK(partial.record_size == record.size());
  CHECK(pair.server.open(record.data(), record.size()).what == opened::application_data);
}

TEST_CASE("a TLS 1.3 record changed in flight fails with bad_record_mac, and so does the next") {
  connection_pair pair;
  std::vector<unsigned char> changed = seal(pair.client, "pay 10 euros\n");
  changed[tls13_records::header_size + 4] ^= 0x01;
  const opened result = pair.server.open(changed.data(), changed.size());
  REQUIRE(result.what == opened::failed);
  CHECK(result.alert == SSL_AD_BAD_RECORD_MAC);
  CHECK(reason_of(result) == SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC);
  // The connection is over: a record that would have opened does not.
  std::vector<unsigned char> next = seal(pair.client, "next\n");
  CHECK(pair.server.open(next.data(), next.size()).what == opened::failed);
}

TEST_CASE("a TLS 1.3 record replayed or reordered fails to open") {
  connection_pair pair;
  std::vector<unsigned char> first = seal(pair.client, "first\n");
  std::vector<unsigned char> second = seal(pair.client, "second\n");
  CHECK(pair.server.open(second.data(), second.size()).what == opened::failed);

  connection_pair other;
  std::vector<unsigned char> once = seal(other.client, "once\n");
  std::vector<unsigned char> copy = once;
  CHECK(other.server.open(once.data(), once.size()).what == opened::application_data);
  CHECK(other.server.open(copy.data(), copy.size()).what == opened::failed);
}

TEST_CASE("a TLS 1.3 record longer than the protocol allows fails before it has arrived") {
  connection_pair pair;
  const std::size_t body = tls13_records::max_record_body + 1;
  unsigned char header[] = {23, 3, 3, static_cast<unsigned char>(body >> 8),
                            static_cast<unsigned char>(body)};
  const opened result = pair.server.open(header, sizeof header);
  REQUIRE(result.what == opened::failed);
  CHECK(result.alert == SSL_AD_RECORD_OVERFLOW);
}

TEST_CASE("after a TLS 1.3 handshake an unprotected record is refused with unexpected_message") {
  connection_pair pair;
  unsigned char change_cipher_spec[] = {20, 3, 3, 0, 1, 1};
  const opened result = pair.server.open(change_cipher_spec, sizeof change_cipher_spec);
  REQUIRE(result.what == opened::failed);
  CHECK(result.alert == SSL_AD_UNEXPECTED_MESSAGE);
}

TEST_CASE("a TLS 1.3 record's zero padding is removed, and a record of padding only is refused") {
  connection_pair pair;
  // The inner plaintext "hi", type 23 and three zeros: the last byte seal adds is a zero too.
  const std::string padded{"hi\x17\0\0\0", 6};
  std::vector<unsigned char> record = seal(pair.client, padded, tls13_content{0});
  const opened result = pair.server.open(record.data(), record.size());
  REQUIRE(result.what == opened::application_data);
  CHECK(plaintext_of(record, result) == "hi");

  const std::string zeros(4, '\0');
  std::vector<unsigned char> only_padding = seal(pair.client, zeros, tls13_content{0});
  const opened refused = pair.server.open(only_padding.data(), only_padding.size());
  REQUIRE(refused.what == opened::failed);
  CHECK(refused.alert == SSL_AD_UNEXPECTED_MESSAGE);
}

TEST_CASE("a TLS 1.3 close_notify ends the stream and a fatal alert carries the peer's reason") {
  connection_pair pair;
  std::vector<unsigned char> record(tls13_records::sealed_size(2));
  record.resize(pair.client.seal_alert(record.data(), SSL_AD_CLOSE_NOTIFY));
  CHECK(pair.server.open(record.data(), record.size()).what == opened::close_notify);

  connection_pair other;
  std::vector<unsigned char> fatal(tls13_records::sealed_size(2));
  fatal.resize(other.client.seal_alert(fatal.data(), SSL_AD_INTERNAL_ERROR));
  const opened result = other.server.open(fatal.data(), fatal.size());
  REQUIRE(result.what == opened::failed);
  CHECK(result.alert == 0);  // No alert answers an alert.
  CHECK(reason_of(result) == SSL_AD_REASON_OFFSET + SSL_AD_INTERNAL_ERROR);
}

TEST_CASE("a TLS 1.3 KeyUpdate moves the peer to the next key, and a requested one is owed back") {
  const tls13_suite suite =
      GENERATE(tls13_suite::aes_128_gcm_sha256, tls13_suite::aes_256_gcm_sha384,
               tls13_suite::chacha20_poly1305);
  connection_pair pair{suite};
  std::vector<unsigned char> update(tls13_records::sealed_size(5));
  update.resize(pair.client.seal_key_update(update.data(), /*request_update=*/true));
  REQUIRE(update.size() == tls13_records::sealed_size(5));
  CHECK(pair.server.open(update.data(), update.size()).what == opened::control);
  CHECK(pair.server.key_update_due());
  CHECK_FALSE(pair.client.key_update_due());

  // The client's next record is under its new key.
  std::vector<unsigned char> data = seal(pair.client, "after the update\n");
  opened result = pair.server.open(data.data(), data.size());
  REQUIRE(result.what == opened::application_data);
  CHECK(plaintext_of(data, result) == "after the update\n");

  // The server answers with its own, not asking back.
  std::vector<unsigned char> answer(tls13_records::sealed_size(5));
  answer.resize(pair.server.seal_key_update(answer.data()));
  CHECK_FALSE(pair.server.key_update_due());
  CHECK(pair.client.open(answer.data(), answer.size()).what == opened::control);
  CHECK_FALSE(pair.client.key_update_due());
  std::vector<unsigned char> reply = seal(pair.server, "reply\n");
  result = pair.client.open(reply.data(), reply.size());
  REQUIRE(result.what == opened::application_data);
  CHECK(plaintext_of(reply, result) == "reply\n");
}

TEST_CASE("a TLS 1.3 KeyUpdate split across two records is put back together") {
  connection_pair pair;
  const std::string key_update{"\x18\0\0\x01\0", 5};
  std::vector<unsigned char> first =
      seal(pair.client, key_update.substr(0, 2), tls13_content::handshake);
  std::vector<unsigned char> second =
      seal(pair.client, key_update.substr(2), tls13_content::handshake);
  CHECK(pair.server.open(first.data(), first.size()).what == opened::control);
  CHECK(pair.server.open(second.data(), second.size()).what == opened::control);
  // The server now reads with the client's next key; this client never moved to it.
  std::vector<unsigned char> data = seal(pair.client, "old key\n");
  CHECK(pair.server.open(data.data(), data.size()).what == opened::failed);
}

TEST_CASE("a TLS 1.3 server refuses any handshake message but KeyUpdate after the handshake") {
  struct refusal {
    std::string message;
    int alert;
  };
  // A NewSessionTicket's first bytes (clients never send one), a KeyUpdate with data after it
  // in its record, and a KeyUpdate whose request is neither 0 nor 1.
  for (const refusal& each :
       {refusal{std::string{"\x04\0\0\x05", 4}, SSL_AD_UNEXPECTED_MESSAGE},
        refusal{std::string{"\x18\0\0\x01\0\x18", 6}, SSL_AD_UNEXPECTED_MESSAGE},
        refusal{std::string{"\x18\0\0\x01\x02", 5}, SSL_AD_ILLEGAL_PARAMETER}}) {
    connection_pair pair;
    std::vector<unsigned char> record = seal(pair.client, each.message, tls13_content::handshake);
    const opened result = pair.server.open(record.data(), record.size());
    REQUIRE(result.what == opened::failed);
    CHECK(result.alert == each.alert);
  }
}

TEST_CASE("a TLS 1.3 peer that sends only empty records or KeyUpdates is cut off") {
  connection_pair pair;
  opened result;
  int records = 0;
  while (records < 100) {
    std::vector<unsigned char> empty = seal(pair.client, "");
    ++records;
    result = pair.server.open(empty.data(), empty.size());
    if (result.what != opened::application_data) break;
  }
  CHECK(result.what == opened::failed);
  CHECK(records == tls13_records::max_records_without_data + 1);

  // Data between them resets the count.
  connection_pair other;
  for (int i = 0; i < 3 * tls13_records::max_records_without_data; ++i) {
    std::vector<unsigned char> record = seal(other.client, i % 8 == 0 ? "x" : "");
    REQUIRE(other.server.open(record.data(), record.size()).what == opened::application_data);
  }
}
