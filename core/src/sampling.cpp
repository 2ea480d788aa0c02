// The sampler: top-k by a partial sort, softmax at the temperature in double, the nucleus
// cut on the sorted probabilities, then one uniform draw walked through the kept mass.
#include "strata/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "strata/error.h"

namespace strata {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

void validate(const SamplingOptions& o) {
  if (!(o.temperature >= 0.0f) || std::isinf(o.temperature))
    throw Error("sampling: temperature must be a finite number >= 0 (0 is greedy), got " + std::to_string(o.temperature));
  if (o.top_k < 0) throw Error("sampling: top-k must be >= 0 (0 keeps every token), got " + std::to_string(o.top_k));
  if (!(o.top_p > 0.0f && o.top_p <= 1.0f))
    throw Error("sampling: top-p must be in (0, 1], got " + std::to_string(o.top_p));
}

Rng::Rng(uint64_t seed) {
  for (uint64_t& s : s_) s = splitmix64(seed);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return double(next() >> 11) * 0x1.0p-53; }

int32_t argmax(std::span<const float> logits) {
  if (logits.empty()) throw Error("argmax: no logits");
  return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());  // the first of equals
}

Sampler::Sampler(const SamplingOptions& o) : options_(o), rng_(o.seed) { validate(o); }

void Sampler::keep(std::span<const float> logits, std::vector<int32_t>& ids, std::vector<double>& probs) const {
  const int V = int(logits.size());
  ids.resize(size_t(V));
  std::iota(ids.begin(), ids.end(), 0);
  auto more_likely = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  const bool nucleus = options_.top_p < 1.0f;
  const int k = options_.top_k > 0 ? std::min(options_.top_k, V) : V;
  if (k < V || nucleus) {  // the nucleus needs the kept tokens in order
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), more_likely);
    ids.resize(size_t(k));
  }
  float top = -INFINITY;
  for (int32_t id : ids) top = std::max(top, logits[id]);
  probs.resize(ids.size());
  double total = 0;
  for (size_t i = 0; i < ids.size(); ++i)
    total += probs[i] = std::exp((double(logits[ids[i]]) - top) / options_.temperature);
  if (nucleus) {
    double mass = 0;
    size_t n = 0;
    while (n < probs.size() && mass < double(options_.top_p) * total) mass += probs[n++];
    ids.resize(n);
    probs.resize(n);
    total = mass;
  }
  for (double& p : probs) p /= total;
}

std::vector<double> Sampler::distribution(std::span<const float> logits) const {
  std::vector<double> dist(logits.size(), 0.0);
  if (options_.temperature == 0.0f) {
    dist[size_t(argmax(logits))] = 1.0;
    return dist;
  }
  std::vector<int32_t> ids;
  std::vector<double> probs;
  keep(logits, ids, probs);
  for (size_t i = 0; i < ids.size(); ++i) dist[size_t(ids[i])] = probs[i];
  return dist;
}

int32_t Sampler::sample(std::span<const float> logits) {
  if (logits.empty()) throw Error("sampling: no logits");
  if (options_.temperature == 0.0f) return argmax(logits);
  keep(logits, ids_, probs_);
  double u = rng_.uniform();
  for (size_t i = 0; i + 1 < ids_.size(); ++i) {
    if (u < probs_[i]) return ids_[i];
    u -= probs_[i];
  }
  return ids_.back();  // what rounding leaves of u lands on the last kept token
}

}  // namespace strata
