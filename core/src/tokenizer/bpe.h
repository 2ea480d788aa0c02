// The BPE model: a vocabulary (token string ↔ id) and ranked merges, applied to each
// pre-tokenized piece as the Hugging Face tokenizers do: the piece's characters (or, after
// a ByteLevel pre-tokenizer, its bytes through GPT-2's table) become tokens, unknown ones
// fall back to <0xXX> byte tokens or the unk token, then the lowest-ranked adjacent pair is
// merged (leftmost first among equal ranks) until no pair has a merge.
//
// Merges are looked up in a flat open-addressing table keyed by the (left, right) id pair;
// the merge loop is a doubly linked list over the symbols with a binary heap of candidate
// pairs, O(n log n) in the piece length.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tokenizer/json_fields.h"

namespace strata::tok {

// model.vocab as the loader reads it: (token, id value) in file order.
using VocabEntries = std::vector<std::pair<std::string, Json>>;

// String → id over a table of strings indexed by id (keys[id]), open addressing with the
// hash kept beside each slot: loading a 262k-entry vocabulary does millions of lookups.
class StringIndex {
 public:
  void reset(const std::vector<std::string>* keys, size_t n);
  bool insert(int32_t id);  // keys[id]; false if an equal key is there already
  int32_t find(std::string_view key) const;  // -1 if absent

 private:
  static uint64_t hash(std::string_view s);
  const std::vector<std::string>* keys_ = nullptr;
  std::vector<uint64_t> hashes_;
  std::vector<int32_t> ids_;  // -1: empty slot
};

// (left id, right id) → (rank, merged id), linear probing over a power-of-two table.
class MergeTable {
 public:
  struct Merge {
    int32_t rank, id;
  };
  void reserve(size_t n);
  bool insert(int32_t left, int32_t right, Merge m);  // false if the pair is already there
  const Merge* find(int32_t left, int32_t right) const;
  size_t size() const { return size_; }

 private:
  static uint64_t key(int32_t l, int32_t r) { return (uint64_t(uint32_t(l)) << 32) | uint32_t(r); }
  size_t slot(uint64_t k) const { return size_t((k * 0x9E3779B97F4A7C15ull) >> shift_); }
  struct Slot {
    uint64_t key;  // ~0: empty
    Merge value;
  };
  std::vector<Slot> slots_;
  size_t size_ = 0;
  int shift_ = 64;
};

class BpeModel {
 public:
  // Reads model.vocab and model.merges (strings "a b" or pairs ["a", "b"]) and the options
  // unk_token, continuing_subword_prefix, end_of_word_suffix, fuse_unk, byte_fallback,
  // ignore_merges. byte_level: pieces are raw bytes read through GPT-2's table.
  // Throws strata::Error naming the model field for any inconsistency.
  // vocab: model.vocab read by the loader, or null to read it from `model`.
  BpeModel(const Json& model, const VocabEntries* vocab, const Where& where, bool byte_level);

  // Appends the ids of one piece.
  void encode(std::string_view piece, std::vector<int32_t>& out) const;

  // Vocabulary ids run 0..id_count()-1; a hole (an id no token has) has an empty string.
  int32_t id_count() const { return int32_t(id_to_token_.size()); }
  const std::string& token(int32_t id) const { return id_to_token_[size_t(id)]; }
  int32_t find(std::string_view token) const;  // -1 if absent
  int merge_count() const { return int(merge_count_); }
  bool byte_level() const { return byte_level_; }
  bool byte_fallback() const { return byte_fallback_; }

 private:
  void initial_symbols(std::string_view piece, std::vector<int32_t>& symbols) const;
  void merge(std::vector<int32_t>& symbols) const;

  std::vector<std::string> id_to_token_;
  StringIndex token_to_id_;
  MergeTable merges_;
  size_t merge_count_ = 0;
  bool byte_level_ = false, byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
  int32_t unk_id_ = -1;
  std::string prefix_, suffix_;
  // Fast paths for the first symbols when there is no prefix or suffix.
  std::array<int32_t, 256> byte_token_{};       // byte-level: id of the byte's character, -1 if none
  std::array<int32_t, 256> fallback_token_{};   // id of "<0xXX>", -1 if none
  std::unordered_map<char32_t, int32_t> char_token_;  // single-character tokens
  std::vector<std::string> bytes_of_id_;  // byte-level + ignore_merges: each token's bytes
  StringIndex bytes_to_id_;                // ... and their index
};

}  // namespace strata::tok
