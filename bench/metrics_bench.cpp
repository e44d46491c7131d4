// The cost of the built-in metrics on the message path: workload W2 of bench/compare (50
// connections x 16 lines in flight x 64-byte lines, echoed) against a tcp_server with metrics on
// and with metrics off, in one process and one run. Server and clients share one thread, so the
// ratio of the two rates (in CPU time) is the share of the process's work the counting adds. Run
// the two interleaved, several times, and compare medians (see docs/metrics.md):
//   metrics_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
#include <benchmark/benchmark.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "coronet/coronet.hpp"

namespace {

constexpr int connections = 50;
constexpr int in_flight = 16;
constexpr int rounds = 20;  // Per connection and iteration: 16,000 messages per iteration.

struct echo {
  asio::awaitable<void> operator()(
      coronet::tcp_server::connection_type<coronet::line_codec>& conn) const {
    while (auto line = co_await conn.read())
      co_await conn.write(*line);
  }
};

using client_connection = coronet::tcp_connection<coronet::line_codec>;

// `rounds` times: 16 lines out, 16 echoes back; then counts itself done.
asio::awaitable<void> client_rounds(client_connection& conn, int& running, asio::io_context& io,
                                    bool& failed) {
  const std::string line(64, 'x');
  for (int round = 0; round < rounds && !failed; ++round) {
    for (int i = 0; i < in_flight; ++i)
      co_await conn.write(std::string_view{line});
    for (int i = 0; i < in_flight; ++i) {
      auto echoed = co_await conn.read();
      if (!echoed || echoed->size() != line.size()) failed = true;
    }
  }
  if (--running == 0) io.stop();
}

void BM_w2_echo(benchmark::State& state) {
  const bool metrics_on = state.range(0) != 0;
  asio::io_context io;
  coronet::server_options options;
  options.metrics = metrics_on;
  options.log = nullptr;
  coronet::tcp_server server{io, options};
  server.serve<coronet::line_codec>(echo{});
  const std::uint16_t port = server.local_endpoint().port();

  std::vector<std::unique_ptr<client_connection>> clients;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < connections; ++i) {
          auto conn = co_await coronet::connect("127.0.0.1", port);
          clients.push_back(std::make_unique<client_connection>(std::move(conn)));
        }
        io.stop();
      },
      asio::detached);
  io.run();
  if (clients.size() != connections) {
    state.SkipWithError("could not connect");
    return;
  }

  bool failed = false;
  for (auto _ : state) {
    io.restart();
    int running = connections;
    for (auto& conn : clients) {
      asio::co_spawn(io, client_rounds(*conn, running, io, failed), asio::detached);
    }
    io.run();
    if (failed || running != 0) {
      state.SkipWithError("an echo went wrong");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * connections * in_flight * rounds);
  state.counters["received"] = static_cast<double>(server.metrics().messages_received);
  server.stop();
  clients.clear();
  io.restart();
  io.run_for(std::chrono::seconds{1});
}
// Measured in CPU time: server and clients share this one thread, and on a shared machine the
// wall clock mostly measures the other processes.
BENCHMARK(BM_w2_echo)->ArgName("metrics")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

}  // namespace
