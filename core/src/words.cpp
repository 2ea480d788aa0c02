// Words of a text, their choice as targets, and their surprisal summed from a sweep's rows.
// See words.h.
#include "strata/words.h"

#include "strata/error.h"

namespace strata {

const char* const kWordPolicy =
    "A word is a maximal run of non-whitespace bytes; a token belongs to the word holding its first "
    "non-whitespace byte. Whole words are chosen (their first token at t >= L) and all their tokens are "
    "targets; a word's surprisal under iteration k is the sum of s_k over its tokens.";

namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
}  // namespace

// --- The index -------------------------------------------------------------------------

WordIndex index_words(const Tokenizer& tokenizer, std::span<const int32_t> tokens) {
  WordIndex idx;
  std::vector<int64_t> offset(tokens.size() + 1, 0);
  for (size_t t = 0; t < tokens.size(); ++t) {
    if (tokens[t] != tokenizer.bos_id()) idx.text += tokenizer.token_text(tokens[t]);  // BOS is no text
    offset[t + 1] = int64_t(idx.text.size());
  }
  idx.word_of_token.assign(tokens.size(), -1);
  const std::string& s = idx.text;
  int64_t current_end = -1;  // end of the last word opened
  for (size_t t = 0; t < tokens.size(); ++t) {
    int64_t p = offset[t];
    while (p < offset[t + 1] && is_space(s[size_t(p)])) ++p;
    if (p == offset[t + 1]) continue;  // whitespace only
    if (p < current_end) {             // inside the word opened by an earlier token
      idx.words.back().last_token = int64_t(t);
    } else {
      int64_t begin = p, end = p;
      while (begin > 0 && !is_space(s[size_t(begin - 1)])) --begin;
      while (end < int64_t(s.size()) && !is_space(s[size_t(end)])) ++end;
      idx.words.push_back({int64_t(t), int64_t(t), begin, end});
      current_end = end;
    }
    idx.word_of_token[t] = int64_t(idx.words.size()) - 1;
  }
  return idx;
}

// --- Choosing words as targets ---------------------------------------------------------

std::vector<int64_t> choose_words(const WordIndex& index, int budget, int64_t count, int64_t stride) {
  if (count < 1) throw Error("words: the number of target words must be at least 1");
  if (stride < 0) throw Error("words: the stride must not be negative");
  std::vector<int64_t> eligible;
  for (size_t w = 0; w < index.words.size(); ++w)
    if (index.words[w].first_token >= budget) eligible.push_back(int64_t(w));
  std::vector<int64_t> chosen;
  if (stride > 0) {
    for (size_t i = 0; i < eligible.size() && int64_t(chosen.size()) < count; i += size_t(stride)) chosen.push_back(eligible[i]);
  } else if (count <= int64_t(eligible.size())) {
    for (int64_t i = 0; i < count; ++i) chosen.push_back(eligible[size_t(i * int64_t(eligible.size()) / count)]);
  }
  if (int64_t(chosen.size()) < count)
    throw Error("words: " + std::to_string(count) + " target words requested but only " +
                std::to_string(stride > 0 ? int64_t(chosen.size()) : int64_t(eligible.size())) +
                " fit (words starting after the first " + std::to_string(budget) + " tokens" +
                (stride > 0 ? ", every " + std::to_string(stride) + "-th" : "") + ")");
  return chosen;
}

std::vector<int64_t> word_targets(const WordIndex& index, std::span<const int64_t> words) {
  std::vector<int64_t> t;
  for (int64_t w : words) {
    if (w < 0 || w >= int64_t(index.words.size())) throw Error("words: word index out of range");
    for (int64_t p = index.words[size_t(w)].first_token; p <= index.words[size_t(w)].last_token; ++p) t.push_back(p);
  }
  return t;
}

// --- Aggregation -----------------------------------------------------------------------

WordAggregator::WordAggregator(const WordIndex& index, std::vector<int> iterations,
                               std::function<void(const WordSurprisal&)> on_word)
    : index_(index), iterations_(std::move(iterations)), on_word_(std::move(on_word)) {
  for (int k : iterations_) {
    if (k < 1) throw Error("words: a schedule with " + std::to_string(k) + " iterations");
    mean_.emplace_back(k);
  }
}

void WordAggregator::add(const SweepRow& r) {
  if (r.schedule < 0 || r.schedule >= int(iterations_.size()))
    throw Error("words: a row of schedule " + std::to_string(r.schedule) + " of " + std::to_string(iterations_.size()));
  const int K = iterations_[size_t(r.schedule)];
  if (r.iteration < 0 || r.iteration >= K)
    throw Error("words: a row of iteration " + std::to_string(r.iteration) + " of " + std::to_string(K));
  if (r.position < 0 || r.position >= int64_t(index_.word_of_token.size()))
    throw Error("words: a row at position " + std::to_string(r.position) + ", outside the indexed text");
  const int64_t w = index_.word_of_token[size_t(r.position)];
  if (w < 0) return;
  Pending& p = pending_[{r.schedule, w}];
  if (p.sum.empty()) p.sum.assign(size_t(K), 0.0);
  p.sum[size_t(r.iteration)] += r.surprisal_bits;
  if (++p.rows < int64_t(K) * index_.words[size_t(w)].tokens()) return;
  WordSurprisal done{w, r.schedule, std::move(p.sum)};
  pending_.erase({r.schedule, w});
  for (int k = 0; k < K; ++k) mean_[size_t(r.schedule)].add(k, done.bits[size_t(k)]);
  if (on_word_) on_word_(done);
}

int64_t WordAggregator::complete(int schedule) const {
  return schedule >= 0 && schedule < int(mean_.size()) ? mean_[size_t(schedule)].count(0) : 0;
}

}  // namespace strata
