// Incremental detokenisation with two offsets into the token list (the scheme of Hugging
// Face's text-generation-inference): the text of ids [prefix, read) was released; the text
// of [prefix, end) minus it is new, released when it does not end mid-character.
#include "strata/text_stream.h"

#include <algorithm>


namespace strata {

namespace {

constexpr size_t kContextTokens = 5;  // tokens decoded before the new ones

// True when s ends in U+FFFD or in the lead byte (C2–F4) of a multi-byte UTF-8 sequence
// followed by fewer continuation bytes than it needs. (A tail that then proves ill-formed
// goes out with the next token's text.)
bool ends_mid_character(const std::string& s) {
  if (s.size() >= 3 && s.compare(s.size() - 3, 3, "\xEF\xBF\xBD") == 0) return true;
  for (size_t back = 1; back <= std::min<size_t>(3, s.size()); ++back) {
    const unsigned char c = static_cast<unsigned char>(s[s.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back for the lead
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    return c >= 0xC2 && c <= 0xF4 && back < need;
  }
  return false;
}

}  // namespace

TextStream::TextStream(const Tokenizer& tokenizer, std::span<const int32_t> prompt)
    : tokenizer_(tokenizer), ids_(prompt.begin(), prompt.end()),
      prefix_(prompt.size() > kContextTokens ? prompt.size() - kContextTokens : 0), read_(prompt.size()) {}

std::string TextStream::pending() const {
  const std::span<const int32_t> ids(ids_);
  const std::string before = tokenizer_.decode(ids.subspan(prefix_, read_ - prefix_));
  const std::string now = tokenizer_.decode(ids.subspan(prefix_));
  // A decoder that rewrites earlier text (rare) cannot take back released bytes: the new
  // text is then what lies past the released length.
  return now.size() > before.size() ? now.substr(before.size()) : std::string();
}

std::string TextStream::push(int32_t token) {
  ids_.push_back(token);
  std::string text = pending();
  if (text.empty() || ends_mid_character(text)) return {};
  prefix_ = read_;
  read_ = ids_.size();
  return text;
}

std::string TextStream::finish() {
  std::string text = pending();
  prefix_ = read_ = ids_.size();
  return text;
}

}  // namespace strata
