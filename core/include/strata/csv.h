// The long-format tables of `strata analyze`: tokens.csv (one row per target × schedule ×
// iteration) and words.csv (one row per target word × schedule × iteration), their headers,
// their row formatting, and RFC 4180 quoting. Token and word text goes through
// printable_bytes (utf8.h), so any byte string becomes one valid UTF-8 field.
//
//   TokensCsv tokens(out, tokenizer, labels);        // writes the header
//   run_sweep(model, ids, options, [&](const SweepRow& r) { tokens.add(r); });
#pragma once
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "strata/sweep.h"
#include "strata/tokenizer.h"
#include "strata/words.h"

namespace strata {

// A CSV field, always quoted, with quotes doubled (RFC 4180).
std::string csv_quote(std::string_view field);

// The BOS policy in both tables' last column, bos_id: the id of the BOS fed before a row's
// context (with BOS before every context, every row; otherwise only the empty-context
// iteration's, context_len 0, which is the BOS alone), empty when none was.
struct CsvBos {
  int32_t id = -1;
  bool before_every_context = false;
  std::string field(int context_len) const;  // ",<id>" or ","
};

// tokens.csv: position, token_id, token, schedule, iteration, context_len, surprisal_bits
// (6 decimals), token_forwards and flops (cumulative over the target's iterations so far),
// bos_id.
class TokensCsv {
 public:
  static constexpr const char* kHeader =
      "position,token_id,token,schedule,iteration,context_len,surprisal_bits,token_forwards,flops,bos_id\n";
  // labels[s]: the schedule column of schedule s (schedule_labels in report.h).
  // tokenizer: gives the token column; null (ids scored without one) leaves it empty.
  TokensCsv(std::ostream& out, const Tokenizer* tokenizer, std::vector<std::string> labels, CsvBos bos = {});
  void add(const SweepRow& row);

 private:
  std::ostream& out_;
  const Tokenizer* tokenizer_;
  std::vector<std::string> labels_;
  CsvBos bos_;
  std::vector<std::string> shown_;  // printable, quoted token text by id, filled on first use (with a tokenizer)
};

// words.csv: word_index, first_position, last_position, tokens, word, schedule, iteration,
// context_len, surprisal_bits (the sum over the word's tokens, 6 decimals), bos_id.
class WordsCsv {
 public:
  static constexpr const char* kHeader =
      "word_index,first_position,last_position,tokens,word,schedule,iteration,context_len,surprisal_bits,bos_id\n";
  // context_len[s][k]: |C_k| of schedule s.
  WordsCsv(std::ostream& out, const WordIndex& index, std::vector<std::string> labels,
           std::vector<std::vector<int>> context_len, CsvBos bos = {});
  void add(const WordSurprisal& word);  // one row per iteration

 private:
  std::ostream& out_;
  const WordIndex& index_;
  std::vector<std::string> labels_;
  std::vector<std::vector<int>> context_len_;
  CsvBos bos_;
};

}  // namespace strata
