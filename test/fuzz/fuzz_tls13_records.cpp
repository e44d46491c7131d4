// tls13_records: whatever a peer that holds the keys seals (any content type, any padding, any
// size, records split anywhere, bytes flipped), opening never reads or writes outside the
// buffer, application data comes back as it was sealed, and a failure is final.
//
// Input: a list of records, each [flags][type][length][length bytes of inner plaintext]:
//   flags bit 0: flip a byte of the sealed record (which one: the next input byte); a flip in
//                the length field may leave the record waiting for bytes that never come
//   flags bit 1: the peer sends a KeyUpdate before this record (bit 2: asking for one back)
//   flags bits 4-7: feed the record in 1 + (flags >> 4) pieces
//   type: the inner content type sealed (23 data, 21 alert, 22 handshake, anything else)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "coronet/tls/detail/tls13_records.hpp"
#include "fuzz_support.hpp"

namespace {

using coronet::detail::tls13_content;
using coronet::detail::tls13_records;
using coronet::detail::tls13_secret;
using coronet::detail::tls13_suite;
using opened = tls13_records::opened;

tls13_secret secret_of(unsigned char fill) {
  tls13_secret secret;
  secret.size = 32;
  for (std::size_t i = 0; i < secret.size; ++i)
    secret.bytes[i] = static_cast<unsigned char>(fill * 7 + i);
  return secret;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tls13_records receiver{tls13_suite::aes_128_gcm_sha256, secret_of(1), secret_of(2), 0};
  tls13_records sender{tls13_suite::aes_128_gcm_sha256, secret_of(2), secret_of(1), 0};
  bool failed = false;
  std::size_t at = 0;
  while (at + 3 <= size) {
    const std::uint8_t flags = data[at];
    const std::uint8_t type = data[at + 1];
    std::size_t length = data[at + 2];
    at += 3;
    if (flags & 0x08) length *= 64;  // Up to 16,320: full-size records too.
    length = std::min({length, size - at, tls13_records::max_plaintext});
    std::vector<unsigned char> record(tls13_records::sealed_size(length) + 16);
    if (flags & 0x02) {
      std::vector<unsigned char> update(tls13_records::sealed_size(5));
      const std::size_t sealed = sender.seal_key_update(update.data(), (flags & 0x04) != 0);
      FUZZ_CHECK(sealed == update.size());
      const opened result = receiver.open(update.data(), update.size());
      FUZZ_CHECK(failed ? result.what == opened::failed
                        : result.what == opened::control || result.what == opened::failed);
      failed = failed || result.what == opened::failed;
    }
    std::memcpy(record.data() + tls13_records::header_size, data + at, length);
    at += length;
    const std::vector<unsigned char> plaintext(
        record.begin() + tls13_records::header_size,
        record.begin() + tls13_records::header_size + static_cast<std::ptrdiff_t>(length));
    const std::size_t sealed = sender.seal(record.data(), length, tls13_content{type});
    FUZZ_CHECK(sealed == tls13_records::sealed_size(length));
    record.resize(sealed);
    const bool flipped = (flags & 0x01) != 0 && at < size;
    if (flipped) record[data[at++] % record.size()] ^= 0x5a;
    // Pieces: every prefix but the whole record is incomplete (or fails, once failed).
    const std::size_t pieces = 1 + (flags >> 4);
    for (std::size_t piece = 1; piece < pieces; ++piece) {
      const std::size_t prefix = record.size() * piece / pieces;
      std::vector<unsigned char> partial(record.begin(),
                                         record.begin() + static_cast<std::ptrdiff_t>(prefix));
      const opened result = receiver.open(partial.data(), partial.size());
      if (result.what == opened::failed) {
        failed = true;
        break;
      }
      FUZZ_CHECK(result.what == opened::incomplete);
    }
    const opened result = receiver.open(record.data(), record.size());
    if (failed) {
      FUZZ_CHECK(result.what == opened::failed);
      continue;
    }
    if (result.what == opened::failed) {
      failed = true;
      continue;
    }
    // A changed record never opens: it fails, or waits for more bytes if its length changed.
    if (flipped) {
      FUZZ_CHECK(result.what == opened::incomplete);
      continue;
    }
    FUZZ_CHECK(result.what != opened::incomplete);
    FUZZ_CHECK(result.record_size == record.size());
    if (result.what == opened::application_data) {
      // The data is what was sealed, up to the content type (the last non-zero byte).
      FUZZ_CHECK(result.data_size <= length);
      FUZZ_CHECK(result.data_size == 0 || std::memcmp(record.data() + tls13_records::header_size,
                                                      plaintext.data(), result.data_size) == 0);
    }
  }
  return 0;
}
