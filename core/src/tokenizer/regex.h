// Unicode regular expressions for the Split and ByteLevel pre-tokenizers and the Replace
// normalizer/decoder: PCRE2 in UTF + UCP mode (JIT-compiled where the platform has it),
// with ill-formed UTF-8 allowed in the subject (it never matches a pattern character).
//
// The Hugging Face tokenizers compile these patterns with Oniguruma, so three classes are
// rewritten to its definitions before PCRE2 sees them: \s and \S use Unicode White_Space
// (PCRE2's \s also matches U+180E), \w and \W are [\p{L}\p{M}\p{Nd}\p{Pc}].
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::tok {

class Regex {
 public:
  // Throws strata::Error with PCRE2's message and the offset when the pattern is invalid.
  explicit Regex(const std::string& pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Non-overlapping matches, left to right, as [begin, end) byte offsets; empty matches
  // are skipped (the scan moves on by one character). Safe to call from several threads.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view subject) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The rewrite described above (exposed for tests).
std::string onig_compatible_pattern(std::string_view pattern);

}  // namespace strata::tok
