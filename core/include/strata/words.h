// Words (`strata analyze --by word`): which bytes of a text form a word, which tokens belong
// to it, how whole words are chosen as a sweep's targets, and a word's surprisal as the sum
// of its tokens' surprisals, aggregated from a sweep's rows as they stream.
//
//   WordIndex index = index_words(tokenizer, tokens);
//   std::vector<int64_t> chosen = choose_words(index, budget, 100, 0);
//   options.positions = word_targets(index, chosen);
//   WordAggregator words(index, iterations, [&](const WordSurprisal& w) { /* a words.csv row */ });
//   run_sweep(model, tokens, options, [&](const SweepRow& r) { words.add(r); });
//
// The rule (ours, stated in summary.json): a word is a maximal run of non-whitespace bytes
// of the text (whitespace: space, \t, \n, \v, \f, \r). A token belongs to the word holding
// its first non-whitespace byte; a token of whitespace only belongs to no word. A word's
// tokens are then contiguous, usually its own bytes plus the space that leads it
// (" Holmes"), and its surprisal under iteration k is the sum of s_k over those tokens.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "strata/analysis.h"
#include "strata/sweep.h"
#include "strata/tokenizer.h"

namespace strata {

// The rule above in one sentence, for the record in summary.json.
extern const char* const kWordPolicy;

struct Word {
  int64_t first_token = 0, last_token = 0;  // inclusive range of token positions
  int64_t begin_byte = 0, end_byte = 0;     // the word's bytes in the text, [begin, end)
  int64_t tokens() const { return last_token - first_token + 1; }
};

struct WordIndex {
  std::vector<Word> words;             // in text order
  std::vector<int64_t> word_of_token;  // per token position: word index, or -1
  std::string text;                    // the decoded text, for word_text
  std::string word_text(size_t w) const {
    return text.substr(size_t(words[w].begin_byte), size_t(words[w].end_byte - words[w].begin_byte));
  }
};

// The words of a token stream (its decoded bytes; a BOS token is no text).
WordIndex index_words(const Tokenizer& tokenizer, std::span<const int32_t> tokens);

// Chooses `count` words whose first token is at t >= budget (spread evenly, or every
// `stride`-th such word when stride > 0) and returns them (indices into index.words);
// their tokens, in order, are the sweep's targets (word_targets). Throws strata::Error
// when fewer words qualify.
std::vector<int64_t> choose_words(const WordIndex& index, int budget, int64_t count, int64_t stride);
std::vector<int64_t> word_targets(const WordIndex& index, std::span<const int64_t> words);

// One word under one schedule: its surprisal per iteration, the sum over its tokens (bits).
struct WordSurprisal {
  int64_t word = 0;  // index into WordIndex::words
  int schedule = 0;  // index into the sweep's schedules
  std::vector<double> bits;  // per iteration
};

// Sums a sweep's rows into words. A word is complete, and handed to `on_word`, as soon as
// every row of its tokens under one schedule has arrived, so memory holds only the words
// of the batch in flight. Rows of tokens outside any word are ignored. The mean over
// complete words, per schedule and iteration, streams in a SeriesAccumulator (words enter
// in the order they complete, which the sweep fixes: deterministic).
class WordAggregator {
 public:
  // iterations[s]: the number of iterations of schedule s.
  WordAggregator(const WordIndex& index, std::vector<int> iterations,
                 std::function<void(const WordSurprisal&)> on_word = {});

  void add(const SweepRow& row);  // throws strata::Error on a schedule, iteration or position out of range

  const std::vector<SeriesAccumulator>& surprisal() const { return mean_; }  // per schedule, by iteration
  int64_t complete(int schedule) const;  // words handed out for that schedule
  size_t pending() const { return pending_.size(); }  // (schedule, word) pairs still waiting for rows

 private:
  struct Pending {
    std::vector<double> sum;
    int64_t rows = 0;
  };
  const WordIndex& index_;
  std::vector<int> iterations_;
  std::function<void(const WordSurprisal&)> on_word_;
  std::map<std::pair<int, int64_t>, Pending> pending_;
  std::vector<SeriesAccumulator> mean_;
};

}  // namespace strata
