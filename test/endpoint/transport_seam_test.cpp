// The seams later transports and metrics build on: a transport with a prepare step (a
// handshake) under its deadline and counted against max_connections; a wrapping stream that
// exposes native_handle() but must not be bypassed; the observer's counters and close reasons;
// a codec reporting errors of its own category.
#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>
#include <coronet/coronet.hpp>
#include <coronet/testing/memory_stream.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "../support/async_test.hpp"
#include "../support/line_test_helpers.hpp"
#include "../support/log_recorder.hpp"
#include "../support/server_test_helpers.hpp"

using namespace std::chrono_literals;
using coronet::line_codec;
using coronet_test::ask;
using coronet_test::counting_observer;
using coronet_test::echo_handler;
using coronet_test::eof_text;
using coronet_test::log_recorder;
using coronet_test::next_line;
using coronet_test::quick_connect;
using coronet_test::raw_connect;
using coronet_test::run_async;
using coronet_test::sleep_for;

namespace {

constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

// A transport whose handshake is a fixed greeting: the client must send "HELLO\n" before its
// connection reaches the handler. Stands in for TLS or a WebSocket upgrade.
struct greeting_transport : coronet::plain_transport<coronet::tcp_listener> {
  template <typename Done>
  void async_prepare(stream_type& stream, Done done) {
    auto greeting = std::make_shared<std::array<char, 6>>();
    asio::async_read(
        stream, asio::buffer(*greeting),
        [greeting, done = std::move(done)](std::error_code error, std::size_t) mutable {
          if (!error && std::string_view{greeting->data(), 6} != "HELLO\n") {
            error = coronet::errc::bad_length;  // Any error: not our protocol.
          }
          done(error);
        });
  }
};
static_assert(coronet::preparing_transport<greeting_transport>);
static_assert(!coronet::preparing_transport<coronet::tcp_transport>);

using greeting_server = coronet::basic_server<greeting_transport>;

// Reads until the peer closes (or `limit`); returns what arrived.
asio::awaitable<std::string> read_all(asio::ip::tcp::socket& socket) {
  std::string received;
  char buffer[4096];
  while (true) {
    auto [error, count] = co_await socket.async_read_some(asio::buffer(buffer), tuple_awaitable);
    received.append(buffer, count);
    if (error) co_return received;
  }
}

}  // namespace

TEST_CASE("a transport's handshake runs before the handler, which then serves as usual") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<counting_observer>();
    greeting_server server{io, {.observer = observer}};
    server.serve<line_codec>(echo_handler{});
    auto socket = co_await raw_connect(server.local_endpoint().port());
    co_await asio::async_write(socket, asio::buffer(std::string{"HELLO\nping\n"}),
                               asio::use_awaitable);
    std::string reply(5, '\0');
    co_await asio::async_read(socket, asio::buffer(reply), asio::use_awaitable);
    CHECK(reply == "ping\n");
    CHECK(observer->sessions_started == 1);
    CHECK(observer->handshakes_failed.empty());
  });
}

TEST_CASE("a client that fails the handshake is closed at once and never reaches the handler") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<counting_observer>();
    log_recorder log;
    greeting_server server{io, {.observer = observer, .log = log.hook()}};
    int handlers = 0;
    server.serve<line_codec>([&handlers](auto&) -> asio::awaitable<void> {
      ++handlers;
      co_return;
    });
    auto socket = co_await raw_connect(server.local_endpoint().port());
    co_await asio::async_write(socket, asio::buffer(std::string{"GET / HTTP/1.1\r\n"}),
                               asio::use_awaitable);
    const std::string received = co_await read_all(socket);
    CHECK(received.empty());
    CHECK(handlers == 0);
    REQUIRE(observer->handshakes_failed.size() == 1);
    CHECK_FALSE(observer->handshakes_failed[0].second);
    CHECK(log.contains("handshake failed"));
    CHECK(observer->sessions_started == 0);
  });
}

TEST_CASE("failed handshakes are logged at most 10 a second and then how many were left out") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<counting_observer>();
    log_recorder log;
    greeting_server server{io, {.observer = observer, .log = log.hook()}};
    server.serve<line_codec>(echo_handler{});
    const std::uint16_t port = server.local_endpoint().port();
    const auto failed_handshakes = [&] {
      return std::count_if(log.lines->begin(), log.lines->end(), [](const std::string& line) {
        return line.find("handshake failed") != std::string::npos;
      });
    };
    for (int i = 0; i < 30; ++i) {
      auto socket = co_await raw_connect(port);
      co_await asio::async_write(socket, asio::buffer(std::string{"NOPE!\n"}), asio::use_awaitable);
      co_await read_all(socket);
    }
    CHECK(observer->handshakes_failed.size() == 30);  // Every failure is counted...
    CHECK(failed_handshakes() <= 10);                 // ...but the log is bounded.
    co_await sleep_for(1100ms);
    auto late = co_await raw_connect(port);
    co_await asio::async_write(late, asio::buffer(std::string{"NOPE!\n"}), asio::use_awaitable);
    co_await read_all(late);
    CHECK(log.contains("similar records left out"));
  });
}

TEST_CASE("a silent client is closed at the handshake deadline, not at the idle timeout") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<counting_observer>();
    greeting_server server{
        io,
        {.connection = {.idle_timeout = 10s}, .handshake_timeout = 300ms, .observer = observer}};
    server.serve<line_codec>(echo_handler{});
    auto socket = co_await raw_connect(server.local_endpoint().port());
    const auto started = std::chrono::steady_clock::now();
    co_await read_all(socket);
    const auto waited = std::chrono::steady_clock::now() - started;
    CHECK(waited >= 250ms);
    CHECK(waited < 3s);
    REQUIRE(observer->handshakes_failed.size() == 1);
    CHECK(observer->handshakes_failed[0].second);  // timed out
  });
}

TEST_CASE("handshakes in progress count against max_connections, and refusals handshake too") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<counting_observer>();
    greeting_server server{io, {.max_connections = 1, .observer = observer, .log = nullptr}};
    server.serve<line_codec>(echo_handler{});
    const std::uint16_t port = server.local_endpoint().port();
    auto silent = co_await raw_connect(port);  // In its handshake: holds the only slot.
    co_await sleep_for(50ms);
    auto refused = co_await raw_connect(port);
    co_await asio::async_write(refused, asio::buffer(std::string{"HELLO\n"}), asio::use_awaitable);
    const std::string refusal = co_await read_all(refused);
    CHECK(refusal == "error: server full (1 connection)\n");
    CHECK(observer->refused == 1);
    CHECK(server.connection_count() == 0);  // Handshakes are not sessions.
  });
}

TEST_CASE("stop() ends handshakes in progress and run() returns") {
  asio::io_context io;
  auto observer = std::make_shared<counting_observer>();
  greeting_server server{io, {.observer = observer}};
  server.serve<line_codec>(echo_handler{});
  std::vector<asio::ip::tcp::socket> clients;
  for (int i = 0; i < 20; ++i) {
    clients.emplace_back(io);
    clients.back().connect({asio::ip::make_address("127.0.0.1"), server.local_endpoint().port()});
  }
  asio::steady_timer later{io, 100ms};
  later.async_wait([&](std::error_code) { server.stop(); });
  io.run_for(5s);
  CHECK(io.stopped());
  CHECK(observer->handshakes_failed.size() == 20);
  CHECK(observer->sessions_started == 0);
}

// ---- a wrapping stream that exposes native_handle() ------------------------------------------

namespace {

// A stream that flips the case bit of every byte it reads and writes: a stand-in for an
// encrypting wrapper. It forwards native_handle() and the socket calls (as a careless TLS
// wrapper would), but its bytes are not the descriptor's: the connection must not bypass it.
class case_flipping_stream {
 public:
  using executor_type = asio::ip::tcp::socket::executor_type;
  using native_handle_type = asio::ip::tcp::socket::native_handle_type;

  explicit case_flipping_stream(asio::ip::tcp::socket socket) : socket_{std::move(socket)} {}

  executor_type get_executor() { return socket_.get_executor(); }
  native_handle_type native_handle() { return socket_.native_handle(); }
  void close(std::error_code& error) { socket_.close(error); }
  void shutdown(asio::socket_base::shutdown_type what, std::error_code& error) {
    socket_.shutdown(what, error);
  }
  auto remote_endpoint(std::error_code& error) const { return socket_.remote_endpoint(error); }
  auto local_endpoint(std::error_code& error) const { return socket_.local_endpoint(error); }
  auto release() { return socket_.release(); }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, asio::mutable_buffer buffer) {
          socket_.async_read_some(buffer, [buffer, handler = std::move(handler)](
                                              std::error_code error, std::size_t count) mutable {
            flip({static_cast<char*>(buffer.data()), count});
            std::move(handler)(error, count);
          });
        },
        token, asio::mutable_buffer{*asio::buffer_sequence_begin(buffers)});
  }

  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    const asio::const_buffer buffer = *asio::buffer_sequence_begin(buffers);
    auto flipped =
        std::make_shared<std::string>(static_cast<const char*>(buffer.data()), buffer.size());
    flip(*flipped);
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this, flipped](auto handler) {
          socket_.async_write_some(asio::buffer(*flipped),
                                   [flipped, handler = std::move(handler)](
                                       std::error_code error, std::size_t count) mutable {
                                     std::move(handler)(error, count);
                                   });
        },
        token);
  }

 private:
  static void flip(std::span<char> bytes) {
    for (char& byte : bytes) {
      if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z')) byte ^= 0x20;
    }
  }
  template <typename Bytes>
  static void flip(Bytes& bytes) {
    flip(std::span<char>{bytes.data(), bytes.size()});
  }

  asio::ip::tcp::socket socket_;
};
static_assert(coronet::socket_stream<case_flipping_stream>);
static_assert(!coronet::is_descriptor_stream_v<case_flipping_stream>);
static_assert(coronet::is_descriptor_stream_v<asio::ip::tcp::socket>);

struct flipping_transport : coronet::plain_transport<coronet::tcp_listener> {
  using stream_type = case_flipping_stream;
  template <coronet::stream_codec Codec>
  using connection_type = coronet::framed_connection<Codec, stream_type>;
  stream_type make_stream(socket_type socket) { return stream_type{std::move(socket)}; }
  template <coronet::stream_codec Codec>
  connection_type<Codec> make_connection(stream_type stream, Codec codec,
                                         const coronet::connection_options& options) {
    return connection_type<Codec>{std::move(stream), std::move(codec), options};
  }
};

}  // namespace

TEST_CASE(
    "a wrapping stream that exposes native_handle() is read and written through, never bypassed") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    coronet::basic_server<flipping_transport> server{io, {}};
    // The handler sees the wrapper's bytes: "ping" sent as "PING" on the wire.
    server.serve<line_codec>([](auto& conn) -> asio::awaitable<void> {
      while (auto line = co_await conn.read()) {
        const std::string reply = "got " + std::string{*line};
        co_await conn.write(reply);
      }
    });
    auto socket = co_await raw_connect(server.local_endpoint().port());
    co_await asio::async_write(socket, asio::buffer(std::string{"PING\n"}), asio::use_awaitable);
    std::string reply(9, '\0');
    co_await asio::async_read(socket, asio::buffer(reply), asio::use_awaitable);
    CHECK(reply == "GOT PING\n");  // "got ping" flipped on the way out.
  });
}

TEST_CASE("send_file over a wrapping stream goes through the wrapper, not sendfile(2)") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    std::FILE* file = std::tmpfile();
    REQUIRE(file != nullptr);
    const std::string content = "Hello File\n";
    std::fwrite(content.data(), 1, content.size(), file);
    std::fflush(file);
    coronet::basic_server<flipping_transport> server{io, {}};
    server.serve<line_codec>([file, &content](auto& conn) -> asio::awaitable<void> {
      co_await conn.send_file(::fileno(file), 0, content.size());
    });
    auto socket = co_await raw_connect(server.local_endpoint().port());
    const std::string received = co_await read_all(socket);
    CHECK(received == "hELLO fILE\n");
    std::fclose(file);
  });
}

// ---- the observer ----------------------------------------------------------------------------

TEST_CASE("the observer counts bytes, messages and decode errors, and says why sessions end") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<counting_observer>();
    coronet::tcp_server server{io, {.observer = observer, .log = nullptr}};
    server.serve<line_codec>(echo_handler{});  // The bad line is answered by the connection.
    const std::uint16_t port = server.local_endpoint().port();
    std::size_t error_reply_size = 0;
    {
      auto conn = co_await coronet::connect("127.0.0.1", port, quick_connect());
      const std::string first = co_await ask(conn, "one");
      CHECK(first == "one");
      co_await conn.stream().async_send(asio::buffer(std::string{"bad \xff line\n"}),
                                        asio::use_awaitable);
      const std::string error_reply = co_await next_line(conn);
      CHECK(error_reply.starts_with("error: invalid UTF-8 ("));
      error_reply_size = error_reply.size() + 1;
      const std::string second = co_await ask(conn, "two");
      CHECK(second == "two");
      co_await conn.write(std::string_view{"exit"});
      const std::string end = co_await next_line(conn);
      CHECK(end == eof_text());
    }
    {
      auto conn = co_await coronet::connect("127.0.0.1", port, quick_connect());
      const std::string reply = co_await ask(conn, "bye");
      CHECK(reply == "bye");
      conn.close();  // The peer closes: the server's read sees the end of the stream.
    }
    for (int i = 0; i < 100 && observer->ended.size() < 2; ++i)
      co_await sleep_for(10ms);
    CHECK(observer->sessions_started == 2);
    CHECK(observer->ended == std::vector<std::string>{"handler_done", "peer_closed"});
    const std::uint64_t sent_by_clients = 4 + 11 + 4 + 5 + 4;    // one, bad line, two, exit, bye
    const std::uint64_t replies = 4 + error_reply_size + 4 + 4;  // one, error, two, bye
    CHECK(observer->bytes_received.value() == sent_by_clients);
    CHECK(observer->bytes_sent.value() == replies);
    CHECK(observer->messages_received.value() == 4);  // one, two, exit, bye
    CHECK(observer->messages_sent.value() == 4);      // The error reply included.
    REQUIRE(observer->decode_errors.size() == 1);
    CHECK(observer->decode_errors[0] == coronet::errc::invalid_utf8);
  });
}

TEST_CASE("a session ended by the idle timeout is reported as idle_timeout") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto observer = std::make_shared<counting_observer>();
    coronet::tcp_server server{
        io, {.connection = {.idle_timeout = 200ms}, .observer = observer, .log = nullptr}};
    server.serve<line_codec>(echo_handler{});
    auto conn =
        co_await coronet::connect("127.0.0.1", server.local_endpoint().port(), quick_connect());
    const std::string end = co_await next_line(conn);
    CHECK(end == eof_text());
    for (int i = 0; i < 100 && observer->ended.empty(); ++i)
      co_await sleep_for(10ms);
    CHECK(observer->ended == std::vector<std::string>{"idle_timeout"});
  });
}

// ---- errors of a codec's own category --------------------------------------------------------

namespace {

enum class shout_error { lowercase = 1 };

const std::error_category& shout_category() {
  struct category final : std::error_category {
    const char* name() const noexcept override { return "shout"; }
    std::string message(int) const override { return "not shouted"; }
  };
  static const category instance;
  return instance;
}

// Lines that must be upper case: a user codec with an error kind coronet does not know.
struct shout_codec {
  using message_type = std::string_view;
  coronet::line_codec lines;
  coronet::decode_result<std::string_view> check(coronet::decode_result<std::string_view> line) {
    if (!line.has_message()) return line;
    for (const char c : line.message()) {
      if (c >= 'a' && c <= 'z') {
        return coronet::decode_result<std::string_view>::failure(
            {static_cast<int>(shout_error::lowercase), shout_category()}, "lower case",
            line.consumed(), true);
      }
    }
    return line;
  }
  auto decode(std::string_view bytes) { return check(lines.decode(bytes)); }
  auto decode_eof(std::string_view bytes) { return check(lines.decode_eof(bytes)); }
  std::error_code encode(std::string_view message, std::string& out) {
    return lines.encode(message, out);
  }
};

}  // namespace

// The same rule for single datagrams.
struct shout_datagram_codec {
  using message_type = std::string_view;
  coronet::datagram_codec datagrams;
  coronet::decode_result<std::string_view> decode(std::string_view bytes) {
    return shout_codec{}.check(datagrams.decode(bytes));
  }
  std::error_code encode(std::string_view message, std::string& out) {
    return datagrams.encode(message, out);
  }
};

TEST_CASE("a codec's own error category reaches the handler as a recoverable decode error") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [local, peer] = coronet::testing::make_memory_stream_pair(io.get_executor());
    coronet::framed_connection<shout_codec, coronet::testing::memory_stream> conn{
        std::move(local), shout_codec{}, {.decode_errors = coronet::decode_error_policy::report}};
    co_await asio::async_write(peer, asio::buffer(std::string{"quiet\nLOUD\n"}),
                               asio::use_awaitable);
    auto first = co_await conn.read();
    REQUIRE_FALSE(first);
    CHECK(first.decode_error());
    CHECK(first.recoverable());
    CHECK(first.error().category().name() == std::string{"shout"});
    CHECK(first.reason() == "lower case");
    auto second = co_await conn.read();
    REQUIRE(second);
    CHECK(*second == "LOUD");
    CHECK(conn.is_open());
  });
}

TEST_CASE(
    "a datagram server counts a codec's own errors as rejected datagrams, not socket failures") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    log_recorder log;
    coronet::udp_server<shout_datagram_codec> server{io, {.log = log.hook()}};
    server.serve(
        [](auto& datagram) -> asio::awaitable<void> { co_await datagram.reply(datagram.message); });
    coronet::udp_endpoint<> client{io};
    co_await client.send_to("quiet", server.local_endpoint());
    co_await client.send_to("LOUD", server.local_endpoint());
    auto echoed = co_await client.receive_from(2s);
    REQUIRE(echoed);
    CHECK(*echoed == "LOUD");
    CHECK(log.contains("rejected a datagram"));
    CHECK(log.contains("not shouted"));
    CHECK_FALSE(log.contains("receive failed"));  // No back-off as if the socket had failed.
  });
}
