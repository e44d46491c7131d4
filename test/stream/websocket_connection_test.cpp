// websocket_connection on the in-memory stream: a line handler unchanged over WebSocket, pings
// and pongs, the close handshake, and protocol errors answered with their close codes. The peer
// is a raw stream with a client-role codec, so the test sees every frame the connection sends.
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <coronet/codec/line_codec.hpp>
#include <coronet/codec/websocket_codec.hpp>
#include <coronet/connection_observer.hpp>
#include <coronet/stream/framed_connection.hpp>
#include <coronet/stream/websocket_connection.hpp>
#include <coronet/testing/memory_stream.hpp>
#include <string>
#include <vector>

#include "../support/async_test.hpp"
#include "../support/raw_bytes.hpp"

using namespace std::chrono_literals;
using coronet::line_codec;
using coronet::websocket_codec;
using coronet::websocket_codec_options;
using coronet::websocket_errc;
using coronet::websocket_kind;
using coronet::websocket_message;
using coronet::websocket_options;
using coronet::websocket_owned_message;
using coronet::websocket_role;
using coronet::testing::make_memory_stream_pair;
using coronet::testing::memory_stream;
using coronet::websocket_close::going_away;
using coronet::websocket_close::normal;
using coronet_test::run_async;
using coronet_test::send_raw;

namespace {

using ws_connection = coronet::websocket_connection<memory_stream>;

// The decode errors a connection reports to its observer.
struct decode_error_recorder : coronet::connection_observer {
  void on_decode_error(std::error_code error, bool was_recoverable) override {
    errors.push_back(error);
    recoverable = recoverable || was_recoverable;
  }
  std::vector<std::error_code> errors;
  bool recoverable = false;
};

// The far end of a WebSocket connection, frame by frame.
struct raw_client {
  memory_stream stream;
  websocket_codec codec{websocket_codec_options{.role = websocket_role::client}};
  std::string buffered;

  asio::awaitable<void> send(websocket_message message) {
    std::string bytes;
    REQUIRE_FALSE(codec.encode(message, bytes));
    co_await send_raw(stream, bytes);
  }

  // The next frame from the server, or an empty optional once the stream ends.
  asio::awaitable<std::optional<websocket_owned_message>> next() {
    while (true) {
      auto decoded = codec.decode(buffered);
      if (decoded.has_message()) {
        websocket_owned_message kept{decoded.message()};
        buffered.erase(0, decoded.consumed());
        co_return kept;
      }
      REQUIRE_FALSE(decoded.has_error());
      buffered.erase(0, decoded.consumed());
      char chunk[4096];
      auto [error, size] = co_await stream.async_read_some(
          asio::buffer(chunk), asio::experimental::as_tuple(asio::use_awaitable));
      if (error) co_return std::nullopt;
      buffered.append(chunk, size);
    }
  }
};

struct ws_pair {
  ws_connection server;
  raw_client client;
};

ws_pair make_ws_pair(asio::io_context& io, websocket_options options = {}) {
  auto [a, b] = make_memory_stream_pair(io.get_executor());
  return {ws_connection{std::move(a), options}, raw_client{std::move(b)}};
}

// A handler written for lines: it knows nothing of WebSocket.
template <typename Connection>
asio::awaitable<void> shout_back(Connection& connection) {
  while (auto line = co_await connection.read()) {
    if (*line == "exit") break;
    std::string reply = "you said: " + std::string{*line};
    co_await connection.write(reply);
  }
}

std::string client_frame_bytes(websocket_message message) {
  std::string bytes;
  const websocket_codec encoder{websocket_codec_options{.role = websocket_role::client}};
  REQUIRE_FALSE(encoder.encode(message, bytes));
  return bytes;
}

}  // namespace

TEST_CASE("one line handler serves TCP lines and WebSocket text messages alike") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    // Over lines.
    auto [line_end, line_peer] = make_memory_stream_pair(io.get_executor());
    coronet::framed_connection<line_codec, memory_stream> lines{std::move(line_end)};
    co_await send_raw(line_peer, "hello\nsecond line\nexit\n");
    co_await shout_back(lines);
    co_await lines.flush();
    const std::string expected_lines = "you said: hello\nyou said: second line\n";
    const std::string line_replies =
        co_await coronet_test::read_raw(line_peer, expected_lines.size());
    CHECK(line_replies == expected_lines);

    // Over WebSocket: one text message is one line, one reply one text message.
    auto [ws, client] = make_ws_pair(io);
    co_await client.send(websocket_message::text("hello"));
    co_await client.send(websocket_message::text("second line"));
    co_await client.send(websocket_message::text("exit"));
    co_await shout_back(ws);
    auto first = co_await client.next();
    auto second = co_await client.next();
    REQUIRE(first);
    REQUIRE(second);
    CHECK(*first == websocket_owned_message{websocket_message::text("you said: hello")});
    CHECK(*second == websocket_owned_message{websocket_message::text("you said: second line")});
  });
}

TEST_CASE("websocket connection delivers a text message with a newline as one message") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [ws, client] = make_ws_pair(io);
    co_await client.send(websocket_message::text("two\nlines"));
    auto message = co_await ws.read();
    REQUIRE(message);
    CHECK(*message == "two\nlines");
  });
}

TEST_CASE("websocket connection answers a ping with a pong carrying its data") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [ws, client] = make_ws_pair(io);
    co_await client.send(websocket_message::ping("are you there"));
    co_await client.send(websocket_message::text("after the ping"));
    auto message = co_await ws.read();
    REQUIRE(message);
    CHECK(*message == "after the ping");
    auto pong = co_await client.next();
    REQUIRE(pong);
    CHECK(*pong == websocket_owned_message{websocket_message::pong("are you there")});
  });
}

TEST_CASE("websocket connection pings a peer that has been silent for ping_interval") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    websocket_options options;
    options.ping_interval = 50ms;
    auto [ws, client] = make_ws_pair(io, options);
    auto ping = co_await client.next();
    REQUIRE(ping);
    CHECK(ping->kind == websocket_kind::ping);
    ws.close();
  });
}

TEST_CASE("websocket connection answers a close frame with the same code and reads end") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [ws, client] = make_ws_pair(io);
    co_await client.send(websocket_message::close(4000, "done here"));
    auto end = co_await ws.read();
    CHECK(end.at_end());
    CHECK(ws.peer_close_code() == 4000);
    CHECK(ws.close_reason() == coronet::close_reason::peer_closed);
    CHECK_FALSE(ws.is_open());
    const std::error_code late = co_await ws.write("too late");
    CHECK(late == coronet::errc::connection_closed);
    co_await ws.flush();
    auto answer = co_await client.next();
    REQUIRE(answer);
    CHECK(*answer == websocket_owned_message{websocket_message::close(4000)});
  });
}

TEST_CASE("websocket connection closes with the protocol error's code") {
  struct hostile_case {
    const char* name;
    std::string bytes;
    std::uint16_t code;
  };
  std::string unmasked;
  coronet::append_websocket_frame(unmasked, {true, 0, 1, std::nullopt}, "hi");
  std::string reserved_close_code = client_frame_bytes(websocket_message::text("ok"));
  {
    std::string frame;
    coronet::append_websocket_frame(frame, {true, 0, 8, std::array<std::uint8_t, 4>{1, 2, 3, 4}},
                                    std::string{"\x03\xed", 2});  // 1005: reports only.
    reserved_close_code += frame;
  }
  // encode() refuses to send text that is not UTF-8: these frames are written raw.
  std::string invalid_text;
  coronet::append_websocket_frame(
      invalid_text, {true, 0, 1, std::array<std::uint8_t, 4>{5, 5, 5, 5}}, "\xc0\xaf");
  std::string fragmented_invalid;
  coronet::append_websocket_frame(
      fragmented_invalid, {false, 0, 1, std::array<std::uint8_t, 4>{9, 8, 7, 6}}, "ok \xf0\x9f");
  coronet::append_websocket_frame(fragmented_invalid,
                                  {true, 0, 0, std::array<std::uint8_t, 4>{9, 8, 7, 6}}, "!");
  const std::vector<hostile_case> cases = {
      {"unmasked client frame", unmasked, 1002},
      {"reserved close code", reserved_close_code, 1002},
      {"invalid UTF-8", invalid_text, 1007},
      {"invalid UTF-8 across fragments", fragmented_invalid, 1007},
      {"message over the limit",
       client_frame_bytes(websocket_message::binary(std::string(2000, 'x'))), 1009},
      {"binary to a text handler", client_frame_bytes(websocket_message::binary("b")), 1003},
  };
  for (const hostile_case& test : cases) {
    INFO(test.name);
    run_async([&test](asio::io_context& io) -> asio::awaitable<void> {
      websocket_options options;
      options.codec.max_message_size = 1000;
      auto [ws, client] = make_ws_pair(io, options);
      decode_error_recorder observer;
      ws.set_observer(&observer);
      co_await send_raw(client.stream, test.bytes);
      // Whatever valid message came before the bad frame is read first.
      auto result = co_await ws.read();
      if (result) result = co_await ws.read();
      CHECK_FALSE(result);
      CHECK(result.decode_error());
      CHECK(coronet::close_code_for(result.error()) == test.code);
      CHECK(ws.close_reason() == coronet::close_reason::protocol_error);
      // Counted once, whether the codec found it or the stage (binary to a text handler).
      REQUIRE(observer.errors.size() == 1);
      CHECK(observer.errors[0] == result.error());
      CHECK_FALSE(observer.recoverable);
      co_await ws.close_gracefully(1s);
      auto frame = co_await client.next();
      REQUIRE(frame);
      CHECK(frame->kind == websocket_kind::close);
      CHECK(frame->close_code == test.code);
      auto end = co_await client.next();
      CHECK_FALSE(end);
    });
  }
}

TEST_CASE("websocket connection closes gracefully with 1000 or 1001 when the server stops") {
  for (const auto why : {coronet::close_reason::handler_done, coronet::close_reason::server_stop}) {
    run_async([why](asio::io_context& io) -> asio::awaitable<void> {
      auto [ws, client] = make_ws_pair(io);
      co_await ws.close_gracefully(1s, why);
      auto frame = co_await client.next();
      REQUIRE(frame);
      CHECK(frame->kind == websocket_kind::close);
      CHECK(frame->close_code == (why == coronet::close_reason::server_stop ? going_away : normal));
    });
  }
}

TEST_CASE("websocket connection refuses text that is not UTF-8 on write") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [ws, client] = make_ws_pair(io);
    const std::error_code error = co_await ws.write("\xff");
    CHECK(error == coronet::errc::invalid_utf8);
    CHECK(ws.is_open());
  });
}

TEST_CASE("websocket connection sends a text message framed once to several connections") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto [first, first_client] = make_ws_pair(io);
    auto [second, second_client] = make_ws_pair(io);
    const ws_connection::encoded_text framed = first.encode_text("[alice] hi, ünïcödé");
    REQUIRE(framed);
    CHECK_FALSE(co_await first.write(framed));
    CHECK_FALSE(second.try_write(framed));
    for (raw_client* client : {&first_client, &second_client}) {
      auto message = co_await client->next();
      REQUIRE(message);
      CHECK(message->kind == websocket_kind::text);
      CHECK(message->payload == "[alice] hi, ünïcödé");
    }
    const ws_connection::encoded_text invalid = first.encode_text("\xff");
    CHECK(invalid.error() == coronet::errc::invalid_utf8);
    // After its close frame a connection sends nothing more, framed once or not.
    co_await first.write(websocket_message::close(normal));
    CHECK(first.try_write(framed) == coronet::errc::connection_closed);
    CHECK(co_await first.write(framed) == coronet::errc::connection_closed);
  });
}
