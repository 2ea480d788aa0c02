// Added tokens (special or not) are found in the text before the normal pipeline runs, as
// the Hugging Face tokenizers do: leftmost-longest matching over all their contents (a
// byte trie), tokens with "normalized": false on the raw text and the others on each
// normalized stretch, with the single_word, lstrip and rstrip flags.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/json_fields.h"

namespace strata::tok {

struct AddedToken {
  int32_t id;
  std::string content;
  bool single_word = false, lstrip = false, rstrip = false, normalized = false, special = false;
};

// A stretch of text: either plain text to run through the pipeline (id < 0) or a match.
struct Segment {
  std::string_view text;
  int32_t id;  // the added token's id, or -1 for plain text
};

class AddedVocabulary {
 public:
  void add(AddedToken token);
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  const AddedToken* by_id(int32_t id) const;
  const AddedToken* by_content(std::string_view content) const;
  bool has_normalized() const { return !normalized_trie_.empty(); }

  // Splits text into segments: raw == true matches the tokens with normalized == false,
  // raw == false the others. Empty plain segments are left out.
  void split(std::string_view text, bool raw, std::vector<Segment>& out) const;

 private:
  struct Trie {
    // node → (byte → child); token index of the content ending at a node, -1 if none
    std::vector<std::unordered_map<unsigned char, int32_t>> children{1};
    std::vector<int32_t> ends{-1};
    std::array<bool, 256> first{};
    bool empty() const { return children.size() == 1; }
    void insert(std::string_view s, int32_t token);
  };
  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> index_by_id_;
  std::unordered_map<std::string, size_t> index_by_content_;
  Trie raw_trie_, normalized_trie_;
};

}  // namespace strata::tok
