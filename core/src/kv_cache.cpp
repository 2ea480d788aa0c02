// The KV cache's storage: one block of rows per layer for keys and one for values, grown
// geometrically (so decoding N tokens copies O(N) rows in all) up to the model's context.
#include "strata/kv_cache.h"

#include <algorithm>
#include <string>

#include "strata/error.h"

namespace strata {

KVCache::KVCache(const ModelConfig& c)
    : max_tokens_(c.max_position_embeddings), kv_dim_(c.kv_dim()),
      keys_(size_t(c.num_hidden_layers)), values_(size_t(c.num_hidden_layers)) {}

bool KVCache::fits(const ModelConfig& c) const {
  return c.num_hidden_layers == layers() && c.kv_dim() == kv_dim_ && c.max_position_embeddings == max_tokens_;
}

void KVCache::reserve(int n) {
  if (n < 0) throw Error("KV cache: cannot reserve a negative number of tokens");
  if (int64_t(length_) + n > max_tokens_)
    throw Error("KV cache: " + std::to_string(length_) + " tokens + " + std::to_string(n) + " more would pass the model's "
                "context of " + std::to_string(max_tokens_) + " tokens (max_position_embeddings)");
  const int need = length_ + n;
  if (need <= rows_) return;
  rows_ = std::min(max_tokens_, std::max({need, 2 * rows_, 16}));
  for (auto* blocks : {&keys_, &values_})
    for (auto& b : *blocks) b.resize(size_t(rows_) * kv_dim_);
}

void KVCache::append(int n) {
  if (n < 0 || length_ + n > rows_) throw Error("KV cache: appending " + std::to_string(n) + " tokens without room reserved");
  length_ += n;
}

void KVCache::truncate(int n) {
  if (n < 0 || n > length_)
    throw Error("KV cache: cannot keep " + std::to_string(n) + " of " + std::to_string(length_) + " tokens");
  length_ = n;
}

}  // namespace strata
