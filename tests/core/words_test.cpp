// Words: the index (bytes, tokens, leading spaces, BOS), the choice of whole words as
// targets, and the aggregator's sums against an explicit computation from a real sweep.
#include "strata/words.h"

#include <gtest/gtest.h>

#include <map>

#include "strata/error.h"

#include "fixtures.h"

namespace strata {
namespace {

TEST(WordsTest, IndexFromByteTokens) {
  const Tokenizer bytes;  // byte-level: one token per byte
  const std::string text = "ab  cd\nef, g";
  const std::vector<int32_t> tokens = bytes.encode(text);
  const WordIndex idx = index_words(bytes, tokens);
  ASSERT_EQ(idx.words.size(), 4u);
  EXPECT_EQ(idx.word_text(0), "ab");
  EXPECT_EQ(idx.word_text(1), "cd");
  EXPECT_EQ(idx.word_text(2), "ef,");
  EXPECT_EQ(idx.word_text(3), "g");
  EXPECT_EQ(idx.words[1].first_token, 4);
  EXPECT_EQ(idx.words[1].last_token, 5);
  EXPECT_EQ(idx.words[1].tokens(), 2);
  EXPECT_EQ(idx.words[2].last_token, 9);
  EXPECT_EQ(idx.words[2].begin_byte, 7);
  EXPECT_EQ(idx.words[2].end_byte, 10);
  EXPECT_EQ(idx.word_of_token[2], -1);  // whitespace only
  EXPECT_EQ(idx.word_of_token[8], 2);
  EXPECT_TRUE(index_words(bytes, std::vector<int32_t>{}).words.empty());
  EXPECT_TRUE(index_words(bytes, bytes.encode(" \t\n ")).words.empty());
}

TEST(WordsTest, IndexWithMergedTokensAndBos) {
  // With merges, a word's tokens carry its leading space: " Holmes" belongs to "Holmes".
  const std::string corpus = "said Holmes. Holmes said, Holmes sat. \"Holmes!\" said Watson. Holmes, Holmes.\n";
  const Tokenizer tok = Tokenizer::train(corpus + corpus, 300);
  const auto ids = tok.encode(corpus);
  const WordIndex w = index_words(tok, ids);
  EXPECT_EQ(w.text, corpus);
  std::string joined;
  for (size_t i = 0; i < w.words.size(); ++i) joined += (i ? " " : "") + w.word_text(i);
  EXPECT_EQ(joined, "said Holmes. Holmes said, Holmes sat. \"Holmes!\" said Watson. Holmes, Holmes.");
  for (size_t i = 0; i < w.words.size(); ++i) {
    std::string from_tokens;
    for (int64_t t = w.words[i].first_token; t <= w.words[i].last_token; ++t) {
      EXPECT_EQ(w.word_of_token[size_t(t)], int64_t(i));
      from_tokens += tok.token_text(ids[size_t(t)]);
    }
    // The word's tokens spell the word, plus at most leading whitespace.
    const size_t start = from_tokens.find_first_not_of(" \n");
    EXPECT_EQ(from_tokens.substr(start), w.word_text(i));
  }
  // A BOS token is no text: it belongs to no word and shifts no byte.
  if (tok.bos_id() >= 0) {
    std::vector<int32_t> with_bos = {tok.bos_id()};
    with_bos.insert(with_bos.end(), ids.begin(), ids.end());
    const WordIndex b = index_words(tok, with_bos);
    EXPECT_EQ(b.text, corpus);
    EXPECT_EQ(b.word_of_token[0], -1);
    ASSERT_EQ(b.words.size(), w.words.size());
    EXPECT_EQ(b.words[0].first_token, w.words[0].first_token + 1);
    EXPECT_EQ(b.words[0].begin_byte, w.words[0].begin_byte);
  }
}

TEST(WordsTest, ChoosingWords) {
  const Tokenizer bytes;
  const WordIndex idx = index_words(bytes, bytes.encode("ab  cd\nef, g"));
  // Only words starting at t >= L; evenly or by stride.
  const auto chosen = choose_words(idx, 3, 2, 0);
  EXPECT_EQ(chosen, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(word_targets(idx, chosen), (std::vector<int64_t>{4, 5, 7, 8, 9}));
  EXPECT_EQ(choose_words(idx, 3, 2, 2), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(choose_words(idx, 0, 4, 0), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_THROW(choose_words(idx, 3, 4, 0), Error);
  EXPECT_THROW(choose_words(idx, 3, 0, 0), Error);
  EXPECT_THROW(choose_words(idx, 3, 2, 3), Error);
  EXPECT_THROW(choose_words(idx, 3, 1, -1), Error);
  EXPECT_THROW(word_targets(idx, std::vector<int64_t>{4}), Error);
  try {
    choose_words(idx, 3, 4, 0);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("only 3 fit"), std::string::npos) << e.what();
  }
}

// A real sweep of whole words through a tiny byte-level model, summed by hand.
TEST(WordsTest, AggregatorSumsEachWordsTokens) {
  const Tokenizer bytes;
  const std::string text = "The quick brown fox jumps over the lazy dog, and a  cat naps; zebras? no.";
  const std::vector<int32_t> tokens = bytes.encode(text);
  const WordIndex idx = index_words(bytes, tokens);
  const auto chosen = choose_words(idx, 8, 6, 0);
  fixtures::Shape shape;
  shape.vocab = Tokenizer::kByteVocabSize;
  Transformer model(fixtures::random_weights(fixtures::tiny_config(shape), 31));
  SweepOptions o;
  o.budget = 8;
  o.schedules = {"sequential", "hierarchical"};
  o.positions = word_targets(idx, chosen);
  o.batch = 3;  // words cut across batches

  std::vector<SweepRow> rows;
  std::vector<WordSurprisal> words;
  WordAggregator agg(idx, {8, 4}, [&](const WordSurprisal& w) { words.push_back(w); });
  run_sweep(model, tokens, o, [&](const SweepRow& r) {
    rows.push_back(r);
    agg.add(r);
  });
  EXPECT_EQ(agg.pending(), 0u);
  ASSERT_EQ(words.size(), 2 * chosen.size());  // every word under both schedules
  EXPECT_EQ(agg.complete(0), int64_t(chosen.size()));
  EXPECT_EQ(agg.complete(1), int64_t(chosen.size()));
  EXPECT_EQ(agg.complete(2), 0);

  std::map<std::pair<int, int64_t>, std::vector<double>> expected;  // (schedule, word) -> sums
  for (const SweepRow& r : rows) {
    auto& e = expected[{r.schedule, idx.word_of_token[size_t(r.position)]}];
    e.resize(r.schedule == 0 ? 8 : 4, 0.0);
    e[size_t(r.iteration)] += r.surprisal_bits;
  }
  std::vector<std::vector<double>> mean(2);
  for (const WordSurprisal& w : words) {
    EXPECT_EQ(w.bits, (expected[{w.schedule, w.word}])) << "word " << w.word;
    mean[size_t(w.schedule)].resize(w.bits.size(), 0.0);
    for (size_t k = 0; k < w.bits.size(); ++k) mean[size_t(w.schedule)][k] += w.bits[k] / double(chosen.size());
  }
  for (int s = 0; s < 2; ++s) {
    ASSERT_EQ(agg.surprisal()[size_t(s)].size(), s == 0 ? 8 : 4);
    for (size_t k = 0; k < mean[size_t(s)].size(); ++k)
      EXPECT_NEAR(agg.surprisal()[size_t(s)].mean(int(k)), mean[size_t(s)][k], 1e-9);
  }
  // Within a schedule, words complete in text order (the sweep's target order).
  std::vector<int64_t> order;
  for (const WordSurprisal& w : words)
    if (w.schedule == 0) order.push_back(w.word);
  EXPECT_EQ(order, chosen);
}

TEST(WordsTest, AggregatorIgnoresSpaceAndRefusesStrayRows) {
  const Tokenizer bytes;
  const WordIndex idx = index_words(bytes, bytes.encode("ab cd"));
  int handed = 0;
  WordAggregator agg(idx, {2}, [&](const WordSurprisal&) { ++handed; });
  agg.add({2, ' ', 0, 0, 1, 5.0, 1, 1.0});  // the space: no word
  agg.add({2, ' ', 0, 1, 2, 5.0, 3, 2.0});
  EXPECT_EQ(handed, 0);
  EXPECT_EQ(agg.pending(), 0u);
  agg.add({0, 'a', 0, 0, 1, 1.0, 1, 1.0});
  agg.add({1, 'b', 0, 0, 1, 2.0, 1, 1.0});
  agg.add({0, 'a', 0, 1, 2, 0.5, 3, 2.0});
  EXPECT_EQ(handed, 0);
  EXPECT_EQ(agg.pending(), 1u);
  agg.add({1, 'b', 0, 1, 2, 0.25, 3, 2.0});
  EXPECT_EQ(handed, 1);
  EXPECT_EQ(agg.surprisal()[0].mean(0), 3.0);
  EXPECT_EQ(agg.surprisal()[0].mean(1), 0.75);
  EXPECT_THROW(agg.add({0, 'a', 1, 0, 1, 1.0, 1, 1.0}), Error);   // no schedule 1
  EXPECT_THROW(agg.add({0, 'a', 0, 2, 1, 1.0, 1, 1.0}), Error);   // no iteration 2
  EXPECT_THROW(agg.add({9, 'a', 0, 0, 1, 1.0, 1, 1.0}), Error);   // beyond the text
  EXPECT_THROW(WordAggregator(idx, {0}), Error);
}

}  // namespace
}  // namespace strata
