// read_result: a message or the reason there is none, never both, through copies and moves.
#include "coronet/read_result.hpp"

#include <catch2/catch.hpp>
#include <coronet/error.hpp>
#include <string>
#include <string_view>

using coronet::read_result;

TEST_CASE("read_result holds a message with no error and no reason") {
  const auto result = read_result<std::string>::of("hello");
  REQUIRE(result.has_message());
  CHECK(static_cast<bool>(result));
  CHECK(*result == "hello");
  CHECK(result->size() == 5);
  CHECK_FALSE(result.error());
  CHECK(result.reason().empty());
  CHECK_FALSE(result.recoverable());
  CHECK_FALSE(result.decode_error());
  CHECK_FALSE(result.at_end());
}

TEST_CASE("read_result holds a codec failure with its reason and no message") {
  const auto result = read_result<std::string_view>::decode_failure(coronet::errc::invalid_utf8,
                                                                    "surrogate code point", true);
  CHECK_FALSE(result.has_message());
  CHECK(result.error() == coronet::errc::invalid_utf8);
  CHECK(result.reason() == "surrogate code point");
  CHECK(result.recoverable());
  CHECK(result.decode_error());

  const auto end = read_result<std::string_view>::failure(asio::error::eof);
  CHECK(end.at_end());
  CHECK(end.reason().empty());
  CHECK_FALSE(end.decode_error());
}

TEST_CASE("read_result keeps its message or failure through copies and moves") {
  auto message = read_result<std::string>::of(std::string(100, 'x'));
  const auto copy = message;
  const auto moved = std::move(message);
  CHECK(*copy == std::string(100, 'x'));
  CHECK(*moved == std::string(100, 'x'));

  auto failure = read_result<std::string>::decode_failure(coronet::errc::frame_too_long,
                                                          "line over 10 bytes", true);
  failure = copy;  // A failure replaced by a message takes the message's (empty) error.
  CHECK(failure.has_message());
  CHECK(failure.reason().empty());
  CHECK_FALSE(failure.error());
}
