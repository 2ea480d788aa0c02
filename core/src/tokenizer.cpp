// Byte-level BPE: GPT-2 style pre-tokenization, incremental merge training over a word
// frequency table, rank-ordered encoding, and tokenizer.json in the Hugging Face layout.
#include "strata/tokenizer.h"

#include <algorithm>
#include <array>
#include <optional>
#include <queue>
#include <string>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/utf8.h"

namespace strata {
namespace {

uint64_t pair_key(int32_t left, int32_t right) {
  return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
}

// ---------------------------------------------------------------------------------------
// Pre-tokenization. Merges stay inside a pre-token, so tokens align with words and
// training counts each distinct word once instead of scanning the whole text per merge.

enum class CharClass { kLetter, kDigit, kSpace, kOther };

struct CharInfo {
  size_t length;
  CharClass cls;
};

// Without Unicode tables, treat the punctuation and symbol blocks a Latin text meets
// (curly quotes, dashes, currency, arrows, emoji) as symbols, and other scripts as letters.
bool is_symbol_code_point(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 ||
         (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF0F) ||
         (cp >= 0x1F000 && cp <= 0x1FAFF);
}

CharInfo char_at(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return {1, CharClass::kLetter};
    if (c >= '0' && c <= '9') return {1, CharClass::kDigit};
    if (c == ' ' || (c >= '\t' && c <= '\r')) return {1, CharClass::kSpace};
    return {1, CharClass::kOther};
  }
  char32_t cp = 0;
  const int length = utf8_sequence_length(s, i, &cp);
  if (length == 0) return {1, CharClass::kOther};
  return {size_t(length), is_symbol_code_point(cp) ? CharClass::kOther : CharClass::kLetter};
}

size_t contraction_length(std::string_view s, size_t i) {
  if (s[i] != '\'' || i + 1 >= s.size()) return 0;
  const char a = s[i + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= s.size()) return 0;
  const char b = s[i + 2];
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// Calls emit(piece) for consecutive pieces that together cover `s` exactly.
template <class Emit>
void for_each_pretoken(std::string_view s, Emit&& emit) {
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    if (const size_t length = contraction_length(s, i)) {
      emit(s.substr(i, length));
      i += length;
      continue;
    }
    size_t run_start = i;
    if (s[i] == ' ' && i + 1 < n && char_at(s, i + 1).cls != CharClass::kSpace) run_start = i + 1;
    const CharInfo first = char_at(s, run_start);
    size_t end = run_start + first.length;
    if (first.cls == CharClass::kSpace) {
      while (end < n && char_at(s, end).cls == CharClass::kSpace) ++end;
      // Like GPT-2's \s+(?!\S): the last whitespace char stays with the following word.
      if (end < n && end - i >= 2) --end;
    } else {
      while (end < n) {
        const CharInfo next = char_at(s, end);
        if (next.cls != first.cls) break;
        end += next.length;
      }
    }
    emit(s.substr(i, end - i));
    i = end;
  }
}

// ---------------------------------------------------------------------------------------
// GPT-2's bytes-to-unicode: every byte gets a printable character, so token strings in
// tokenizer.json contain no spaces or control characters and "a b" merges split cleanly.

struct ByteUnicodeTables {
  std::array<uint32_t, 256> byte_to_code_point{};
  std::array<int16_t, 512> code_point_to_byte{};
};

const ByteUnicodeTables& byte_unicode_tables() {
  static const ByteUnicodeTables tables = [] {
    ByteUnicodeTables t;
    t.code_point_to_byte.fill(-1);
    uint32_t next_unprintable = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cp = printable ? uint32_t(b) : next_unprintable++;
      t.byte_to_code_point[b] = cp;
      t.code_point_to_byte[cp] = int16_t(b);
    }
    return t;
  }();
  return tables;
}

std::string bytes_to_unicode(std::string_view bytes) {
  const auto& table = byte_unicode_tables().byte_to_code_point;
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const uint32_t cp = table[static_cast<unsigned char>(c)];
    if (cp < 0x80) {
      out += char(cp);
    } else {  // every mapped code point is below 0x800: two UTF-8 bytes
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

std::optional<std::string> unicode_to_bytes(std::string_view text) {
  const auto& table = byte_unicode_tables().code_point_to_byte;
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    uint32_t cp;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if (c >= 0xC2 && c <= 0xDF && i + 1 < text.size() &&
               (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80) {
      cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
      i += 2;
    } else {
      return std::nullopt;
    }
    if (cp >= table.size() || table[cp] < 0) return std::nullopt;
    out += char(table[cp]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Training state.

struct Word {
  std::vector<int32_t> symbols;
  int64_t count;
};

struct Candidate {
  int64_t count;
  int32_t left, right;
  // Heap order: the top is the highest count, then the smallest (left, right).
  bool operator<(const Candidate& o) const {
    if (count != o.count) return count < o.count;
    if (left != o.left) return left > o.left;
    return right > o.right;
  }
};

}  // namespace

Tokenizer::Tokenizer() {
  token_bytes_.reserve(kByteVocabSize);
  for (int b = 0; b < kByteVocabSize; ++b) token_bytes_.emplace_back(1, char(b));
}

void Tokenizer::add_merge(int32_t left, int32_t right) {
  const int32_t rank = int32_t(merges_.size());
  merges_.emplace_back(left, right);
  merge_rank_[pair_key(left, right)] = rank;
  token_bytes_.push_back(token_bytes_[left] + token_bytes_[right]);
}

void Tokenizer::add_bos_token() {
  bos_id_ = int32_t(token_bytes_.size());
  token_bytes_.emplace_back();
}

Tokenizer Tokenizer::train(std::string_view text, int vocab_size, ProgressFn progress, bool add_bos) {
  const int min_vocab = kByteVocabSize + (add_bos ? 1 : 0);
  if (vocab_size < min_vocab || vocab_size > kMaxVocabSize) {
    throw Error("tokenizer vocab_size " + std::to_string(vocab_size) + " is out of range [" +
                std::to_string(min_vocab) + ", " + std::to_string(kMaxVocabSize) + "]" +
                (add_bos && vocab_size == kByteVocabSize
                     ? " (with add_bos the 256 bytes leave no room for <|endoftext|>; a pure byte-level "
                       "tokenizer needs add_bos = false)"
                     : ""));
  }
  const int merges_wanted = vocab_size - min_vocab;
  Tokenizer tok;

  std::unordered_map<std::string_view, int64_t> word_counts;
  for_each_pretoken(text, [&](std::string_view piece) {
    if (piece.size() > 1) ++word_counts[piece];  // a single byte has no pair to merge
  });
  std::vector<Word> words;
  words.reserve(word_counts.size());
  for (const auto& [piece, count] : word_counts) {
    Word w{{}, count};
    w.symbols.reserve(piece.size());
    for (const char c : piece) w.symbols.push_back(static_cast<unsigned char>(c));
    words.push_back(std::move(w));
  }
  word_counts.clear();

  // Which words contain each pair: lists may hold words that lost the pair since (they are
  // rescanned and skipped), but never miss one that has it.
  std::unordered_map<uint64_t, int64_t> pair_counts;
  std::unordered_map<uint64_t, std::vector<int32_t>> pair_words;
  auto note_word = [&](uint64_t key, int32_t w) {
    auto& list = pair_words[key];
    if (list.empty() || list.back() != w) list.push_back(w);
  };
  for (int32_t w = 0; w < int32_t(words.size()); ++w) {
    const auto& s = words[w].symbols;
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      const uint64_t key = pair_key(s[i], s[i + 1]);
      pair_counts[key] += words[w].count;
      note_word(key, w);
    }
  }
  // Counts of existing pairs only ever fall (a pair gaining occurrences contains the new
  // token, so it is new), so a popped entry whose count is stale is just re-queued lower.
  std::priority_queue<Candidate> queue;
  for (const auto& [key, count] : pair_counts) queue.push({count, int32_t(key >> 32), int32_t(key & 0xFFFFFFFFu)});

  std::unordered_set<std::string> merged_tokens;
  std::vector<int32_t> merged_symbols;
  std::vector<uint64_t> new_pairs;
  std::vector<int32_t> last_visit(words.size(), -1);
  while (tok.merge_count() < merges_wanted && !queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    const uint64_t key = pair_key(top.left, top.right);
    const auto found = pair_counts.find(key);
    const int64_t count = found == pair_counts.end() ? 0 : found->second;
    if (count <= 0) continue;
    if (count != top.count) {
      queue.push({count, top.left, top.right});
      continue;
    }
    // tokenizer.json maps byte strings to ids, so a second route to the same bytes cannot
    // be stored; leaving the pair unmerged (and out of the queue) keeps every id unique.
    if (!merged_tokens.insert(tok.token_bytes_[top.left] + tok.token_bytes_[top.right]).second) continue;

    const int32_t rank = tok.merge_count();
    const int32_t new_id = kByteVocabSize + rank;
    tok.add_merge(top.left, top.right);
    std::vector<int32_t> affected = std::move(pair_words[key]);
    pair_words.erase(key);
    new_pairs.clear();
    for (const int32_t w : affected) {
      if (last_visit[w] == rank) continue;
      last_visit[w] = rank;
      // Only the pairs around each occurrence change; the rest of the word keeps its counts.
      auto& symbols = words[w].symbols;
      const size_t n = symbols.size();
      const int64_t c = words[w].count;
      auto starts_match = [&](size_t i) {
        return i + 1 < n && symbols[i] == top.left && symbols[i + 1] == top.right;
      };
      auto add_new_pair = [&](uint64_t k) {
        pair_counts[k] += c;
        note_word(k, w);
        new_pairs.push_back(k);
      };
      merged_symbols.clear();
      bool left_neighbour_merged = false;  // symbols[i - 1] belongs to the previous occurrence
      for (size_t i = 0; i < n;) {
        if (!starts_match(i)) {
          merged_symbols.push_back(symbols[i]);
          left_neighbour_merged = false;
          ++i;
          continue;
        }
        if (!merged_symbols.empty()) {
          // When the left neighbour was merged too, its old pair with us went with it.
          if (!left_neighbour_merged) pair_counts[pair_key(symbols[i - 1], top.left)] -= c;
          add_new_pair(pair_key(merged_symbols.back(), new_id));
        }
        if (i + 2 < n) {
          pair_counts[pair_key(top.right, symbols[i + 2])] -= c;
          // A following occurrence adds the (new, new) pair itself, as its left neighbour.
          if (!starts_match(i + 2)) add_new_pair(pair_key(new_id, symbols[i + 2]));
        }
        merged_symbols.push_back(new_id);
        left_neighbour_merged = true;
        i += 2;
      }
      if (merged_symbols.size() == n) continue;
      symbols.swap(merged_symbols);
    }
    pair_counts.erase(key);
    std::sort(new_pairs.begin(), new_pairs.end());
    new_pairs.erase(std::unique(new_pairs.begin(), new_pairs.end()), new_pairs.end());
    for (const uint64_t k : new_pairs) {
      const int64_t c = pair_counts[k];
      if (c > 0) queue.push({c, int32_t(k >> 32), int32_t(k & 0xFFFFFFFFu)});
    }
    if (progress) progress(tok.merge_count(), merges_wanted);
  }
  if (add_bos) tok.add_bos_token();
  return tok;
}

void Tokenizer::encode_pretoken(std::string_view piece, std::vector<int32_t>& out) const {
  const int n = int(piece.size());
  std::vector<int32_t> symbols(n);
  std::vector<int> next(n), prev(n);
  for (int i = 0; i < n; ++i) {
    symbols[i] = static_cast<unsigned char>(piece[i]);
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  struct Pending {
    int32_t rank;
    int position;
    int32_t left, right;
    // Lowest rank first; among equal ranks the leftmost, as training applied each merge.
    bool operator<(const Pending& o) const {
      return rank != o.rank ? rank > o.rank : position > o.position;
    }
  };
  std::priority_queue<Pending> pending;
  auto consider = [&](int position) {
    if (position < 0 || next[position] < 0) return;
    const int32_t left = symbols[position], right = symbols[next[position]];
    const auto found = merge_rank_.find(pair_key(left, right));
    if (found != merge_rank_.end()) pending.push({found->second, position, left, right});
  };
  for (int i = 0; i + 1 < n; ++i) consider(i);
  while (!pending.empty()) {
    const Pending p = pending.top();
    pending.pop();
    const int right_position = next[p.position];
    // Entries whose symbols were merged away since they were queued are stale.
    if (symbols[p.position] != p.left || right_position < 0 || symbols[right_position] != p.right) continue;
    symbols[p.position] = kByteVocabSize + p.rank;
    symbols[right_position] = -1;
    next[p.position] = next[right_position];
    if (next[p.position] >= 0) prev[next[p.position]] = p.position;
    consider(prev[p.position]);
    consider(p.position);
  }
  for (int i = 0; i >= 0 && i < n; i = next[i]) out.push_back(symbols[i]);
}

std::vector<int32_t> Tokenizer::encode(std::string_view bytes) const {
  std::vector<int32_t> ids;
  ids.reserve(bytes.size() / 3 + 16);
  if (merges_.empty()) {
    for (const char c : bytes) ids.push_back(static_cast<unsigned char>(c));
    return ids;
  }
  // Text repeats its words: the ids of each distinct piece are computed once and copied
  // from where they first appear in `ids`.
  struct Span {
    size_t offset, length;
  };
  std::unordered_map<std::string_view, Span> seen;
  for_each_pretoken(bytes, [&](std::string_view piece) {
    if (piece.size() == 1) {
      ids.push_back(static_cast<unsigned char>(piece[0]));
      return;
    }
    const auto [it, inserted] = seen.try_emplace(piece, Span{ids.size(), 0});
    if (inserted) {
      encode_pretoken(piece, ids);
      it->second.length = ids.size() - it->second.offset;
    } else {
      const Span span = it->second;
      ids.resize(ids.size() + span.length);
      std::copy_n(ids.begin() + span.offset, span.length, ids.end() - span.length);
    }
  });
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (const int32_t id : ids) {
    if (id < 0 || id >= vocab_size())
      throw Error("tokenizer: cannot decode token id " + std::to_string(id) + ", vocabulary has " +
                  std::to_string(vocab_size()) + " ids");
    out += token_bytes_[id];
  }
  return out;
}

std::string Tokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw Error("tokenizer: token id " + std::to_string(id) + " out of range [0, " + std::to_string(vocab_size()) + ")");
  if (id == bos_id_) return std::string(kEndOfText);
  return token_bytes_[id];
}

// ---------------------------------------------------------------------------------------
// tokenizer.json

void Tokenizer::save(const std::string& path) const {
  using ordered_json = nlohmann::ordered_json;
  ordered_json vocab = ordered_json::object();
  for (int32_t id = 0; id < vocab_size(); ++id)
    vocab[id == bos_id_ ? std::string(kEndOfText) : bytes_to_unicode(token_bytes_[id])] = id;
  ordered_json merges = ordered_json::array();
  for (const auto& [left, right] : merges_)
    merges.push_back(bytes_to_unicode(token_bytes_[left]) + " " + bytes_to_unicode(token_bytes_[right]));
  ordered_json added_tokens = ordered_json::array();
  if (bos_id_ >= 0) {
    added_tokens.push_back({{"id", bos_id_},
                            {"content", std::string(kEndOfText)},
                            {"single_word", false},
                            {"lstrip", false},
                            {"rstrip", false},
                            {"normalized", false},
                            {"special", true}});
  }
  ordered_json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = std::move(added_tokens);
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  j["post_processor"] = nullptr;
  j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  j["model"] = {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"continuing_subword_prefix", ""},
                {"end_of_word_suffix", ""},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"ignore_merges", false},
                {"vocab", std::move(vocab)},
                {"merges", std::move(merges)}};
  write_file_atomic(path, j.dump(2) + "\n");
}

Tokenizer Tokenizer::load(const std::string& path) {
  const std::string text = read_file(path);
  auto fail = [&](const std::string& what) { return Error(path + ": " + what); };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("malformed JSON (") + e.what() + ")");
  }
  if (!j.is_object()) throw fail("expected a JSON object (a Hugging Face tokenizer.json)");
  if (!j.contains("model") || !j["model"].is_object()) throw fail("missing \"model\" object");
  const nlohmann::json& model = j["model"];
  if (!model.contains("type") || !model["type"].is_string())
    throw fail("missing model.type (expected \"BPE\")");
  if (model["type"] != "BPE") throw fail("model.type is " + model["type"].dump() + ", only \"BPE\" is supported");
  if (j.contains("pre_tokenizer") && j["pre_tokenizer"].is_object() &&
      j["pre_tokenizer"].value("type", std::string()) != "ByteLevel")
    throw fail("pre_tokenizer " + j["pre_tokenizer"].value("type", std::string("(untyped)")) +
               " is not supported, only ByteLevel");
  if (!model.contains("vocab") || !model["vocab"].is_object()) throw fail("missing model.vocab object");
  if (!model.contains("merges") || !model["merges"].is_array()) throw fail("missing model.merges array");
  const nlohmann::json& vocab = model["vocab"];
  const nlohmann::json& merges = model["merges"];

  int64_t bos_id = -1;
  if (j.contains("added_tokens") && !j["added_tokens"].is_null()) {
    if (!j["added_tokens"].is_array()) throw fail("added_tokens is not an array");
    for (const auto& added : j["added_tokens"]) {
      if (!added.is_object() || !added.contains("content") || !added["content"].is_string() ||
          !added.contains("id") || !added["id"].is_number_integer())
        throw fail("added_tokens entry " + added.dump() + " lacks a string content and an integer id");
      if (added["content"].get<std::string>() != kEndOfText)
        throw fail("added token " + added["content"].dump() + " is not supported (only <|endoftext|>)");
      if (bos_id >= 0) throw fail("<|endoftext|> is listed twice in added_tokens");
      bos_id = added["id"].get<int64_t>();
    }
  }

  const int64_t merge_count = int64_t(merges.size());
  const int64_t id_count = kByteVocabSize + merge_count + (bos_id >= 0 ? 1 : 0);
  if (id_count > (int64_t(1) << 24)) throw fail("vocabulary of " + std::to_string(id_count) + " ids is too large");
  if (bos_id >= 0 && bos_id != id_count - 1)
    throw fail("<|endoftext|> has id " + std::to_string(bos_id) + ", expected the last id " +
               std::to_string(id_count - 1) + " (after 256 bytes and " + std::to_string(merge_count) + " merges)");

  std::vector<std::optional<std::string>> bytes_by_id(id_count);
  std::unordered_map<std::string, int32_t> id_by_token;
  for (const auto& [token, value] : vocab.items()) {
    if (!value.is_number_integer()) throw fail("vocab entry " + nlohmann::json(token).dump() + " has a non-integer id");
    const int64_t id = value.get<int64_t>();
    if (bos_id >= 0 && token == kEndOfText) {
      if (id != bos_id)
        throw fail("vocab gives <|endoftext|> id " + std::to_string(id) + " but added_tokens says " + std::to_string(bos_id));
      continue;
    }
    if (id < 0 || id >= id_count || (id == bos_id))
      throw fail("ids not contiguous: vocab token " + nlohmann::json(token).dump() + " has id " + std::to_string(id) +
                 ", expected ids 0.." + std::to_string(id_count - 1) + " (256 bytes, " + std::to_string(merge_count) +
                 " merges" + (bos_id >= 0 ? ", <|endoftext|>)" : ")"));
    std::optional<std::string> bytes = unicode_to_bytes(token);
    if (!bytes || bytes->empty())
      throw fail("vocab token " + nlohmann::json(token).dump() + " is not in the byte-level (GPT-2 bytes-to-unicode) alphabet");
    if (bytes_by_id[id]) throw fail("ids not contiguous: id " + std::to_string(id) + " is used twice in vocab");
    bytes_by_id[id] = std::move(bytes);
    id_by_token.emplace(token, int32_t(id));
  }
  for (int b = 0; b < kByteVocabSize; ++b) {
    if (!bytes_by_id[b] || *bytes_by_id[b] != std::string(1, char(b))) {
      throw fail("base byte token " + nlohmann::json(bytes_to_unicode(std::string(1, char(b)))).dump() +
                 " (byte " + std::to_string(b) + ") must have id " + std::to_string(b));
    }
  }
  for (int64_t id = kByteVocabSize; id < id_count; ++id) {
    if (id != bos_id && !bytes_by_id[id])
      throw fail("ids not contiguous: no vocab token has id " + std::to_string(id) + " (vocab has " +
                 std::to_string(vocab.size()) + " entries, merges make " + std::to_string(id_count) + " ids)");
  }

  Tokenizer tok;
  for (int64_t rank = 0; rank < merge_count; ++rank) {
    const nlohmann::json& merge = merges[rank];
    std::string left, right;
    if (merge.is_string()) {
      const std::string s = merge.get<std::string>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        throw fail("merge " + std::to_string(rank) + " " + merge.dump() + " is not two tokens separated by one space");
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else {
      throw fail("merge " + std::to_string(rank) + " " + merge.dump() + " is neither \"a b\" nor [\"a\", \"b\"]");
    }
    const int32_t made_id = int32_t(kByteVocabSize + rank);
    int32_t parts[2];
    for (int k = 0; k < 2; ++k) {
      const std::string& part = k == 0 ? left : right;
      const auto found = id_by_token.find(part);
      if (found == id_by_token.end())
        throw fail("merge " + std::to_string(rank) + " " + merge.dump() + " refers to unknown token " + nlohmann::json(part).dump());
      if (found->second >= made_id)
        throw fail("merge " + std::to_string(rank) + " " + merge.dump() + " uses token " + nlohmann::json(part).dump() +
                   " (id " + std::to_string(found->second) + ") before the merge that makes it");
      parts[k] = found->second;
    }
    if (*bytes_by_id[made_id] != *bytes_by_id[parts[0]] + *bytes_by_id[parts[1]])
      throw fail("merge " + std::to_string(rank) + " " + merge.dump() + " must make the token with id " +
                 std::to_string(made_id) + " (256 + merge rank), which is " +
                 nlohmann::json(bytes_to_unicode(*bytes_by_id[made_id])).dump());
    tok.add_merge(parts[0], parts[1]);
  }
  if (bos_id >= 0) tok.add_bos_token();
  return tok;
}

}  // namespace strata
