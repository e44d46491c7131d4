// The TLS 1.3 record layer a server connection uses after its handshake (tls13_records): what
// taking over from the handshake costs (four HKDF-Expand-Label derivations), a 64-byte record
// sealed and opened, and the same with the cipher contexts made again for each record, which is
// what a connection pays per burst for holding no cipher context while it waits (docs/tls.md,
// "After the handshake"). Compare the two record benchmarks in the same run:
//   tls_records_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "coronet/tls/detail/tls13_records.hpp"

namespace {

using coronet::detail::tls13_content;
using coronet::detail::tls13_records;
using coronet::detail::tls13_secret;
using coronet::detail::tls13_suite;

tls13_secret secret_of(unsigned char fill, std::uint8_t size) {
  tls13_secret secret;
  secret.size = size;
  for (std::size_t i = 0; i < size; ++i)
    secret.bytes[i] = static_cast<unsigned char>(fill + i);
  return secret;
}

constexpr tls13_suite suites[] = {tls13_suite::aes_128_gcm_sha256, tls13_suite::aes_256_gcm_sha384,
                                  tls13_suite::chacha20_poly1305};

tls13_suite suite_of(const benchmark::State& state) {
  return suites[static_cast<std::size_t>(state.range(0))];
}

std::uint8_t hash_size(tls13_suite suite) {
  return suite == tls13_suite::aes_256_gcm_sha384 ? 48 : 32;
}

void take_over(benchmark::State& state) {
  const tls13_suite suite = suite_of(state);
  const tls13_secret read = secret_of(1, hash_size(suite));
  const tls13_secret write = secret_of(2, hash_size(suite));
  for (auto _ : state) {
    tls13_records records{suite, read, write, 2};
    benchmark::DoNotOptimize(&records);
  }
}

// One 64-byte record sealed by the client and opened by the server; with `remade`, both
// layers drop their cipher contexts first.
void seal_and_open(benchmark::State& state, bool remade) {
  const tls13_suite suite = suite_of(state);
  const tls13_secret client_secret = secret_of(1, hash_size(suite));
  const tls13_secret server_secret = secret_of(2, hash_size(suite));
  tls13_records client{suite, server_secret, client_secret, 0};
  tls13_records server{suite, client_secret, server_secret, 0};
  std::vector<unsigned char> record(tls13_records::sealed_size(64));
  for (auto _ : state) {
    if (remade) {
      client.release_contexts();
      server.release_contexts();
    }
    std::memset(record.data() + tls13_records::header_size, 'x', 64);
    const std::size_t size = client.seal(record.data(), 64, tls13_content::application_data);
    const tls13_records::opened opened = server.open(record.data(), size);
    if (opened.what != tls13_records::opened::application_data) {
      state.SkipWithError("the record did not open");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void seal_and_open_contexts_kept(benchmark::State& state) {
  seal_and_open(state, false);
}
void seal_and_open_contexts_remade(benchmark::State& state) {
  seal_and_open(state, true);
}

}  // namespace

// Argument: 0 AES-128-GCM, 1 AES-256-GCM, 2 ChaCha20-Poly1305.
BENCHMARK(take_over)->DenseRange(0, 2);
BENCHMARK(seal_and_open_contexts_kept)->DenseRange(0, 2);
BENCHMARK(seal_and_open_contexts_remade)->DenseRange(0, 2);
