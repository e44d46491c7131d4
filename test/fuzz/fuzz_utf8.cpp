// check_utf8 vs a reference decoder: same validity, fault class and offset of the first fault.
//
// The input is checked as is, and again behind a valid prefix built from it (ASCII padding of
// 0..31 bytes, then code points taken from the input), which moves faults across the 16-byte
// ASCII fast path and behind long valid runs of every sequence length.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "coronet/codec/utf8.hpp"
#include "fuzz_support.hpp"

namespace {

using coronet::utf8_verdict;
using coronet::fuzz::reference_check_utf8;

bool same_verdict(const utf8_verdict& a, const utf8_verdict& b) {
  return a.fault == b.fault && a.offset == b.offset;
}

void check_against_reference(std::string_view bytes) {
  const utf8_verdict actual = coronet::check_utf8(bytes);
  const utf8_verdict expected = reference_check_utf8(bytes);
  FUZZ_CHECK(same_verdict(actual, expected));
  FUZZ_CHECK(coronet::is_valid_utf8(bytes) == expected.valid());
  FUZZ_CHECK(static_cast<bool>(actual) == actual.valid());
  FUZZ_CHECK(!coronet::describe(actual.fault).empty());
  if (!actual.valid()) {
    FUZZ_CHECK(actual.offset < bytes.size());
    // Everything before the offending sequence is valid on its own.
    FUZZ_CHECK(coronet::check_utf8(bytes.substr(0, actual.offset)).valid());
  }
}

// Valid UTF-8 made from the input: every 3 bytes pick a scalar value (surrogates are moved up
// out of their range), preceded by 0..31 ASCII bytes.
std::string valid_text_from(std::string_view bytes) {
  std::string text(bytes.empty() ? 0 : static_cast<unsigned char>(bytes[0]) % 32U, 'a');
  for (std::size_t i = 0; i + 3 <= bytes.size(); i += 3) {
    const auto value = (static_cast<unsigned char>(bytes[i]) << 16U) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8U) |
                       static_cast<unsigned char>(bytes[i + 2]);
    char32_t code_point = static_cast<char32_t>(value % 0x110000U);
    if (code_point >= 0xD800 && code_point <= 0xDFFF) code_point += 0x800;
    coronet::fuzz::reference_encode_utf8(code_point, text);
  }
  return text;
}

}  // namespace

// utf8_stream_checker fed in pieces (every three bytes, or two halves) agrees with the
// reference on the whole input, and never fails on input the reference finds valid.
void check_stream_checker(std::string_view input) {
  const bool valid = reference_check_utf8(input).valid();
  coronet::utf8_stream_checker thirds;
  for (std::size_t at = 0; at < input.size(); at += 3)
    thirds.feed(input.substr(at, 3));
  FUZZ_CHECK(thirds.complete() == valid);
  coronet::utf8_stream_checker halves;
  halves.feed(input.substr(0, input.size() / 2));
  halves.feed(input.substr(input.size() / 2));
  FUZZ_CHECK(halves.complete() == valid);
  FUZZ_CHECK(thirds.ok() == halves.ok());
  if (valid) FUZZ_CHECK(thirds.ok());
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input{reinterpret_cast<const char*>(data), size};
  check_against_reference(input);

  const std::string valid = valid_text_from(input);
  FUZZ_CHECK(reference_check_utf8(valid).valid());
  FUZZ_CHECK(coronet::check_utf8(valid).valid());

  // A fault behind a valid prefix is the input's own fault, shifted by the prefix.
  const std::string combined = valid + std::string{input};
  const utf8_verdict expected = reference_check_utf8(input);
  const utf8_verdict actual = coronet::check_utf8(combined);
  FUZZ_CHECK(actual.fault == expected.fault);
  if (!expected.valid()) FUZZ_CHECK(actual.offset == valid.size() + expected.offset);
  check_against_reference(combined);
  check_stream_checker(input);
  return 0;
}
