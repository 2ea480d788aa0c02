// Pre-tokenizers: split a normalized stretch of text into pieces; BPE merges never cross a
// piece boundary. Split (String or Regex pattern, all five delimiter behaviours, invert),
// ByteLevel (GPT-2's regex, optional prefix space), Metaspace, Digits, Punctuation,
// Whitespace, WhitespaceSplit and Sequence, with the Hugging Face tokenizers' semantics.
//
// ByteLevel's byte-to-character mapping is left to the BPE model (it reads the raw bytes
// of each piece through the same table), so ByteLevel must be the last pre-tokenizer.
#pragma once
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/json_fields.h"

namespace strata::tok {

struct Piece {
  std::string_view text;
  bool at_start;  // begins at the start of the whole input (Metaspace's prepend_scheme "first")
};

// New strings a step makes (a prefix space, ▁ for spaces) live here while pieces view them.
using Arena = std::deque<std::string>;

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(std::vector<Piece>& pieces, Arena& arena) const = 0;
};

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Splits piece at the [begin, end) matches (sorted, disjoint) as the behaviour says;
// invert swaps the roles of matches and the text between them. Empty parts are dropped.
void split_piece(const Piece& piece, const std::vector<std::pair<size_t, size_t>>& matches, SplitBehavior behavior,
                 bool invert, std::vector<Piece>& out);

struct PreTokenizerInfo {
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  bool byte_level = false;  // ends with ByteLevel: the model reads pieces as bytes
};
PreTokenizerInfo make_pre_tokenizer(const Json& j, Where where);

// GPT-2's pattern, used by the ByteLevel pre-tokenizer (with use_regex) and strata's trainer.
inline constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

}  // namespace strata::tok
