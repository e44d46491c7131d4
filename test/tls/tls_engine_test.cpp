// coronet's TLS engine against a third-party peer (Python's ssl module, test/tls/tls_peer.py, run
// as a process): a write of many buffers arrives whole and in order, an idle stream holds no
// ciphertext buffers, and shutdown(send) is close_notify while the other direction stays open.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <coronet/coronet.hpp>
#include <coronet/tls/tls_client.hpp>
#include <coronet/tls/tls_transport.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "../support/async_test.hpp"
#include "../support/line_test_helpers.hpp"

using namespace std::chrono_literals;
using coronet::line_codec;
using coronet::tls_server;
using coronet::tls_transport;
using coronet_test::quick_connect;
using coronet_test::run_async;
using coronet_test::sleep_for;

extern char** environ;

namespace {

const std::string cert_dir = CORONET_TEST_CERT_DIR;

// tls_peer.py as a child process, its standard output read line by line; killed by its PID
// when the test ends, however it ends.
class python_peer {
 public:
  explicit python_peer(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), {CORONET_TEST_PYTHON, CORONET_TEST_PEER_SCRIPT});
    int pipe_ends[2];
    REQUIRE(::pipe2(pipe_ends, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], STDOUT_FILENO);
    std::vector<char*> argv;
    for (std::string& argument : arguments)
      argv.push_back(argument.data());
    argv.push_back(nullptr);
    const int spawned = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_ends[1]);
    output_ = pipe_ends[0];
    REQUIRE(spawned == 0);
  }
  python_peer(const python_peer&) = delete;
  python_peer& operator=(const python_peer&) = delete;
  ~python_peer() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(output_);
  }

  /// The next line it printed, or "<none>" after `limit` or at its end. Blocks: call it when
  /// the peer needs nothing from the test's io_context to print it.
  std::string next_line(std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      const auto end = buffered_.find('\n');
      if (end != std::string::npos) {
        std::string line = buffered_.substr(0, end);
        buffered_.erase(0, end + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd readable{output_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&readable, 1, static_cast<int>(left.count())) <= 0) {
        return "<none>";
      }
      char bytes[4096];
      const ssize_t count = ::read(output_, bytes, sizeof bytes);
      if (count <= 0) return "<none>";
      buffered_.append(bytes, static_cast<std::size_t>(count));
    }
  }

  /// Its exit status once it has ended (within `limit`), else -1.
  int exit_status(std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;  // The destructor must not signal a PID the system may reuse.
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      ::usleep(10'000);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int output_ = -1;
  std::string buffered_;
};

// Bytes that show where they came from: a shifted or reordered piece changes them.
std::string pattern(std::size_t size, std::size_t seed) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return bytes;
}

}  // namespace

TEST_CASE("a write of many buffers arrives complete and in order at a Python ssl peer") {
  python_peer peer{{"echo", cert_dir}};
  const std::string port_line = peer.next_line();
  REQUIRE(port_line.rfind("port ", 0) == 0);
  const auto port = static_cast<std::uint16_t>(std::stoi(port_line.substr(5)));
  // Small pieces (gathered into one record), pieces over a record, one over a whole write.
  const std::vector<std::size_t> sizes{1, 7, 64, 100, 3, 16384, 20000, 5, 70000, 64, 2, 4096};
  std::vector<std::string> pieces;
  std::string expected;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    pieces.push_back(pattern(sizes[i], i));
    expected += pieces.back();
  }
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    auto tls = coronet::tls_client_options{.ca_file = cert_dir + "/ca.pem"};
    auto conn = co_await coronet::connect_tls("127.0.0.1", port, tls, quick_connect());
    coronet::tls_stream& stream = conn.stream();

    // One call takes every one of the first five small buffers: one gather, not one record each.
    std::vector<asio::const_buffer> first_five;
    std::size_t small_total = 0;
    for (std::size_t i = 0; i < 5; ++i) {
      first_five.push_back(asio::buffer(pieces[i]));
      small_total += pieces[i].size();
    }
    auto [first_error, first_count] =
        co_await stream.async_write_some(first_five, coronet::detail::tuple_awaitable);
    REQUIRE_FALSE(first_error);
    CHECK(first_count == small_total);

    std::vector<asio::const_buffer> rest;
    for (std::size_t i = 5; i < pieces.size(); ++i)
      rest.push_back(asio::buffer(pieces[i]));
    auto [write_error, written] =
        co_await asio::async_write(stream, rest, coronet::detail::tuple_awaitable);
    REQUIRE_FALSE(write_error);
    CHECK(small_total + written == expected.size());

    std::string echoed(expected.size(), '\0');
    auto [read_error, read] =
        co_await asio::async_read(stream, asio::buffer(echoed), coronet::detail::tuple_awaitable);
    REQUIRE_FALSE(read_error);
    CHECK(read == expected.size());
    CHECK(echoed == expected);
    // Everything sent and everything received decrypted: the stream holds no ciphertext.
    CHECK(stream.buffered_bytes() == 0);
    CHECK(stream.buffer_capacity() == 0);

    // Our close_notify, then the peer's: a clean end, not a truncated one.
    const std::error_code sent = co_await stream.send_close_notify();
    CHECK_FALSE(sent);
    char byte = 0;
    auto [end, none] =
        co_await stream.async_read_some(asio::buffer(&byte, 1), coronet::detail::tuple_awaitable);
    CHECK(end == asio::error::eof);
    CHECK(none == 0);
    CHECK_FALSE(stream.truncated());
  });
  CHECK(peer.exit_status() == 0);
}

TEST_CASE("an idle TLS connection holds no ciphertext buffers on either side") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto server_side = std::make_shared<std::size_t>(1);
    tls_server server{
        io,
        {.log = nullptr},
        tls_transport{{.certificate = {cert_dir + "/server-chain.pem", cert_dir + "/server.key"}}}};
    server.serve<line_codec>([server_side](auto& conn) -> asio::awaitable<void> {
      while (auto line = co_await conn.read()) {
        co_await conn.write(*line);
        co_await conn.flush();
        *server_side = conn.stream().buffer_capacity();
      }
    });
    auto tls = coronet::tls_client_options{.ca_file = cert_dir + "/ca.pem"};
    auto conn = co_await coronet::connect_tls("127.0.0.1", server.local_endpoint().port(), tls,
                                              quick_connect());
    // Several records each way, over the read buffer's first size.
    const std::string line(2000, 'x');
    for (int i = 0; i < 40; ++i)
      conn.try_write(line);
    for (int i = 0; i < 40; ++i) {
      auto echoed = co_await conn.read();
      REQUIRE(echoed);
      REQUIRE(echoed->size() == line.size());
    }
    CHECK(conn.stream().buffer_capacity() == 0);
    CHECK(conn.stream().buffered_bytes() == 0);
    CHECK(*server_side == 0);
  });
}

TEST_CASE(
    "shutdown(send) over TLS: a Python ssl peer reads the end after our last line and still "
    "sends") {
  auto received = std::make_shared<std::vector<std::string>>();
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    tls_server server{
        io,
        {.log = nullptr},
        tls_transport{{.certificate = {cert_dir + "/server-chain.pem", cert_dir + "/server.key"}}}};
    server.serve<line_codec>([received](auto& conn) -> asio::awaitable<void> {
      co_await conn.write("first");
      co_await conn.write("last");
      co_await conn.flush();
      const std::error_code shut = conn.shutdown(asio::socket_base::shutdown_send);
      received->push_back(shut ? "<shutdown: " + shut.message() + ">" : "<shut>");
      const std::error_code refused = co_await conn.write("too late");
      received->push_back(refused == asio::error::shut_down ? "<refused>" : "<not refused>");
      while (true) {
        auto line = co_await conn.read();
        if (!line) {
          received->push_back(conn.stream().truncated() ? "<truncated>" : "<end>");
          co_return;
        }
        received->emplace_back(*line);
      }
    });
    python_peer peer{{"read-then-send", cert_dir, std::to_string(server.local_endpoint().port())}};
    for (int i = 0; i < 500 && (received->empty() || received->back() != "<end>"); ++i) {
      co_await sleep_for(10ms);
    }
    CHECK(peer.next_line() == "got first");
    CHECK(peer.next_line() == "got last");
    CHECK(peer.next_line() == "end clean");
    CHECK(peer.exit_status() == 0);
  });
  const std::vector<std::string> expected{"<shut>", "<refused>", "still here", "<end>"};
  CHECK(*received == expected);
}
