// The KV cache of one sequence: every layer's keys (after RoPE) and values for the tokens
// decoded so far, so that the next token's forward pass (Transformer::forward with a cache,
// model.h) computes only its own row and attends over the stored ones. Token i of the
// sequence sits at row i of every layer and at position i, so the cache's length is the
// next token's position and sliding windows mask by that absolute position. The storage
// grows as tokens arrive, never past the model's context (max_position_embeddings).
#pragma once
#include <vector>

#include "strata/config.h"

namespace strata {

class KVCache {
 public:
  explicit KVCache(const ModelConfig& c);

  int length() const { return length_; }       // tokens held: the next token's position
  int capacity() const { return max_tokens_; }  // the model's context
  int layers() const { return int(keys_.size()); }
  int kv_dim() const { return kv_dim_; }
  // True when c's layers and key/value width are this cache's (a pass checks it).
  bool fits(const ModelConfig& c) const;

  // Room for n more tokens after length(). Throws strata::Error when length() + n would
  // pass the model's context. Pointers from keys()/values() are invalid after a call.
  void reserve(int n);
  // Rows (length() + reserved, kv_dim) of one layer: keys after RoPE, values.
  float* keys(int layer) { return keys_[size_t(layer)].data(); }
  float* values(int layer) { return values_[size_t(layer)].data(); }
  const float* keys(int layer) const { return keys_[size_t(layer)].data(); }
  const float* values(int layer) const { return values_[size_t(layer)].data(); }
  // The n reserved rows after length() hold a pass's keys and values in every layer now.
  void append(int n);
  // Keeps the first n tokens (a prompt shared by several continuations); clear() keeps none.
  void truncate(int n);
  void clear() { truncate(0); }

 private:
  int max_tokens_, kv_dim_;
  int length_ = 0, rows_ = 0;  // rows_: tokens the storage holds room for
  std::vector<std::vector<float>> keys_, values_;  // (layers) of (rows_, kv_dim)
};

}  // namespace strata
