// Held-out scoring: bits per token and bits per byte of a text under a model. Every token
// after the first is scored exactly once. Windows of the model's context T slide by a
// stride of T/2; the first window scores all its positions, later ones only their last
// T/2 positions, so each scored token (past the first window) has at least T/2 tokens of
// context. bits per byte = total bits / bytes of the scored tokens.
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
  int context = 0;
  int stride = 0;
  double bits_per_token() const { return total_bits / double(tokens_scored); }
  double bits_per_byte() const { return total_bits / double(bytes_scored); }
};

// progress(tokens scored so far, tokens to score). Without a tokenizer (ids scored on their
// own) no bytes are counted: bytes_scored stays 0 and only bits_per_token is meaningful.
EvalResult evaluate(Transformer& model, const Tokenizer* tokenizer, std::span<const int32_t> tokens,
                    int context, std::function<void(int64_t, int64_t)> progress = {});
inline EvalResult evaluate(Transformer& model, const Tokenizer& tokenizer, std::span<const int32_t> tokens,
                           int context, std::function<void(int64_t, int64_t)> progress = {}) {
  return evaluate(model, &tokenizer, tokens, context, std::move(progress));
}

}  // namespace strata
