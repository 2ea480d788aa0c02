// Byte-level BPE tokenizer: turns any byte string into token ids and back, losslessly, so a
// model can be trained on and sample real text. Stored as a Hugging Face style
// tokenizer.json (ByteLevel pre-tokenizer and decoder, BPE model), so a strata model
// directory can be opened by the `tokenizers` library too.
//
// Ids 0..255 are the single bytes (id == byte value): the default-constructed tokenizer is
// a pure byte-level model of 256 tokens. Id 256 + r is the token made by merge r, so the
// merge list alone defines the vocabulary. An optional special token "<|endoftext|>"
// (bos_id()) comes last; encode never produces it from plain text, even when the text
// contains the characters "<|endoftext|>", and decode turns it into nothing.
//
// Text is first split into pre-tokens roughly as GPT-2 does (contractions 's 't 're 've 'm
// 'll 'd; optional space + letters; optional space + digits; optional space + other
// symbols; whitespace runs, leaving one space to lead the next word), and merges never
// cross a pre-token boundary. Non-ASCII characters count as letters unless they are in a
// punctuation or symbol block; a byte that is not valid UTF-8 counts as a symbol.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace strata {

class Tokenizer {
 public:
  // Called after each merge during training with (merges learned so far, merges wanted).
  using ProgressFn = std::function<void(int merges_done, int merges_wanted)>;

  static constexpr int kByteVocabSize = 256;
  static constexpr int kMaxVocabSize = 16384;
  static constexpr std::string_view kEndOfText = "<|endoftext|>";

  Tokenizer();  // pure byte-level: 256 tokens, no merges, no special token

  // Learns merges on `text` until the vocabulary holds `vocab_size` ids, counting the
  // 256 bytes and, if add_bos, the "<|endoftext|>" token (so vocab_size 256 requires
  // add_bos == false). Stops early, with fewer ids, only when no adjacent pair of tokens
  // is left inside any pre-token (a tiny or highly repetitive text). A pair whose bytes
  // already form a token is never merged, so every token is a distinct byte string.
  // Deterministic: the most frequent pair wins, ties go to the smallest (left, right) ids.
  // Throws strata::Error if vocab_size is outside [256 (+1 with add_bos), 16384].
  static Tokenizer train(std::string_view text, int vocab_size, ProgressFn progress = {},
                         bool add_bos = true);

  // Both const with no hidden state, so one tokenizer can serve several threads.
  std::vector<int32_t> encode(std::string_view bytes) const;
  std::string decode(std::span<const int32_t> ids) const;  // throws strata::Error on a bad id

  // The raw bytes of a token; for bos_id() its name "<|endoftext|>", for display only.
  // Throws strata::Error on an id out of range.
  std::string token_text(int32_t id) const;
  int vocab_size() const { return int(token_bytes_.size()); }
  int bos_id() const { return bos_id_; }  // -1 when there is no "<|endoftext|>" token
  int merge_count() const { return int(merges_.size()); }

  void save(const std::string& path) const;  // tokenizer.json, written atomically
  // Throws strata::Error naming the path and the problem: malformed JSON, a missing or
  // non-BPE model, ids out of order, a merge of unknown tokens, a missing byte token, ...
  static Tokenizer load(const std::string& path);

 private:
  void add_merge(int32_t left, int32_t right);
  void add_bos_token();
  void encode_pretoken(std::string_view piece, std::vector<int32_t>& out) const;

  std::vector<std::pair<int32_t, int32_t>> merges_;       // rank r makes id 256 + r
  std::vector<std::string> token_bytes_;                  // by id; empty for the bos token
  std::unordered_map<uint64_t, int32_t> merge_rank_;      // (left, right) packed -> rank
  int32_t bos_id_ = -1;
};

}  // namespace strata
