// The CSV tables: quoting, and tokens.csv and words.csv rows byte for byte (the formats
// users parse: fixed columns, 6 decimals of bits, printable token text).
#include "strata/csv.h"

#include <gtest/gtest.h>

#include <sstream>

#include "strata/error.h"

namespace strata {
namespace {

TEST(CsvTest, Quoting) {
  EXPECT_EQ(csv_quote("plain"), "\"plain\"");
  EXPECT_EQ(csv_quote("say \"hi\", ok"), "\"say \"\"hi\"\", ok\"");
  EXPECT_EQ(csv_quote(""), "\"\"");
}

TEST(CsvTest, TokensRows) {
  const Tokenizer bytes;
  std::ostringstream out;
  TokensCsv csv(out, &bytes, {"sequential", "custom#2"});
  csv.add({.position = 12, .token = 'H', .schedule = 0, .iteration = 3, .context_len = 4, .surprisal_bits = 2.5,
           .token_forwards = 10, .flops = 12345.6});
  csv.add({.position = 13, .token = '"', .schedule = 1, .iteration = 0, .context_len = 0, .surprisal_bits = 1.0 / 3,
           .token_forwards = 1, .flops = 2e12});
  csv.add({.position = 14, .token = '\n', .schedule = 1, .iteration = 1, .context_len = 1, .surprisal_bits = 0,
           .token_forwards = 2, .flops = 0});
  csv.add({.position = 15, .token = 0xC3, .schedule = 0, .iteration = 0, .context_len = 1, .surprisal_bits = 7,
           .token_forwards = 1, .flops = 1});  // half a character
  EXPECT_EQ(out.str(),
            "position,token_id,token,schedule,iteration,context_len,surprisal_bits,token_forwards,flops,bos_id\n"
            "12,72,\"H\",sequential,3,4,2.500000,10,12346,\n"
            "13,34,\"\"\"\",custom#2,0,0,0.333333,1,2000000000000,\n"
            "14,10,\"\\n\",custom#2,1,1,0.000000,2,0,\n"
            "15,195,\"\\xC3\",sequential,0,1,7.000000,1,1,\n");
  EXPECT_THROW(csv.add({.position = 1, .token = 256, .schedule = 0}), Error);
  EXPECT_THROW(csv.add({.position = 1, .token = 1, .schedule = 2}), Error);
}

TEST(CsvTest, WordsRows) {
  const Tokenizer bytes;
  const WordIndex idx = index_words(bytes, bytes.encode("a \"b\" c"));
  std::ostringstream out;
  WordsCsv csv(out, idx, {"hierarchical"}, {{1, 2}});
  csv.add({.word = 1, .schedule = 0, .bits = {3.25, 1.0 / 7}});
  EXPECT_EQ(out.str(),
            "word_index,first_position,last_position,tokens,word,schedule,iteration,context_len,surprisal_bits,bos_id\n"
            "1,2,4,3,\"\"\"b\"\"\",hierarchical,0,1,3.250000,\n"
            "1,2,4,3,\"\"\"b\"\"\",hierarchical,1,2,0.142857,\n");
  EXPECT_THROW(csv.add({.word = 1, .schedule = 0, .bits = {1.0}}), Error);  // K values expected
  EXPECT_THROW(csv.add({.word = 5, .schedule = 0, .bits = {1.0, 2.0}}), Error);
  EXPECT_THROW(csv.add({.word = 0, .schedule = 1, .bits = {1.0, 2.0}}), Error);
  EXPECT_THROW(WordsCsv(out, idx, {"a", "b"}, {{1}}), Error);
}

// The BOS policy's column: with BOS before every context every row names it; without, only
// the empty-context iteration's rows (context_len 0, the BOS alone); without a BOS, none.
TEST(CsvTest, BosColumnNamesTheBosEachContextWasFedAfter) {
  const Tokenizer bytes;
  const WordIndex idx = index_words(bytes, bytes.encode("ab"));
  struct Case { CsvBos bos; std::string empty_row, one_row; };
  for (const Case& c : {Case{{.id = 255, .before_every_context = true}, ",255\n", ",255\n"},
                        Case{{.id = 255, .before_every_context = false}, ",255\n", ",\n"},
                        Case{{.id = -1, .before_every_context = false}, ",\n", ",\n"}}) {
    std::ostringstream tokens_out, words_out;
    TokensCsv tokens(tokens_out, &bytes, {"sequential"}, c.bos);
    tokens.add({.position = 5, .token = 'a', .schedule = 0, .iteration = 0, .context_len = 0});
    tokens.add({.position = 5, .token = 'a', .schedule = 0, .iteration = 1, .context_len = 1});
    WordsCsv words(words_out, idx, {"sequential"}, {{0, 1}}, c.bos);
    words.add({.word = 0, .schedule = 0, .bits = {1.0, 2.0}});
    for (const std::string& text : {tokens_out.str(), words_out.str()}) {
      const size_t second_row = text.find('\n', text.find('\n') + 1) + 1;
      EXPECT_TRUE(text.substr(0, second_row).ends_with(c.empty_row)) << text;
      EXPECT_TRUE(text.ends_with(c.one_row)) << text;
    }
  }
}

}  // namespace
}  // namespace strata
