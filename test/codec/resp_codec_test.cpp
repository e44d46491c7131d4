// resp_codec: every RESP2 and RESP3 type, the limits (each refused before the bytes it would
// need arrive), hostile streams, the conformance kit, and encoding.
#include "coronet/codec/resp_codec.hpp"

#include <catch2/catch.hpp>
#include <coronet/testing/codec_conformance.hpp>
#include <random>
#include <string>
#include <vector>

using coronet::resp_codec;
using coronet::resp_errc;
using coronet::resp_type;
using coronet::resp_value;
using namespace std::string_literals;

namespace {

// Decodes one value from `bytes` with a fresh codec (whole buffer, end of stream after it).
coronet::decode_result<resp_value> decode_whole(std::string_view bytes,
                                                coronet::resp_codec_options options = {}) {
  resp_codec codec{options};
  return codec.decode(bytes);
}

resp_value decode_ok(std::string_view bytes) {
  auto result = decode_whole(bytes);
  INFO(bytes);
  REQUIRE(result.has_message());
  CHECK(result.consumed() == bytes.size());
  return std::move(result).message();
}

std::error_code decode_error(std::string_view bytes, coronet::resp_codec_options options = {}) {
  auto result = decode_whole(bytes, options);
  if (!result.has_error()) return {};
  CHECK_FALSE(result.recoverable());
  return result.error();
}

resp_value typed(resp_type type, std::string text = {}, std::int64_t integer = 0) {
  resp_value value;
  value.type = type;
  value.text = std::move(text);
  value.integer = integer;
  return value;
}

// Assorted values of every type, nested, deterministic for a seed.
resp_value random_value(std::mt19937_64& random, int depth) {
  const std::string texts[] = {"", "OK", "hello world", "你好", std::string(300, 'x')};
  std::string binary(random() % 40, '\0');
  for (char& byte : binary)
    byte = static_cast<char>(random() & 0xFF);
  switch (random() % (depth < 3 ? 14 : 10)) {
    case 0:
      return resp_value::simple(texts[random() % 4]);
    case 1:
      return resp_value::error_value("ERR " + texts[random() % 4]);
    case 2:
      return resp_value::number(static_cast<std::int64_t>(random()));
    case 3:
      return resp_value::bulk(binary);
    case 4:
      return typed(random() % 2 ? resp_type::null_bulk_string : resp_type::null_array);
    case 5:
      return typed(resp_type::null);
    case 6:
      return typed(resp_type::boolean, {}, static_cast<std::int64_t>(random() % 2));
    case 7:
      return typed(resp_type::double_number, random() % 2 ? "3.25" : "-inf");
    case 8:
      return typed(resp_type::big_number, "3492890328409238509324850943850943825024385");
    case 9:
      return typed(random() % 2 ? resp_type::bulk_error : resp_type::verbatim_string,
                   "txt:" + binary);
    default: {
      const resp_type types[] = {resp_type::array, resp_type::set, resp_type::push, resp_type::map};
      resp_value aggregate;
      aggregate.type = types[random() % 4];
      const std::size_t count = (random() % 4) * 2;
      for (std::size_t i = 0; i < count; ++i)
        aggregate.elements.push_back(random_value(random, depth + 1));
      return aggregate;
    }
  }
}

}  // namespace

TEST_CASE("resp codec decodes the RESP2 reply types") {
  CHECK(decode_ok("+OK\r\n") == resp_value::simple("OK"));
  CHECK(decode_ok("-ERR unknown command\r\n") == resp_value::error_value("ERR unknown command"));
  CHECK(decode_ok(":-42\r\n") == resp_value::number(-42));
  CHECK(decode_ok("$5\r\nhe\r\no\r\n") == resp_value::bulk("he\r\no"));
  CHECK(decode_ok("$0\r\n\r\n") == resp_value::bulk(""));
  CHECK(decode_ok("$-1\r\n").type == resp_type::null_bulk_string);
  CHECK(decode_ok("*-1\r\n").type == resp_type::null_array);
  CHECK(decode_ok("*0\r\n") == resp_value::aggregate(resp_type::array, {}));
  const resp_value message = decode_ok("*3\r\n$7\r\nmessage\r\n$4\r\nroom\r\n$2\r\nhi\r\n");
  CHECK(message == resp_value::command({"message", "room", "hi"}));
}

TEST_CASE("resp codec decodes the RESP3 types") {
  CHECK(decode_ok("_\r\n").is_null());
  CHECK(decode_ok("#t\r\n") == typed(resp_type::boolean, {}, 1));
  CHECK(decode_ok("#f\r\n") == typed(resp_type::boolean, {}, 0));
  CHECK(decode_ok(",1.5\r\n").as_double() == 1.5);
  CHECK(decode_ok(",-inf\r\n").as_double() < 0);
  CHECK(decode_ok("(12345678901234567890123\r\n") ==
        typed(resp_type::big_number, "12345678901234567890123"));
  CHECK(decode_ok("!8\r\nERR a\r\nb\r\n") == typed(resp_type::bulk_error, "ERR a\r\nb"));
  CHECK(decode_ok("=8\r\ntxt:ping\r\n") == typed(resp_type::verbatim_string, "txt:ping"));
  const resp_value map = decode_ok("%1\r\n+key\r\n:1\r\n");
  CHECK(map ==
        resp_value::aggregate(resp_type::map, {resp_value::simple("key"), resp_value::number(1)}));
  CHECK(decode_ok("~1\r\n:7\r\n").type == resp_type::set);
  const resp_value push = decode_ok(">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n");
  CHECK(push.type == resp_type::push);
  CHECK(push.elements.size() == 3);
}

TEST_CASE("resp codec drops attributes and yields the value they annotate") {
  CHECK(decode_ok("|1\r\n+ttl\r\n:3600\r\n:5\r\n") == resp_value::number(5));
  const resp_value array = decode_ok("*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n");
  CHECK(array ==
        resp_value::aggregate(resp_type::array, {resp_value::number(1), resp_value::number(2)}));
}

TEST_CASE("resp codec decodes pipelined replies one at a time") {
  resp_codec codec;
  const std::string stream = "+OK\r\n:1\r\n$1\r\nx\r\n";
  std::string_view rest = stream;
  std::vector<resp_value> replies;
  while (!rest.empty()) {
    auto decoded = codec.decode(rest);
    REQUIRE(decoded.has_message());
    rest.remove_prefix(decoded.consumed());
    replies.push_back(std::move(decoded).message());
  }
  CHECK(replies ==
        std::vector{resp_value::simple("OK"), resp_value::number(1), resp_value::bulk("x")});
  CHECK(codec.decode("").needs_more());
}

TEST_CASE("resp codec rejects a bulk string longer than max_bulk_length from its header") {
  // The header alone is enough: the codec never waits for (or buffers) the huge payload.
  CHECK(decode_error("$9999999999\r\n") == resp_errc::bulk_too_long);
  CHECK(decode_error("$11\r\n", {.max_bulk_length = 10}) == resp_errc::bulk_too_long);
  CHECK(decode_whole("$10\r\n", {.max_bulk_length = 10}).needs_more());
  CHECK(decode_error("+" + std::string(11, 'x'), {.max_bulk_length = 10}) ==
        resp_errc::bulk_too_long);
}

TEST_CASE("resp codec rejects aggregates nested deeper than max_depth") {
  std::string seventeen;
  for (int i = 0; i < 17; ++i)
    seventeen += "*1\r\n";
  CHECK(decode_error(seventeen) == resp_errc::too_deep);
  std::string sixteen;
  for (int i = 0; i < 16; ++i)
    sixteen += "*1\r\n";
  CHECK(decode_whole(sixteen + ":1\r\n").has_message());
  CHECK(decode_error("*1\r\n*1\r\n*1\r\n", {.max_depth = 2}) == resp_errc::too_deep);
}

TEST_CASE("resp codec rejects more than max_elements values in one message") {
  CHECK(decode_error("*99999999\r\n") == resp_errc::too_many_elements);
  CHECK(decode_error("%600000\r\n") == resp_errc::too_many_elements);
  CHECK(decode_error("*2\r\n*2\r\n", {.max_elements = 3}) == resp_errc::too_many_elements);
  CHECK(decode_whole("*1\r\n*2\r\n:1\r\n:2\r\n", {.max_elements = 3}).has_message());
}

TEST_CASE("resp codec rejects a message longer than max_message_size") {
  CHECK(decode_error("$30\r\n", {.max_message_size = 32}) == resp_errc::message_too_long);
  CHECK(decode_error("*3\r\n$10\r\n0123456789\r\n$10\r\n0123456789\r\n",
                     {.max_message_size = 32}) == resp_errc::message_too_long);
  CHECK(decode_error("+" + std::string(40, 'x'), {.max_message_size = 32}) ==
        resp_errc::message_too_long);
}

TEST_CASE("resp codec rejects garbage with a resp error") {
  CHECK(decode_error("HTTP/1.1 200 OK\r\n") == resp_errc::unknown_type);
  CHECK(decode_error("+OK\n") == resp_errc::missing_crlf);
  CHECK(decode_error("+O\rK\r\n") == resp_errc::missing_crlf);
  CHECK(decode_error("$2\r\nabcd\r\n") == resp_errc::missing_crlf);
  CHECK(decode_error("$x\r\n") == resp_errc::bad_length);
  CHECK(decode_error("$-2\r\n") == resp_errc::bad_length);
  CHECK(decode_error("~-1\r\n") == resp_errc::bad_length);
  CHECK(decode_error("$" + std::string(40, '1')) == resp_errc::bad_length);
  CHECK(decode_error(":12a\r\n") == resp_errc::bad_scalar);
  CHECK(decode_error(":99999999999999999999\r\n") == resp_errc::bad_scalar);
  CHECK(decode_error("#x\r\n") == resp_errc::bad_scalar);
  CHECK(decode_error(",1.5x\r\n") == resp_errc::bad_scalar);
  CHECK(decode_error("(12a\r\n") == resp_errc::bad_scalar);
  CHECK(decode_error("=3\r\ntxt\r\n") == resp_errc::bad_scalar);
  const std::error_code error = decode_error("?\r\n");
  CHECK(error.category().name() == std::string{"resp"});
  CHECK(error.message() == "RESP: unknown type byte");
}

TEST_CASE("resp codec repeats its error until reset and then decodes again") {
  resp_codec codec;
  CHECK(codec.decode("?bad").has_error());
  CHECK(codec.decode("+OK\r\n").has_error());
  codec.reset();
  CHECK(codec.decode("+OK\r\n").has_message());
}

TEST_CASE("resp codec reports a stream that ends inside a value as truncated") {
  resp_codec codec;
  CHECK(codec.decode("*2\r\n:1\r\n").needs_more());
  auto end = codec.decode_eof("*2\r\n:1\r\n");
  REQUIRE(end.has_error());
  CHECK(end.error() == resp_errc::truncated);
  CHECK(resp_codec{}.decode_eof("").needs_more());
}

TEST_CASE("resp codec passes the conformance kit") {
  std::mt19937_64 random{15};
  std::vector<resp_value> values;
  for (int i = 0; i < 150; ++i)
    values.push_back(random_value(random, 0));
  const auto report =
      coronet::testing::check_stream_round_trip([] { return resp_codec{}; }, values);
  INFO(report.summary());
  CHECK(report.ok());
}

TEST_CASE("resp codec gives the same fatal error however a hostile stream is split") {
  const auto make = [] {
    return resp_codec{{.max_bulk_length = 64, .max_depth = 3, .max_elements = 8}};
  };
  const std::string streams[] = {
      "+OK\r\n$65\r\n" + std::string(65, 'x') + "\r\n",
      ":1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
      "*2\r\n:1\r\n:2\r\n*9\r\n",
      "$3\r\nabc\r\n+" + std::string(100, 'y'),
      "*1\r\n$2\r\nab\r\n@garbage",
      "*3\r\n:1\r\n:2\r\n",
  };
  for (const std::string& stream : streams) {
    const auto report = coronet::testing::check_stream_splits(make, stream);
    INFO(stream << "\n" << report.summary());
    CHECK(report.ok());
  }
}

TEST_CASE("resp codec encodes a command as an array of bulk strings") {
  std::string out;
  REQUIRE_FALSE(resp_codec{}.encode(resp_value::command({"SET", "k", "v\r\n"}), out));
  CHECK(out == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n");
}

TEST_CASE("resp codec refuses to encode what it could not decode back and leaves out unchanged") {
  const resp_codec codec{{.max_bulk_length = 8, .max_depth = 2}};
  std::string out = "kept";
  CHECK(codec.encode(resp_value::simple("a\r\nb"), out) == resp_errc::unencodable);
  CHECK(codec.encode(resp_value::bulk(std::string(9, 'x')), out) == resp_errc::bulk_too_long);
  CHECK(codec.encode(typed(resp_type::boolean, {}, 2), out) == resp_errc::unencodable);
  CHECK(codec.encode(typed(resp_type::verbatim_string, "text"), out) == resp_errc::unencodable);
  CHECK(codec.encode(resp_value::aggregate(resp_type::map, {resp_value::number(1)}), out) ==
        resp_errc::unencodable);
  const resp_value deep = resp_value::aggregate(
      resp_type::array,
      {resp_value::aggregate(resp_type::array, {resp_value::aggregate(resp_type::array, {})})});
  CHECK(codec.encode(deep, out) == resp_errc::too_deep);
  // Half of an array was written before its bad element: all of it is taken back.
  CHECK(codec.encode(resp_value::aggregate(resp_type::array,
                                           {resp_value::number(1), resp_value::simple("\n")}),
                     out) == resp_errc::unencodable);
  CHECK(out == "kept");
}

TEST_CASE("describe shows a value's bytes unambiguously and cut after 60 bytes") {
  CHECK(coronet::describe(resp_value::bulk("say \"hi\"\\\r\n")) ==
        R"(bulk_string("say \x22hi\x22\x5c\x0d\x0a"))");
  CHECK(coronet::describe(resp_value::bulk(std::string(61, 'a'))) ==
        "bulk_string(\"" + std::string(60, 'a') + "...(61 bytes)\")");
}
