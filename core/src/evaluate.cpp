// Sliding-window held-out scoring.
#include "strata/evaluate.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "strata/backward.h"
#include "strata/error.h"

namespace strata {
namespace {

// The bytes of the text the scored tokens stand for. A token's bytes in the middle of a
// text are its token_text (" the" for "▁the", one byte for "<0xE2>"), which decoding one
// token alone does not give (a decoder strips a leading space, an incomplete UTF-8 byte
// becomes U+FFFD). The first token's bytes are what decoding the whole text gives beyond
// the others': a SentencePiece "▁Hello" at the start is "Hello".
int64_t bytes_scored(const Tokenizer& tok, std::span<const int32_t> tokens, bool first_scored) {
  int64_t rest = 0;
  for (size_t i = 1; i < tokens.size(); ++i) rest += int64_t(tok.token_text(tokens[i]).size());
  if (!first_scored) return rest;
  return std::max(rest, int64_t(tok.decode(tokens).size()));
}

}  // namespace

EvalResult evaluate(Transformer& model, const Tokenizer* tokenizer, std::span<const int32_t> tokens, int context,
                    int32_t bos_id, std::function<void(int64_t, int64_t)> progress) {
  const int max_context = model.config().max_position_embeddings;
  if (context < 2 || context > max_context)
    throw Error("evaluate: context must be in [2, " + std::to_string(max_context) + "] (the model's context), got " +
                std::to_string(context));
  if (bos_id >= model.config().vocab_size)
    throw Error("evaluate: BOS id " + std::to_string(bos_id) + " is outside the model's vocabulary");
  const int bos = bos_id >= 0 ? 1 : 0;
  // A BOS the ids already begin with is the one every window gets: never two.
  if (bos && !tokens.empty() && tokens.front() == bos_id) tokens = tokens.subspan(1);
  const int64_t n = int64_t(tokens.size());
  if (n < 2 - bos)
    throw Error(bos ? "evaluate: the text has no tokens after the BOS; nothing to score"
                  : "evaluate: the text has fewer than two tokens; nothing to score");
  const int64_t to_score = n - 1 + bos;  // targets 1-bos .. n-1
  const int T = int(std::min<int64_t>(context, to_score));
  EvalResult r;
  r.context = T;
  r.stride = std::max(1, T / 2);
  r.bos_id = bos ? bos_id : -1;

  // Window v: input rows t = 0..T-1 hold tokens[v+t] (row 0 the BOS instead, when on), and
  // row t predicts tokens[v+t+1], from first_row on. The first window starts at v = -bos.
  struct Window { int64_t v; int first_row; };
  std::vector<Window> windows{{-bos, 0}};
  for (int64_t scored_until = T - bos; scored_until < n - 1;) {  // targets up to scored_until are done
    const int64_t v = std::min(scored_until + r.stride - T, n - 1 - T);
    windows.push_back({v, int(scored_until - v)});
    scored_until = v + T;
  }

  const int V = model.config().vocab_size;
  const int kBatch = 8;
  std::vector<int32_t> batch_tokens, positions, targets;
  for (size_t w0 = 0; w0 < windows.size(); w0 += kBatch) {
    const int B = int(std::min<size_t>(kBatch, windows.size() - w0));
    batch_tokens.assign(size_t(B) * T, 0);
    positions.resize(batch_tokens.size());
    targets.assign(batch_tokens.size(), -1);
    for (int i = 0; i < B; ++i) {
      const Window& w = windows[w0 + size_t(i)];
      for (int t = 0; t < T; ++t) {
        const size_t row = size_t(i) * T + size_t(t);
        batch_tokens[row] = bos && t == 0 ? bos_id : tokens[size_t(w.v + t)];
        positions[row] = t;
        if (t >= w.first_row) targets[row] = tokens[size_t(w.v + t + 1)];
      }
    }
    auto logits = model.forward(batch_tokens, positions, B, T);
    r.total_bits += cross_entropy(logits.data(), targets.data(), B * T, V, nullptr, 1.0f) / std::log(2.0);
    r.tokens_scored += int64_t(std::count_if(targets.begin(), targets.end(), [](int32_t t) { return t >= 0; }));
    if (progress) progress(r.tokens_scored, to_score);
  }
  if (r.tokens_scored != to_score) throw Error("evaluate: internal error, scored tokens != tokens to score");
  if (tokenizer) {
    r.bytes_scored = bytes_scored(*tokenizer, tokens, /*first_scored=*/bos == 1);
    if (r.bytes_scored == 0) throw Error("evaluate: the scored tokens decode to zero bytes");
  }
  return r;
}

}  // namespace strata
