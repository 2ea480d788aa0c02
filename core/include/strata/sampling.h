// Choosing the next token from its logits: greedy (temperature 0) or a draw at a
// temperature from the top-k and/or nucleus (top-p) set. The random numbers come from an
// RNG of strata's own (xoshiro256**, seeded through splitmix64), not the standard
// library's distributions, so one seed gives the same tokens on every platform and build.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace strata {

struct SamplingOptions {
  float temperature = 1.0f;  // logits / temperature before the softmax; 0 is greedy
  int top_k = 0;             // keep the k most likely tokens; 0 keeps all
  float top_p = 1.0f;        // keep the fewest most likely tokens whose probability reaches p, in (0, 1]
  uint64_t seed = 0;
};
// Throws strata::Error naming the option: temperature < 0 (or not a number), top_k < 0,
// top_p outside (0, 1].
void validate(const SamplingOptions& o);

// xoshiro256** (Blackman and Vigna), its state filled by splitmix64 from the seed.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  double uniform();  // in [0, 1), 53 random bits

 private:
  uint64_t s_[4];
};

// The most likely token: the lowest id among equal logits.
int32_t argmax(std::span<const float> logits);

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& o);  // validates o
  const SamplingOptions& options() const { return options_; }

  // The next token. Greedy consumes no random numbers; a draw consumes one.
  int32_t sample(std::span<const float> logits);
  // The probabilities sample() draws from (vocab): softmax(logits / temperature) over the
  // kept tokens, renormalised, 0 elsewhere; one-hot at the argmax when greedy. Ties in
  // the top-k and top-p orders go to the lower id.
  std::vector<double> distribution(std::span<const float> logits) const;

 private:
  // The kept tokens, most likely first, and their renormalised probabilities.
  void keep(std::span<const float> logits, std::vector<int32_t>& ids, std::vector<double>& probs) const;
  SamplingOptions options_;
  Rng rng_;
  std::vector<int32_t> ids_;    // (vocab) scratch of sample()
  std::vector<double> probs_;
};

}  // namespace strata
