// tokens.csv and words.csv rows, and CSV quoting. See csv.h.
#include "strata/csv.h"

#include <cstdio>
#include <ostream>

#include "strata/error.h"
#include "strata/utf8.h"

namespace strata {

std::string csv_quote(std::string_view field) {
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string CsvBos::field(int context_len) const {
  std::string out = ",";
  if (id >= 0 && (before_every_context || context_len == 0)) out += std::to_string(id);
  return out;
}

// --- tokens.csv ------------------------------------------------------------------------

TokensCsv::TokensCsv(std::ostream& out, const Tokenizer* tokenizer, std::vector<std::string> labels, CsvBos bos)
    : out_(out), tokenizer_(tokenizer), labels_(std::move(labels)), bos_(bos),
      shown_(tokenizer ? size_t(tokenizer->vocab_size()) : 0) {
  out_ << kHeader;
}

void TokensCsv::add(const SweepRow& r) {
  if (r.token < 0 || (tokenizer_ && r.token >= int32_t(shown_.size())))
    throw Error("tokens.csv: token id " + std::to_string(r.token) + " outside the vocabulary");
  if (r.schedule < 0 || r.schedule >= int(labels_.size()))
    throw Error("tokens.csv: a row of schedule " + std::to_string(r.schedule) + " of " + std::to_string(labels_.size()));
  static const std::string kNoText;
  const std::string* t = &kNoText;
  if (tokenizer_) {
    std::string& shown = shown_[size_t(r.token)];
    if (shown.empty()) shown = csv_quote(printable_bytes(tokenizer_->token_text(r.token)));
    t = &shown;
  }
  char buf[128];
  std::snprintf(buf, sizeof buf, ",%d,%d,%.6f,%lld,%.0f", r.iteration, r.context_len, r.surprisal_bits,
                (long long)r.token_forwards, r.flops);
  out_ << r.position << ',' << r.token << ',' << *t << ',' << labels_[size_t(r.schedule)] << buf
       << bos_.field(r.context_len) << '\n';
}

// --- words.csv -------------------------------------------------------------------------

WordsCsv::WordsCsv(std::ostream& out, const WordIndex& index, std::vector<std::string> labels,
                   std::vector<std::vector<int>> context_len, CsvBos bos)
    : out_(out), index_(index), labels_(std::move(labels)), context_len_(std::move(context_len)), bos_(bos) {
  if (labels_.size() != context_len_.size())
    throw Error("words.csv: " + std::to_string(labels_.size()) + " labels for " + std::to_string(context_len_.size()) +
                " schedules");
  out_ << kHeader;
}

void WordsCsv::add(const WordSurprisal& w) {
  if (w.schedule < 0 || w.schedule >= int(labels_.size()))
    throw Error("words.csv: a word of schedule " + std::to_string(w.schedule) + " of " + std::to_string(labels_.size()));
  if (w.word < 0 || w.word >= int64_t(index_.words.size())) throw Error("words.csv: word index out of range");
  const std::vector<int>& lens = context_len_[size_t(w.schedule)];
  if (w.bits.size() != lens.size())
    throw Error("words.csv: " + std::to_string(w.bits.size()) + " values for " + std::to_string(lens.size()) + " iterations");
  const Word& word = index_.words[size_t(w.word)];
  const std::string text = csv_quote(printable_bytes(index_.word_text(size_t(w.word))));
  char buf[160];
  for (size_t k = 0; k < lens.size(); ++k) {
    out_ << w.word << ',' << word.first_token << ',' << word.last_token << ',' << word.tokens() << ',' << text << ','
         << labels_[size_t(w.schedule)];
    std::snprintf(buf, sizeof buf, ",%zu,%d,%.6f", k, lens[k], w.bits[k]);
    out_ << buf << bos_.field(lens[k]) << '\n';
  }
}

}  // namespace strata
