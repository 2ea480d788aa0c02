// strata's BPE training: a byte-level BPE learned on a text, pre-tokenized exactly as the
// tokenizer.json it writes declares (the ByteLevel pre-tokenizer with GPT-2's regex), so the
// trained tokenizer is one more tokenizer.json pipeline.
#include "tokenizer/trainer.h"

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "strata/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pre_tokenizer.h"

namespace strata::tok {
namespace {

constexpr int kBytes = 256;

uint64_t pair_key(int32_t left, int32_t right) {
  return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
}

// The pieces of text under the declared pre-tokenizer, in order.
template <class Emit>
void for_each_pretoken(std::string_view text, Emit&& emit) {
  const PreTokenizerInfo byte_level = make_pre_tokenizer(
      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}},
      {"pre_tokenizer", ""});
  std::vector<Piece> pieces{{text, true}};
  Arena arena;
  byte_level.pre_tokenizer->pre_tokenize(pieces, arena);
  for (const Piece& p : pieces) emit(p.text);
}

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

TrainedBpe train_byte_level_bpe(std::string_view text, int vocab_size, const std::function<void(int, int)>& progress,
                                bool add_bos, int max_vocab_size) {
  const int min_vocab = kBytes + (add_bos ? 1 : 0);
  if (vocab_size < min_vocab || vocab_size > max_vocab_size) {
    throw Error("tokenizer vocab_size " + std::to_string(vocab_size) + " is out of range [" +
                std::to_string(min_vocab) + ", " + std::to_string(max_vocab_size) + "]" +
                (add_bos && vocab_size == kBytes
                     ? " (with add_bos the 256 bytes leave no room for <|endoftext|>; a pure byte-level "
                       "tokenizer needs add_bos = false)"
                     : ""));
  }
  const int merges_wanted = vocab_size - min_vocab;
  TrainedBpe tok;
  tok.add_bos = add_bos;
  for (int b = 0; b < kBytes; ++b) tok.token_bytes.emplace_back(1, char(b));

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
  while (int(tok.merges.size()) < merges_wanted && !queue.empty()) {
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
    if (!merged_tokens.insert(tok.token_bytes[top.left] + tok.token_bytes[top.right]).second) continue;

    const int32_t rank = int(tok.merges.size());
    const int32_t new_id = kBytes + rank;
    tok.merges.emplace_back(top.left, top.right);
    tok.token_bytes.push_back(tok.token_bytes[top.left] + tok.token_bytes[top.right]);
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
    if (progress) progress(int(tok.merges.size()), merges_wanted);
  }
  return tok;
}

std::string byte_level_tokenizer_json(const TrainedBpe& bpe) {
  using ordered_json = nlohmann::ordered_json;
  const int32_t bos_id = bpe.add_bos ? int32_t(bpe.token_bytes.size()) : -1;
  ordered_json vocab = ordered_json::object();
  for (size_t id = 0; id < bpe.token_bytes.size(); ++id) vocab[bytes_to_byte_level(bpe.token_bytes[id])] = id;
  if (bos_id >= 0) vocab[std::string(kEndOfText)] = bos_id;
  ordered_json merges = ordered_json::array();
  for (const auto& [left, right] : bpe.merges)
    merges.push_back(bytes_to_byte_level(bpe.token_bytes[size_t(left)]) + " " +
                     bytes_to_byte_level(bpe.token_bytes[size_t(right)]));
  ordered_json added_tokens = ordered_json::array();
  if (bos_id >= 0) {
    added_tokens.push_back({{"id", bos_id},
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
  return j.dump(2) + "\n";
}

}  // namespace strata::tok
