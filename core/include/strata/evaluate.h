// Held-out scoring: bits per token and bits per byte of a text under a model. Every token
// after the first is scored exactly once. Windows of the model's context T slide by a
// stride of T/2; the first window scores all its positions, later ones only their last
// T/2 positions, so each scored token (past the first window) has at least T/2 tokens of
// context. bits per byte = total bits / bytes of the text the scored tokens stand for
// (each token's bytes in the middle of the text, Tokenizer::token_text; not its id).
//
// With a BOS (bos_id >= 0), every window is the BOS at position 0 followed by T-1 tokens,
// and the first token is scored too (predicted from the BOS alone): n tokens are scored,
// not n-1, and the bytes are the whole text's. Ids that already begin with the BOS keep
// it as that BOS (never two), and it is not scored.
#pragma once
#include <cstdint>
#include <functional>
#include <span>

#include "strata/model.h"
#include "strata/tokenizer.h"

namespace strata {

struct EvalResult {
  double total_bits = 0;
  int64_t tokens_scored = 0;
  int64_t bytes_scored = 0;
  int context = 0;       // T, the window's length in tokens (the BOS included)
  int stride = 0;
  int32_t bos_id = -1;   // the BOS every window began with, or -1
  double bits_per_token() const { return total_bits / double(tokens_scored); }
  double bits_per_byte() const { return total_bits / double(bytes_scored); }
};

// progress(tokens scored so far, tokens to score). Without a tokenizer (ids scored on their
// own) no bytes are counted: bytes_scored stays 0 and only bits_per_token is meaningful.
// context: T in [2, the model's context], clamped to the tokens to score; else strata::Error.
EvalResult evaluate(Transformer& model, const Tokenizer* tokenizer, std::span<const int32_t> tokens,
                    int context, int32_t bos_id, std::function<void(int64_t, int64_t)> progress = {});
inline EvalResult evaluate(Transformer& model, const Tokenizer& tokenizer, std::span<const int32_t> tokens,
                           int context, std::function<void(int64_t, int64_t)> progress = {}) {
  return evaluate(model, &tokenizer, tokens, context, /*bos_id=*/-1, std::move(progress));
}

}  // namespace strata
