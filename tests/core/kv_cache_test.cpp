// The KV cache's bookkeeping (core/src/kv_cache.cpp): rows reserved and appended, the
// stored rows kept when the storage grows, truncation, and the context refused by name.
#include "strata/kv_cache.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace strata {
namespace {

using fixtures::error_of;

TEST(KVCacheTest, GrowsKeepingItsRowsAndRefusesThePastTheContext) {
  const ModelConfig c = fixtures::tiny_config();  // context 32, kv_dim 16, 2 layers
  KVCache cache(c);
  EXPECT_TRUE(cache.fits(c));
  EXPECT_EQ(cache.capacity(), 32);
  cache.reserve(3);
  for (int l = 0; l < 2; ++l)
    for (int i = 0; i < 3 * 16; ++i) {
      cache.keys(l)[i] = float(l * 1000 + i);
      cache.values(l)[i] = -float(l * 1000 + i);
    }
  cache.append(3);
  cache.reserve(29);  // grows the storage to the whole context
  EXPECT_EQ(cache.length(), 3);
  for (int l = 0; l < 2; ++l)
    for (int i = 0; i < 3 * 16; ++i) {
      ASSERT_EQ(cache.keys(l)[i], float(l * 1000 + i));
      ASSERT_EQ(cache.values(l)[i], -float(l * 1000 + i));
    }
  EXPECT_EQ(error_of([&] { cache.reserve(30); }),
            "KV cache: 3 tokens + 30 more would pass the model's context of 32 tokens (max_position_embeddings)");
  EXPECT_EQ(error_of([&] { cache.append(30); }), "KV cache: appending 30 tokens without room reserved");
  cache.truncate(1);
  EXPECT_EQ(cache.length(), 1);
  EXPECT_EQ(error_of([&] { cache.truncate(2); }), "KV cache: cannot keep 2 of 1 tokens");
  cache.clear();
  EXPECT_EQ(cache.length(), 0);
  fixtures::Shape other;
  other.layers = 3;
  EXPECT_FALSE(cache.fits(fixtures::tiny_config(other)));
}

}  // namespace
}  // namespace strata
