// Links the installed strata: builds a tiny random model, runs a hierarchical schedule's
// contexts through it and checks the logits are finite.
#include <cmath>
#include <cstdio>
#include <memory>

#include "strata/model.h"
#include "strata/schedule.h"

int main() {
  strata::ModelConfig c;
  c.vocab_size = 32;
  c.hidden_size = 16;
  c.intermediate_size = 32;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 1;
  c.head_dim = 8;
  c.max_position_embeddings = 16;
  auto w = std::make_shared<strata::Weights>(c);
  w->init_random(1);
  strata::Transformer model(w);
  const auto schedule = strata::make_schedule("hierarchical");
  int iterations = 0;
  for (const auto& ctx : schedule->contexts(/*t=*/20, /*budget=*/8)) {
    std::vector<int32_t> tokens;
    for (int64_t p : ctx.positions) tokens.push_back(int32_t(p % c.vocab_size));
    const int T = int(tokens.size());
    auto logits = model.forward(tokens, ctx.position_ids, 1, T, std::vector<int>{T - 1});
    for (float x : logits)
      if (!std::isfinite(x)) return 1;
    ++iterations;
  }
  std::printf("consumer: %d hierarchical iterations ran through the installed strata\n", iterations);
  return iterations == 4 ? 0 : 1;
}
