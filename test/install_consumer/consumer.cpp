// Uses the installed coronet: a codec round trip inside an Asio coroutine, which also proves that
// the installed library carries Asio's separately compiled implementation.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <coronet/codec.hpp>
#include <iostream>
#include <string>

namespace {

asio::awaitable<std::string> round_trip(std::string text) {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  coronet::line_codec codec;
  std::string wire;
  if (codec.encode(text, wire)) co_return "encode failed";
  auto result = codec.decode(wire);
  co_return result.has_message() ? std::string{result.message()} : "decode failed";
}

}  // namespace

int main() {
  asio::io_context io;
  std::string decoded;
  asio::co_spawn(io, round_trip("hello, 世界"),
                 [&](std::exception_ptr, std::string value) { decoded = std::move(value); });
  io.run();
  std::cout << "consumer ok: " << decoded << '\n';
  return decoded == "hello, 世界" ? 0 : 1;
}
