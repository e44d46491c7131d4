// Table-driven tests of strict UTF-8 validation: every fault class, and valid multi-byte text.
#include <catch2/catch.hpp>
#include <coronet/codec/utf8.hpp>
#include <string>

using coronet::check_utf8;
using coronet::utf8_fault;

namespace {

struct utf8_case {
  const char* name;
  std::string bytes;
  utf8_fault fault;
  std::size_t offset;
};

}  // namespace

TEST_CASE("check_utf8 accepts ASCII, Chinese, emoji and the boundary code points") {
  const std::string valid[] = {
      "",
      "plain ASCII, with punctuation!",
      "你好，世界",                                         // 3-byte sequences
      "emoji 😀🚀 and more",                                  // 4-byte sequences
      "\xC2\x80",                                           // U+0080, smallest 2-byte
      "\xDF\xBF",                                           // U+07FF, largest 2-byte
      "\xE0\xA0\x80",                                       // U+0800, smallest 3-byte
      "\xED\x9F\xBF",                                       // U+D7FF, just below the surrogates
      "\xEE\x80\x80",                                       // U+E000, just above the surrogates
      "\xEF\xBF\xBF",                                       // U+FFFF
      "\xF0\x90\x80\x80",                                   // U+10000, smallest 4-byte
      "\xF4\x8F\xBF\xBF",                                   // U+10FFFF, largest code point
      std::string(100, 'a') + "é" + std::string(100, 'b'),  // non-ASCII after the fast path
  };
  for (const std::string& text : valid) {
    INFO("text: " << text);
    CHECK(check_utf8(text).valid());
  }
}

TEST_CASE("check_utf8 rejects each invalid class and reports where the bad sequence starts") {
  const utf8_case cases[] = {
      {"C0 overlong lead", "a\xC0\xAF", utf8_fault::invalid_byte, 1},
      {"C1 overlong lead", "\xC1\xBF", utf8_fault::invalid_byte, 0},
      {"F5 lead", "ok\xF5\x80\x80\x80", utf8_fault::invalid_byte, 2},
      {"FF byte", "\xFF", utf8_fault::invalid_byte, 0},
      {"stray continuation", "ab\x80", utf8_fault::unexpected_continuation, 2},
      {"continuation after a complete sequence", "\xC3\xA9\xA9",
       utf8_fault::unexpected_continuation, 2},
      {"2-byte cut by the end", "x\xC3", utf8_fault::truncated_sequence, 1},
      {"3-byte cut by the end", "\xE4\xBD", utf8_fault::truncated_sequence, 0},
      {"4-byte cut by the end", "\xF0\x9F\x98", utf8_fault::truncated_sequence, 0},
      {"3-byte cut by ASCII",
       "\xE4\xBD"
       "a",
       utf8_fault::truncated_sequence, 0},
      {"overlong 3-byte (U+007F)", "\xE0\x81\xBF", utf8_fault::overlong_encoding, 0},
      {"overlong 3-byte (U+07FF)", "\xE0\x9F\xBF", utf8_fault::overlong_encoding, 0},
      {"overlong 4-byte (U+FFFF)", "\xF0\x8F\xBF\xBF", utf8_fault::overlong_encoding, 0},
      {"surrogate U+D800", "\xED\xA0\x80", utf8_fault::surrogate, 0},
      {"surrogate U+DFFF", "z\xED\xBF\xBF", utf8_fault::surrogate, 1},
      {"above U+10FFFF", "\xF4\x90\x80\x80", utf8_fault::out_of_range, 0},
      {"fault after a long ASCII run", std::string(37, 'a') + "\xED\xA0\x80", utf8_fault::surrogate,
       37},
  };
  for (const utf8_case& c : cases) {
    INFO(c.name);
    const coronet::utf8_verdict verdict = check_utf8(c.bytes);
    CHECK_FALSE(verdict.valid());
    CHECK(verdict.fault == c.fault);
    CHECK(verdict.offset == c.offset);
    CHECK_FALSE(coronet::describe(verdict.fault).empty());
  }
}
