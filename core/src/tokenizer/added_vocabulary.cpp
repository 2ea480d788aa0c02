#include "tokenizer/added_vocabulary.h"

#include <algorithm>

#include "tokenizer/unicode.h"

namespace strata::tok {

void AddedVocabulary::Trie::insert(std::string_view s, int32_t token) {
  int32_t node = 0;
  for (const char c : s) {
    const unsigned char b = static_cast<unsigned char>(c);
    auto& kids = children[size_t(node)];
    const auto it = kids.find(b);
    if (it != kids.end()) {
      node = it->second;
    } else {
      const int32_t child = int32_t(children.size());
      kids.emplace(b, child);
      children.emplace_back();
      ends.push_back(-1);
      node = child;
    }
  }
  if (ends[size_t(node)] < 0) ends[size_t(node)] = token;  // the first token with this content wins
  first[static_cast<unsigned char>(s[0])] = true;
}

void AddedVocabulary::add(AddedToken token) {
  const size_t index = tokens_.size();
  index_by_id_.emplace(token.id, index);
  index_by_content_.emplace(token.content, index);
  if (!token.content.empty()) (token.normalized ? normalized_trie_ : raw_trie_).insert(token.content, int32_t(index));
  tokens_.push_back(std::move(token));
}

const AddedToken* AddedVocabulary::by_id(int32_t id) const {
  const auto it = index_by_id_.find(id);
  return it == index_by_id_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedVocabulary::by_content(std::string_view content) const {
  const auto it = index_by_content_.find(std::string(content));
  return it == index_by_content_.end() ? nullptr : &tokens_[it->second];
}

namespace {

// The character ending just before `end` / starting at `begin` is a word character
// (alphanumeric or '_'), for single_word tokens.
bool word_char_before(std::string_view s, size_t end) {
  if (end == 0) return false;
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80 && end - start < 4) --start;
  const CodePoint c = code_point_at(s, start);
  return c.value != kInvalid && (c.value == '_' || is_alphanumeric(c.value));
}

bool word_char_at(std::string_view s, size_t begin) {
  if (begin >= s.size()) return false;
  const CodePoint c = code_point_at(s, begin);
  return c.value != kInvalid && (c.value == '_' || is_alphanumeric(c.value));
}

}  // namespace

void AddedVocabulary::split(std::string_view text, bool raw, std::vector<Segment>& out) const {
  const Trie& trie = raw ? raw_trie_ : normalized_trie_;
  if (trie.empty()) {
    if (!text.empty()) out.push_back({text, -1});
    return;
  }
  size_t plain_start = 0;  // start of the pending plain stretch
  size_t i = 0;
  while (i < text.size()) {
    if (!trie.first[static_cast<unsigned char>(text[i])]) {
      ++i;
      continue;
    }
    // Longest token starting at i.
    int32_t node = 0, match = -1;
    size_t match_end = i;
    for (size_t j = i; j < text.size(); ++j) {
      const auto& kids = trie.children[size_t(node)];
      const auto it = kids.find(static_cast<unsigned char>(text[j]));
      if (it == kids.end()) break;
      node = it->second;
      if (trie.ends[size_t(node)] >= 0) {
        match = trie.ends[size_t(node)];
        match_end = j + 1;
      }
    }
    if (match < 0) {
      ++i;
      continue;
    }
    const AddedToken& t = tokens_[size_t(match)];
    if (t.single_word && (word_char_before(text, i) || word_char_at(text, match_end))) {
      ++i;
      continue;
    }
    size_t begin = i, end = match_end;
    if (t.lstrip) {
      while (begin > plain_start) {
        size_t start = begin - 1;
        while (start > plain_start && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80 && begin - start < 4) --start;
        const CodePoint c = code_point_at(text, start);
        if (c.value == kInvalid || start + size_t(c.length) != begin || !is_whitespace(c.value)) break;
        begin = start;
      }
    }
    if (t.rstrip) {
      while (end < text.size()) {
        const CodePoint c = code_point_at(text, end);
        if (c.value == kInvalid || !is_whitespace(c.value)) break;
        end += size_t(c.length);
      }
    }
    if (plain_start < begin) out.push_back({text.substr(plain_start, begin - plain_start), -1});
    out.push_back({text.substr(begin, end - begin), t.id});
    plain_start = i = end;
  }
  if (plain_start < text.size()) out.push_back({text.substr(plain_start), -1});
}

}  // namespace strata::tok
