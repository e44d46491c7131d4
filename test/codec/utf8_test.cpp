// Table-driven tests of strict UTF-8 validation: every fault class, and valid multi-byte text.
#include <catch2/catch.hpp>
#include <coronet/codec/utf8.hpp>
#include <cstdint>
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

namespace {

// An independent reference: decode code points one by one, the textbook way.
bool reference_is_utf8(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto lead = static_cast<unsigned char>(bytes[i]);
    std::size_t length = 0;
    std::uint32_t code_point = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code_point = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code_point = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code_point = lead & 0x07;
    } else {
      return false;
    }
    if (i + length > bytes.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(bytes[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    const std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < smallest[length]) return false;                 // overlong
    if (code_point >= 0xD800 && code_point <= 0xDFFF) return false;  // surrogate
    if (code_point > 0x10FFFF) return false;                         // out of range
    i += length;
  }
  return true;
}

// Both entry points must agree with the reference (is_valid_utf8 is the fast path alone;
// check_utf8 adds the diagnosing pass, which must find a fault whenever the fast path does).
void require_agreement(std::string_view bytes) {
  const bool expected = reference_is_utf8(bytes);
  const coronet::utf8_verdict verdict = check_utf8(bytes);
  if (coronet::is_valid_utf8(bytes) != expected || verdict.valid() != expected ||
      (!expected && verdict.offset >= bytes.size())) {
    std::string hex;
    for (const char c : bytes)
      hex += std::to_string(static_cast<unsigned char>(c)) + " ";
    FAIL("disagreement on bytes: " << hex);
  }
}

}  // namespace

TEST_CASE("check_utf8 and is_valid_utf8 agree with a reference decoder on every short sequence") {
  // Every 1- and 2-byte sequence, every 3-byte sequence led by a non-ASCII byte, and every 4-byte
  // sequence led by F0..F4 with a continuation-range third and fourth byte; each alone, after a
  // 16-byte ASCII run (the block path) and before one.
  const std::string ascii_run(16, 'a');
  auto check_in_contexts = [&](const std::string& bytes) {
    require_agreement(bytes);
    require_agreement(ascii_run + bytes);
    require_agreement(bytes + ascii_run);
  };
  std::string bytes;
  for (unsigned a = 0; a < 256; ++a) {
    check_in_contexts(std::string(1, static_cast<char>(a)));
    for (unsigned b = 0; b < 256; ++b) {
      bytes = {static_cast<char>(a), static_cast<char>(b)};
      require_agreement(bytes);
      if (a < 0x80) continue;
      for (unsigned c = 0; c < 256; ++c) {
        bytes = {static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)};
        require_agreement(bytes);
      }
    }
  }
  for (unsigned a = 0xF0; a <= 0xF5; ++a) {
    for (unsigned b = 0x70; b < 0xC8; ++b) {
      for (unsigned c = 0x7F; c <= 0xC0; c += 0x11) {
        for (unsigned d = 0x7F; d <= 0xC0; d += 0x0D) {
          check_in_contexts({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                             static_cast<char>(d)});
        }
      }
    }
  }
  SUCCEED("all sequences agree");
}

TEST_CASE("utf8_stream_checker agrees with is_valid_utf8 however the text is split") {
  const unsigned char interesting[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0,
                                       0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
  std::size_t checked = 0;
  for (unsigned char a : interesting) {
    for (unsigned char b : interesting) {
      for (unsigned char c : interesting) {
        for (unsigned char d : {0x80, 0xBF, 0x41}) {
          const std::string text{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                                 static_cast<char>(d)};
          const bool valid = coronet::is_valid_utf8(text);
          for (std::size_t split = 0; split <= text.size(); ++split) {
            coronet::utf8_stream_checker checker;
            checker.feed(std::string_view{text}.substr(0, split));
            checker.feed(std::string_view{text}.substr(split));
            if (checker.complete() != valid) {
              FAIL("bytes " << int{a} << ' ' << int{b} << ' ' << int{c} << ' ' << int{d}
                            << " split at " << split);
            }
            ++checked;
          }
        }
      }
    }
  }
  CHECK(checked == 20 * 20 * 20 * 3 * 5);
}

TEST_CASE("utf8_stream_checker fails at the first byte no valid text can continue") {
  coronet::utf8_stream_checker checker;
  CHECK(checker.feed("caf\xc3"));
  CHECK(checker.ok());
  CHECK_FALSE(checker.complete());
  CHECK(checker.feed("\xa9 "));
  CHECK(checker.complete());
  // E0 80 is overlong whatever follows: refused before the third byte arrives.
  CHECK(checker.feed("\xe0"));
  CHECK_FALSE(checker.feed("\x80"));
  CHECK_FALSE(checker.ok());
  CHECK_FALSE(checker.feed("valid ASCII does not undo it"));
  checker.reset();
  CHECK(checker.complete());
}
