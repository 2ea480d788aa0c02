// UTF-8: well-formed sequences by Unicode's Table 3-7, and the printable form of any bytes.
#include "strata/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace strata {
namespace {

TEST(Utf8Test, SequenceLengthsFollowTable37) {
  char32_t cp = 0;
  EXPECT_EQ(utf8_sequence_length("a", 0, &cp), 1);
  EXPECT_EQ(cp, U'a');
  EXPECT_EQ(utf8_sequence_length("caf\xC3\xA9", 3, &cp), 2);
  EXPECT_EQ(cp, U'\u00E9');
  EXPECT_EQ(utf8_sequence_length("\xE2\x80\x9C", 0, &cp), 3);
  EXPECT_EQ(cp, U'\u201C');
  EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x98\x80", 0, &cp), 4);
  EXPECT_EQ(cp, U'\U0001F600');
  EXPECT_EQ(utf8_sequence_length("\xF4\x8F\xBF\xBF", 0, &cp), 4);  // U+10FFFF, the last
  EXPECT_EQ(cp, U'\U0010FFFF');
  for (const char* bad : {"\x80", "\xBF", "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF0\x80\x80\xAF",
                          "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\xC3", "\xE2\x80", "\xF0\x9F\x98", "\xC3\x28"})
    EXPECT_EQ(utf8_sequence_length(bad, 0), 0) << testing::PrintToString(bad);
  EXPECT_EQ(utf8_sequence_length("", 0), 0);
  EXPECT_EQ(utf8_sequence_length("ab", 2), 0);
}

TEST(Utf8Test, PrintableBytes) {
  EXPECT_EQ(printable_bytes("Holmes"), "Holmes");
  EXPECT_EQ(printable_bytes(" a\nb\tc\r\\"), " a\\nb\\tc\\r\\\\");
  EXPECT_EQ(printable_bytes(" a\nb", /*keep_newlines=*/true), " a\nb");
  EXPECT_EQ(printable_bytes(std::string("\x01\x7f", 2)), "\\x01\\x7F");
  EXPECT_EQ(printable_bytes("caf\xC3\xA9"), "caf\xC3\xA9");        // valid UTF-8 stays
  EXPECT_EQ(printable_bytes("\xE2\x80\x9C"), "\xE2\x80\x9C");      // a curly quote
  EXPECT_EQ(printable_bytes("\xC3"), "\\xC3");                     // truncated sequence
  EXPECT_EQ(printable_bytes("\xE2\x80"), "\\xE2\\x80");
  EXPECT_EQ(printable_bytes("\xC0\xAF"), "\\xC0\\xAF");            // overlong
  EXPECT_EQ(printable_bytes("\xED\xA0\x80"), "\\xED\\xA0\\x80");   // a surrogate
  EXPECT_EQ(printable_bytes("\xC2\x85"), "\\xC2\\x85");            // C1 control
  EXPECT_EQ(printable_bytes(std::string("a\0b", 3)), "a\\x00b");
  // Whatever goes in, what comes out is well-formed UTF-8.
  std::string all;
  for (int b = 0; b < 256; ++b) all += char(b), all += "\xC3";
  const std::string shown = printable_bytes(all);
  for (size_t i = 0; i < shown.size();) {
    const int len = utf8_sequence_length(shown, i);
    ASSERT_GT(len, 0) << "at byte " << i;
    i += size_t(len);
  }
}

}  // namespace
}  // namespace strata
