// Sliding-window held-out scoring.
#include "strata/evaluate.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "strata/backward.h"
#include "strata/error.h"

namespace strata {

EvalResult evaluate(Transformer& model, const Tokenizer* tokenizer, std::span<const int32_t> tokens,
                    int context, std::function<void(int64_t, int64_t)> progress) {
  const int64_t n = int64_t(tokens.size());
  if (n < 2) throw Error("evaluate: the text has fewer than two tokens; nothing to score");
  if (context < 2 || context > model.config().max_position_embeddings)
    throw Error("evaluate: context must be in [2, " + std::to_string(model.config().max_position_embeddings) + "]");
  const int T = int(std::min<int64_t>(context, n - 1));
  EvalResult r;
  r.context = T;
  r.stride = std::max(1, T / 2);

  // Windows (start, first row to score): targets are tokens[start+row+1].
  struct Window { int64_t start; int first_row; };
  std::vector<Window> windows{{0, 0}};
  for (int64_t scored_until = T; scored_until < n - 1;) {  // targets 1..scored_until are done
    const int64_t start = std::min(scored_until + r.stride - T, n - 1 - T);
    windows.push_back({start, int(scored_until - start)});
    scored_until = start + T;
  }

  const int V = model.config().vocab_size;
  const int kBatch = 8;
  std::vector<int32_t> batch_tokens, positions, targets;
  const int64_t to_score = n - 1;
  for (size_t w0 = 0; w0 < windows.size(); w0 += kBatch) {
    const int B = int(std::min<size_t>(kBatch, windows.size() - w0));
    batch_tokens.assign(size_t(B) * T, 0);
    positions.resize(batch_tokens.size());
    targets.assign(batch_tokens.size(), -1);
    for (int b = 0; b < B; ++b) {
      const Window& w = windows[w0 + size_t(b)];
      for (int t = 0; t < T; ++t) {
        batch_tokens[size_t(b) * T + t] = tokens[size_t(w.start + t)];
        positions[size_t(b) * T + t] = t;
        if (t >= w.first_row) targets[size_t(b) * T + t] = tokens[size_t(w.start + t + 1)];
      }
    }
    auto logits = model.forward(batch_tokens, positions, B, T);
    r.total_bits += cross_entropy(logits.data(), targets.data(), B * T, V, nullptr, 1.0f) / std::log(2.0);
    for (int32_t t : targets)
      if (t >= 0) {
        ++r.tokens_scored;
        if (tokenizer) r.bytes_scored += int64_t(tokenizer->decode(std::span<const int32_t>(&t, 1)).size());
      }
    if (progress) progress(r.tokens_scored, to_score);
  }
  if (r.tokens_scored != to_score) throw Error("evaluate: internal error, scored tokens != n-1");
  if (tokenizer && r.bytes_scored == 0) throw Error("evaluate: the scored tokens decode to zero bytes");
  return r;
}

}  // namespace strata
