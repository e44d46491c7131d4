// datagram_codec: the verdict matches the size limit and check_utf8; messages round-trip.
//
// Input layout: [flags][max] then the datagram.
//   flags: bit 0 set = validate_utf8 off
//   max:   max_datagram_size: 0 = default (65,507), 255 = no limit (SIZE_MAX), else 1..64
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "coronet/codec/datagram_codec.hpp"
#include "coronet/codec/utf8.hpp"
#include "coronet/error.hpp"
#include "coronet/testing/codec_conformance.hpp"
#include "fuzz_support.hpp"

namespace {

using coronet::datagram_codec;
using coronet::datagram_codec_options;
using coronet::errc;

void check_decode(const datagram_codec& codec, std::string_view datagram) {
  const datagram_codec_options& options = codec.options();
  const auto result = codec.decode(datagram);
  FUZZ_CHECK(!result.needs_more());
  FUZZ_CHECK(result.consumed() == datagram.size());

  const coronet::utf8_verdict verdict = coronet::check_utf8(datagram);
  if (datagram.size() > options.max_datagram_size) {
    FUZZ_CHECK(result.has_error() && result.error() == errc::frame_too_long);
    FUZZ_CHECK(result.recoverable());
  } else if (options.validate_utf8 && !verdict.valid()) {
    FUZZ_CHECK(result.has_error() && result.error() == errc::invalid_utf8);
    FUZZ_CHECK(result.reason() == coronet::describe(verdict.fault));
    FUZZ_CHECK(result.recoverable());
  } else {
    FUZZ_CHECK(result.has_message());
    // The message is the datagram itself, not a copy.
    FUZZ_CHECK(result.message().data() == datagram.data());
    FUZZ_CHECK(result.message().size() == datagram.size());
  }
  if (result.has_error()) FUZZ_CHECK(!result.reason().empty());
}

// encode() accepts exactly what decode() accepts, appending the bytes unchanged.
void check_encode(const datagram_codec& codec, std::string_view message) {
  const bool accepted = codec.decode(message).has_message();
  std::string out = "x";
  const std::error_code error = codec.encode(message, out);
  FUZZ_CHECK(!error == accepted);
  FUZZ_CHECK(out == (accepted ? "x" + std::string{message} : "x"));
  if (!accepted) FUZZ_CHECK(error == codec.decode(message).error());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  coronet::fuzz::input_reader input{data, size};
  datagram_codec_options options;
  options.validate_utf8 = (input.take_byte() & 1U) == 0;
  options.max_datagram_size =
      coronet::fuzz::limit_from_byte(input.take_byte(), options.max_datagram_size);
  const std::string_view datagram = input.rest();

  const datagram_codec codec{options};
  check_decode(codec, datagram);
  check_encode(codec, datagram);

  // The kit's checks: a verdict does not depend on earlier datagrams, and messages re-encode to
  // the same bytes. The halves make the neighbours differ in size and validity.
  const std::vector<std::string> datagrams{std::string{datagram},
                                           std::string{datagram.substr(0, datagram.size() / 2)},
                                           std::string{datagram.substr(datagram.size() / 2)}};
  for (const std::string& part : datagrams)
    check_decode(codec, part);
  const auto report =
      coronet::testing::check_datagrams([&options] { return datagram_codec{options}; }, datagrams);
  FUZZ_CHECK(report.ok());
  return 0;
}
