// Tiny random models for tests that need a model but not a particular one.
#pragma once
#include <memory>

#include "strata/weights.h"

namespace strata::testing_models {

// 2 layers, d 32, 4 heads of 8 (2 kv heads), SwiGLU 64, context 32.
inline ModelConfig tiny_config(int vocab_size) {
  ModelConfig c;
  c.vocab_size = vocab_size;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 8;
  c.max_position_embeddings = 32;
  return c;
}

inline std::shared_ptr<Weights> random_weights(const ModelConfig& c, uint64_t seed, float std = 0.3f) {
  auto w = std::make_shared<Weights>(c);
  w->init_random(seed, std);
  return w;
}

}  // namespace strata::testing_models
