// Normalizers: the first step for each stretch of text between added tokens (NFC, Replace,
// Prepend, ...), as the Hugging Face tokenizers apply them. Each maps bytes to bytes.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/json_fields.h"
#include "tokenizer/regex.h"
#include "tokenizer/unicode.h"

namespace strata::tok {

// Replaces every occurrence of a literal or regex (left to right, non-overlapping) with a
// literal content: the Replace normalizer and the Replace decoder.
class Replacer {
 public:
  Replacer(const PatternSpec& pattern, std::string content);
  std::string apply(std::string_view text) const;

 private:
  std::string literal_, content_;
  std::shared_ptr<const Regex> regex_;
};
Replacer make_replacer(const Json& j, const Where& w);  // reads "pattern" and "content"

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual std::string normalize(std::string_view text) const = 0;
};

// Sequence, Prepend, Replace (String or Regex pattern), NFC/NFD/NFKC/NFKD, Lowercase,
// Strip, StripAccents. Throws strata::Error naming the component for anything else.
std::unique_ptr<Normalizer> make_normalizer(const Json& j, Where where);

}  // namespace strata::tok
