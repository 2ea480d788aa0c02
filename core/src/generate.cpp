// The decoding loop over Transformer::forward with a KV cache: prefill the prompt once,
// then one single-token pass per drawn token.
#include "strata/generate.h"

#include <string>

#include "strata/error.h"

namespace strata {

// The weights packed once, as every command packs them (Transformer::pack_weights: skipped
// past its size limit), in their stored type: a step runs the broadcast kernel on the
// panels (one row), not the dot-product tile with a horizontal sum per output, which took
// 86 % of a step and held decoding to ~500 tokens/s on one Zen 5 core.
Decoder::Decoder(std::shared_ptr<const Weights> weights) : model_(std::move(weights)), cache_(model_.config()) {
  model_.pack_weights();
}

std::span<const float> Decoder::prefill(std::span<const int32_t> tokens) {
  if (tokens.empty()) throw Error("decode: no tokens to prefill");
  const int last_row[] = {int(tokens.size()) - 1};
  return model_.forward(tokens, cache_, last_row);
}

std::span<const float> Decoder::step(int32_t token) { return prefill(std::span<const int32_t>(&token, 1)); }

std::vector<int32_t> generate(Decoder& decoder, std::span<const int32_t> prompt, int n, Sampler& sampler,
                              const TokenFn& on_token) {
  if (n < 0) throw Error("generate: the number of tokens must be >= 0, got " + std::to_string(n));
  if (prompt.empty()) throw Error("generate: the prompt has no tokens");
  const int64_t total = int64_t(decoder.length()) + int64_t(prompt.size()) + n;
  if (total > decoder.config().max_position_embeddings)
    throw Error("generate: " + (decoder.length() > 0 ? std::to_string(decoder.length()) + " tokens held + " : "") +
                std::to_string(prompt.size()) + " prompt tokens + " + std::to_string(n) +
                " new ones would pass the model's context of " + std::to_string(decoder.config().max_position_embeddings) +
                " tokens");
  std::vector<int32_t> drawn;
  std::span<const float> logits = decoder.prefill(prompt);
  for (int i = 0; i < n; ++i) {
    drawn.push_back(sampler.sample(logits));
    if (on_token && !on_token(drawn.back())) break;
    if (i + 1 < n) logits = decoder.step(drawn.back());
  }
  return drawn;
}

}  // namespace strata
