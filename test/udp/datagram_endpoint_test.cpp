// udp_endpoint / unix_datagram_endpoint over real loopback sockets: round trips (IPv4, IPv6, Unix),
// datagrams rejected whole (too long, not UTF-8) while the endpoint goes on, raw receives,
// timeouts, cancellation, connected mode, and 10,000 datagrams from several senders.
#include <sys/stat.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/local/stream_protocol.hpp>
#include <catch2/catch.hpp>
#include <coronet/udp/datagram_client.hpp>
#include <coronet/udp/datagram_endpoint.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../support/async_test.hpp"
#include "udp_test_support.hpp"

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using coronet::errc;
using coronet::udp_endpoint;
using coronet::unix_datagram_endpoint;
using coronet_test::run_async;
using coronet_test::sleep_for;

namespace {

// Receives one message; "<error: ...>" when there is none, so a CHECK shows what happened.
template <typename Endpoint>
asio::awaitable<std::string> next_message(Endpoint& endpoint,
                                          std::chrono::milliseconds timeout = 2s) {
  auto received = co_await endpoint.receive_from(timeout);
  if (!received) co_return "<error: " + received.error().message() + ">";
  co_return std::string{*received};
}

std::string error_text(std::error_code error) {
  return "<error: " + error.message() + ">";
}

coronet::datagram_codec binary_codec(std::size_t max = 65'507) {
  return coronet::datagram_codec{{.max_datagram_size = max, .validate_utf8 = false}};
}

}  // namespace

TEST_CASE("udp endpoints exchange datagrams over IPv4 and report the sender") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    udp_endpoint<> server{io};
    udp_endpoint<> client{io};
    REQUIRE(server.local_endpoint().port() != 0);
    CHECK(server.local_endpoint().address().to_string() == "127.0.0.1");

    const std::error_code sent = co_await client.send_to("hello", server.local_endpoint());
    CHECK_FALSE(sent);
    auto received = co_await server.receive_from(2s);
    REQUIRE(received);
    CHECK(*received == "hello");
    CHECK(received.sender() == client.local_endpoint());

    const std::error_code replied = co_await server.send_to("你好，世界 😀", received.sender());
    CHECK_FALSE(replied);
    const std::string reply = co_await next_message(client);
    CHECK(reply == "你好，世界 😀");

    const std::error_code empty_sent = co_await client.send_to("", server.local_endpoint());
    CHECK_FALSE(empty_sent);
    auto empty = co_await server.receive_from(2s);
    REQUIRE(empty);
    CHECK(empty->empty());  // An empty datagram is an empty message.
    CHECK(server.stats().received == 2);
    CHECK(server.stats().delivered() == 2);
    CHECK(client.stats().sent == 2);
  });
}

TEST_CASE("udp endpoints exchange datagrams over IPv6 on ::1") {
  if (const std::error_code unavailable = udp_test::ipv6_loopback_unavailable()) {
    WARN("skipped: ::1 is not available here (" << unavailable.message() << ")");
    return;
  }
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    udp_endpoint<> server{io, {.host = "::1"}};
    CHECK(server.local_endpoint().address().is_v6());
    auto client = coronet::udp_connect(io, "::1", server.local_endpoint().port());
    CHECK(client.local_endpoint().address().is_v6());
    const std::error_code sent = co_await client.send("over IPv6");
    CHECK_FALSE(sent);
    auto received = co_await server.receive_from(2s);
    REQUIRE(received);
    CHECK(*received == "over IPv6");
    CHECK(coronet::to_string(received.sender()).starts_with("[::1]:"));
    co_await server.send_to("back", received.sender());
    const std::string reply = co_await next_message(client);
    CHECK(reply == "back");
  });
}

TEST_CASE("a dual-stack udp endpoint on :: receives IPv4 datagrams") {
  if (udp_test::ipv6_loopback_unavailable()) {
    WARN("skipped: IPv6 is not available here");
    return;
  }
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    udp_endpoint<> server{io, {.host = "::"}};
    auto client = coronet::udp_connect(io, "127.0.0.1", server.local_endpoint().port());
    co_await client.send("v4 to a v6 socket");
    auto received = co_await server.receive_from(2s);
    REQUIRE(received);
    CHECK(*received == "v4 to a v6 socket");
    CHECK(received.sender().address().to_string() == "::ffff:127.0.0.1");
  });
}

TEST_CASE("unix datagram endpoints exchange datagrams and own their socket files") {
  udp_test::temp_dir dir;
  const std::string server_path = dir.file("server.sock");
  const std::string client_path = dir.file("client.sock");
  {
    // A stale socket file, as a crashed process leaves behind.
    asio::io_context io;
    asio::local::datagram_protocol::socket dead{
        io, asio::local::datagram_protocol::endpoint{server_path}};
  }
  REQUIRE(std::filesystem::exists(server_path));
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    unix_datagram_endpoint<> server{io, {.unix_path = server_path}};
    CHECK(coronet::to_string(server.local_endpoint()) == "unix:" + server_path);
    // A live socket's file is never taken over.
    CHECK_THROWS_AS((unix_datagram_endpoint<>{io, {.unix_path = server_path}}), std::system_error);
    CHECK(coronet::prepare_unix_socket_path(server_path) ==
          std::make_error_code(std::errc::address_in_use));

    auto client = coronet::unix_datagram_connect(io, server_path, {.unix_path = client_path});
    const std::error_code sent = co_await client.send("over a unix socket");
    CHECK_FALSE(sent);
    auto received = co_await server.receive_from(2s);
    REQUIRE(received);
    CHECK(*received == "over a unix socket");
    CHECK(received.sender().path() == client_path);
    co_await server.send_to("reply", received.sender());
    const std::string reply = co_await next_message(client);
    CHECK(reply == "reply");

    // An unbound sender can send but cannot be answered.
    unix_datagram_endpoint<> anonymous{io};
    co_await anonymous.send_to("anonymous", server.local_endpoint());
    auto from_anonymous = co_await server.receive_from(2s);
    REQUIRE(from_anonymous);
    CHECK(coronet::to_string(from_anonymous.sender()) == "unix:(unnamed)");

    client.close();
    CHECK_FALSE(std::filesystem::exists(client_path));  // Removed at close.
  });
  CHECK_FALSE(std::filesystem::exists(server_path));  // Removed when the endpoint went away.
}

TEST_CASE("a unix datagram path held by a live stream socket is not taken over") {
  udp_test::temp_dir dir;
  const std::string path = dir.file("stream.sock");
  asio::io_context io;
  asio::local::stream_protocol::acceptor live{io, asio::local::stream_protocol::endpoint{path}};
  CHECK(coronet::prepare_unix_socket_path(path) == std::make_error_code(std::errc::address_in_use));
  CHECK_THROWS_AS((unix_datagram_endpoint<>{io, {.unix_path = path}}), std::system_error);
  CHECK(std::filesystem::exists(path));
}

TEST_CASE(
    "a datagram over max_datagram_size is rejected whole, counted, and the next one arrives") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    udp_endpoint<> receiver{io, {}, binary_codec(100)};
    udp_endpoint<> sender{io, {}, binary_codec()};
    CHECK(receiver.max_datagram_size() == 100);
    const auto to = receiver.local_endpoint();

    co_await sender.send_to(std::string(101, 'x'), to);  // One byte over: fills the extra byte.
    auto just_over = co_await receiver.receive_from(2s);
    CHECK(just_over.error() == errc::frame_too_long);
    CHECK(just_over.recoverable());
    CHECK(just_over.sender() == sender.local_endpoint());

    co_await sender.send_to(std::string(5000, 'y'), to);  // Far over: cut by the kernel.
    auto far_over = co_await receiver.receive_from(2s);
    CHECK(far_over.error() == errc::frame_too_long);

    co_await sender.send_to(std::string(100, 'z'), to);  // Exactly the limit.
    auto at_limit = co_await receiver.receive_from(2s);
    REQUIRE(at_limit);
    CHECK(*at_limit == std::string(100, 'z'));

    CHECK(receiver.stats().received == 3);
    CHECK(receiver.stats().rejected_oversize == 2);
    CHECK(receiver.stats().delivered() == 1);
  });
}

TEST_CASE("a datagram that is not UTF-8 is rejected and counted, and the endpoint keeps serving") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    udp_endpoint<> receiver{io};
    udp_endpoint<> sender{io, {}, binary_codec()};
    co_await sender.send_to("\xED\xA0\x80", receiver.local_endpoint());  // A surrogate.
    auto bad = co_await receiver.receive_from(2s);
    CHECK(bad.error() == errc::invalid_utf8);
    CHECK(bad.reason().starts_with("surrogate code point"));
    CHECK(bad.recoverable());
    co_await sender.send_to("fine", receiver.local_endpoint());
    const std::string next = co_await next_message(receiver);
    CHECK(next == "fine");
    CHECK(receiver.stats().rejected_invalid_utf8 == 1);
    CHECK(receiver.stats().delivered() == 1);
  });
}

TEST_CASE("send_to refuses a message its codec cannot encode and sends nothing") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    udp_endpoint<> receiver{io};
    udp_endpoint<> sender{io, {}, coronet::datagram_codec{{.max_datagram_size = 10}}};
    const std::error_code too_long =
        co_await sender.send_to("0123456789A", receiver.local_endpoint());
    CHECK(too_long == errc::frame_too_long);
    const std::error_code not_text = co_await sender.send_to("\xFF", receiver.local_endpoint());
    CHECK(not_text == errc::invalid_utf8);
    CHECK(sender.stats().send_errors == 2);
    CHECK(sender.stats().sent == 0);
    const std::string nothing = co_await next_message(receiver, 100ms);
    CHECK(nothing == error_text(errc::timed_out));
  });
}

TEST_CASE("receive_from_into stores raw bytes and reports a datagram larger than the buffer") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    udp_endpoint<> receiver{io};
    udp_endpoint<> sender{io, {}, binary_codec()};
    std::array<char, 8> buffer{};
    co_await sender.send_to(std::string_view{"\x00\xFF\x01", 3}, receiver.local_endpoint());
    auto raw = co_await receiver.receive_from_into(buffer, 2s);
    REQUIRE(raw);
    CHECK(std::string_view{buffer.data(), raw.size} == std::string_view{"\x00\xFF\x01", 3});
    CHECK(raw.sender == sender.local_endpoint());

    co_await sender.send_to("0123456789", receiver.local_endpoint());
    auto cut = co_await receiver.receive_from_into(buffer, 2s);
    CHECK(cut.error == errc::frame_too_long);
    CHECK(cut.size == 8);
    CHECK(cut.datagram_size == 10);
    CHECK(std::string_view{buffer.data(), cut.size} == "01234567");
    CHECK(receiver.stats().rejected_oversize == 1);
  });
}

TEST_CASE("a receive with nothing to receive times out and the endpoint stays usable") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    udp_endpoint<> receiver{io, {.receive_timeout = 100ms}};
    udp_endpoint<> sender{io};
    auto start = std::chrono::steady_clock::now();
    auto silent = co_await receiver.receive_from();
    CHECK(silent.error() == errc::timed_out);
    CHECK(silent.recoverable());
    CHECK(std::chrono::steady_clock::now() - start >= 90ms);

    start = std::chrono::steady_clock::now();
    auto shorter = co_await receiver.receive_from(30ms);  // The per-call timeout wins.
    CHECK(shorter.error() == errc::timed_out);
    CHECK(std::chrono::steady_clock::now() - start < 90ms);

    co_await sender.send_to("after the timeouts", receiver.local_endpoint());
    const std::string late = co_await next_message(receiver);
    CHECK(late == "after the timeouts");
    CHECK(receiver.stats().receive_errors == 0);
  });
}

TEST_CASE("cancelling the caller ends a receive with operation_aborted, with or without timeout") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    for (const auto timeout : {0ms, 5000ms}) {
      udp_endpoint<> receiver{io, {.receive_timeout = timeout}};
      asio::cancellation_signal cancel;
      std::optional<std::error_code> outcome;
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            auto result = co_await receiver.receive_from();
            outcome = result.error();
          },
          asio::bind_cancellation_slot(cancel.slot(), asio::detached));
      co_await sleep_for(30ms);
      CHECK_FALSE(outcome.has_value());
      cancel.emit(asio::cancellation_type::terminal);
      co_await sleep_for(30ms);
      REQUIRE(outcome.has_value());
      CHECK(*outcome == asio::error::operation_aborted);

      // The awaitable operators cancel the loser the same way; the endpoint goes on.
      auto raced = co_await (receiver.receive_from() || sleep_for(20ms));
      CHECK(raced.index() == 1);
      udp_endpoint<> sender{io};
      co_await sender.send_to("still here", receiver.local_endpoint());
      const std::string after = co_await next_message(receiver);
      CHECK(after == "still here");
    }
  });
}

TEST_CASE("one coroutine receives at a time, and closing ends a pending receive") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto receiver = std::make_unique<udp_endpoint<>>(io);
    std::optional<std::error_code> first;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto result = co_await receiver->receive_from();
          first = result.error();
        },
        asio::detached);
    co_await sleep_for(10ms);
    auto second = co_await receiver->receive_from(10ms);
    CHECK(second.error() == asio::error::already_started);
    receiver.reset();  // Destroying the endpoint closes the socket under the pending receive.
    co_await sleep_for(10ms);
    REQUIRE(first.has_value());
    CHECK(*first == errc::connection_closed);
  });
}

TEST_CASE("a connected udp endpoint talks to its peer only and learns when the port closes") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    auto peer = std::make_unique<udp_endpoint<>>(io);
    const auto peer_address = peer->local_endpoint();
    auto client = coronet::udp_connect(io, "127.0.0.1", peer_address.port());
    CHECK(client.remote_endpoint() == peer_address);

    co_await client.send("ping");
    auto ping = co_await peer->receive_from(2s);
    REQUIRE(ping);
    co_await peer->send_to("pong", ping.sender());
    auto pong = co_await client.receive(2s);
    REQUIRE(pong);
    CHECK(*pong == "pong");

    udp_endpoint<> stranger{io};
    co_await stranger.send_to("not for you", client.local_endpoint());
    auto filtered = co_await client.receive(100ms);  // The kernel drops a stranger's datagram.
    CHECK(filtered.error() == errc::timed_out);

    peer.reset();
    co_await client.send("anyone there?");
    auto refused = co_await client.receive(2s);
    CHECK(refused.error() == asio::error::connection_refused);
    CHECK(refused.recoverable());
    CHECK(client.stats().receive_errors == 1);
  });
}

TEST_CASE("an unconnected send() is an error value, not an exception") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    udp_endpoint<> lonely{io};
    const std::error_code error = co_await lonely.send("nowhere");
    CHECK(error);
    CHECK(lonely.stats().send_errors == 1);
    lonely.close();
    const std::error_code closed = co_await lonely.send_to("x", lonely.local_endpoint());
    CHECK(closed == errc::connection_closed);
    auto received = co_await lonely.receive_from();
    CHECK(received.error() == errc::connection_closed);
    CHECK_FALSE(received.recoverable());
  });
}

TEST_CASE("a send to a unix datagram peer that never reads times out instead of hanging") {
  udp_test::temp_dir dir;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    unix_datagram_endpoint<> never_reads{io, {.unix_path = dir.file("full.sock")}};
    auto client =
        coronet::unix_datagram_connect(io, dir.file("full.sock"), {.send_timeout = 100ms});
    std::error_code error;
    int sent = 0;
    const auto start = std::chrono::steady_clock::now();
    while (!error && sent < 10'000) {
      error = co_await client.send(std::string(1000, 'q'));
      if (!error) ++sent;
    }
    CHECK(error == errc::timed_out);
    CHECK(sent > 0);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
  });
}

TEST_CASE("joining a multicast group delivers the group's datagrams") {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    std::optional<udp_endpoint<>> receiver;
    try {
      receiver.emplace(io,
                       coronet::datagram_options{.host = "0.0.0.0",
                                                 .socket = {.reuse_address = true,
                                                            .multicast_groups = {"239.255.42.99"},
                                                            .multicast_loopback = true}});
    } catch (const std::system_error& error) {
      WARN("skipped: cannot join a multicast group here (" << error.what() << ")");
      co_return;
    }
    udp_endpoint<> sender{io, {.host = "0.0.0.0", .socket = {.multicast_loopback = true}}};
    const asio::ip::udp::endpoint group{asio::ip::make_address("239.255.42.99"),
                                        receiver->local_endpoint().port()};
    const std::error_code sent = co_await sender.send_to("to the group", group);
    if (sent) {
      WARN("skipped: cannot send to a multicast group here (" << sent.message() << ")");
      co_return;
    }
    const std::string received = co_await next_message(*receiver, 1s);
    if (received == error_text(errc::timed_out)) {
      WARN("multicast is not routed on this host's loopback: nothing arrived within 1 s");
      co_return;
    }
    CHECK(received == "to the group");
  });
}

namespace flood {
constexpr int senders = 4;
constexpr int per_sender = 2'500;
constexpr int window = 32;  // Datagrams a sender may have in flight (pacing, not a protocol).
}  // namespace flood

TEST_CASE("10,000 datagrams from 4 paced senders all arrive, counted per sender") {
  using namespace flood;
  run_async(
      [](asio::io_context& io) -> asio::awaitable<void> {
        udp_endpoint<> receiver{io, {.socket = {.receive_buffer_size = 1 << 20}}};
        std::vector<std::unique_ptr<udp_endpoint<>>> clients;
        std::map<std::uint16_t, int> index_of_port;
        for (int i = 0; i < senders; ++i) {
          clients.push_back(std::make_unique<udp_endpoint<>>(io));
          index_of_port[clients.back()->local_endpoint().port()] = i;
        }
        std::vector<int> sent(senders, 0), received(senders, 0), out_of_order(senders, 0);
        std::vector<int> next_expected(senders, 0);
        int wrong_sender = 0, stalls = 0;
        const auto start = std::chrono::steady_clock::now();

        for (int i = 0; i < senders; ++i) {
          asio::co_spawn(
              io,
              [&, i]() -> asio::awaitable<void> {
                for (int n = 0; n < per_sender; ++n) {
                  // Wait (bounded) for the receiver to catch up; a lost datagram must not stall us.
                  for (int waits = 0; sent[i] - received[i] >= window && waits < 200; ++waits) {
                    co_await sleep_for(1ms);
                    if (waits == 199) ++stalls;
                  }
                  const std::string payload = std::to_string(i) + ":" + std::to_string(n);
                  const std::error_code error =
                      co_await clients[i]->send_to(payload, receiver.local_endpoint());
                  if (!error) ++sent[i];
                }
              },
              asio::detached);
        }

        int total = 0;
        while (total < senders * per_sender) {
          auto datagram = co_await receiver.receive_from(1s);
          if (!datagram) break;  // 1 s of silence: whatever is missing is lost.
          const auto found = index_of_port.find(datagram.sender().port());
          REQUIRE(found != index_of_port.end());
          const int i = found->second;
          const std::string text{*datagram};
          const auto colon = text.find(':');
          if (std::stoi(text.substr(0, colon)) != i) ++wrong_sender;
          const int n = std::stoi(text.substr(colon + 1));
          if (n != next_expected[i]) ++out_of_order[i];
          next_expected[i] = n + 1;
          ++received[i];
          ++total;
        }
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);

        int lost = 0;
        for (int i = 0; i < senders; ++i) {
          lost += sent[i] - received[i];
          if (sent[i] != received[i] || out_of_order[i] != 0) {
            WARN("sender " << i << ": sent " << sent[i] << ", received " << received[i]
                           << ", out of order " << out_of_order[i]);
          }
        }
        if (lost > 0) WARN("loopback lost " << lost << " of 10000 datagrams");
        INFO("10,000 datagrams in " << elapsed.count() << " ms, " << stalls << " stalls");
        for (int i = 0; i < senders; ++i) {
          CHECK(sent[i] == per_sender);
          CHECK(received[i] == per_sender);
        }
        CHECK(wrong_sender == 0);
        CHECK(receiver.stats().received == static_cast<std::uint64_t>(total));
      },
      std::chrono::seconds{60});
}
