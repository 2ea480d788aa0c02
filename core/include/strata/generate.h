// Text generation with a KV cache: a Decoder continues one sequence token by token, each
// step a forward pass over the new token alone (its keys and values join the cache), and
// generate() draws a continuation of a prompt with a Sampler (sampling.h). The native CLI
// (`strata generate`) and the web page both call this.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "strata/kv_cache.h"
#include "strata/model.h"
#include "strata/sampling.h"

namespace strata {

class Decoder {
 public:
  explicit Decoder(std::shared_ptr<const Weights> weights);

  const ModelConfig& config() const { return model_.config(); }
  const KVCache& cache() const { return cache_; }
  int length() const { return cache_.length(); }  // tokens seen: the next one's position

  // Appends tokens (positions continue from length()) and returns the logits (vocab) of
  // the token after the last of them, valid until the next call. Throws strata::Error on
  // no tokens, a token outside the vocabulary, or passing the model's context.
  std::span<const float> prefill(std::span<const int32_t> tokens);
  // prefill of one token: a decoding step.
  std::span<const float> step(int32_t token);
  // Forgets every token after the first n (0: all of them).
  void truncate(int n) { cache_.truncate(n); }

 private:
  Transformer model_;
  KVCache cache_;
};

// Called with each generated token as it is drawn; returning false stops generation.
using TokenFn = std::function<bool(int32_t token)>;

// Prefills `prompt` (non-empty) and draws up to n tokens after it, each from the logits of
// the one before, handing each to on_token. Returns the tokens drawn. The cache ends holding
// the prompt and every drawn token but the last (whose logits nobody asked for). Throws
// strata::Error before any work when the tokens already held + prompt + n would pass the
// model's context.
std::vector<int32_t> generate(Decoder& decoder, std::span<const int32_t> prompt, int n, Sampler& sampler,
                              const TokenFn& on_token = {});

}  // namespace strata
