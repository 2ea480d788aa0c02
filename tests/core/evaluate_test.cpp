// Held-out scoring: a context-free model scores exactly log2(V) bits per token; every token
// after the first is scored exactly once, under the windows evaluate.h documents (slides of
// T/2, each scored token past the first window with at least T/2 tokens of context); bits
// per byte divide by the bytes of the text the scored tokens stand for; with a BOS, every
// window starts with it and the first token is scored too; bad input is refused with a
// message.
#include "strata/evaluate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "strata/error.h"

#include "fixtures.h"

namespace strata {
namespace {

// -log2 p(target | context) under the model, from one forward pass of the context alone.
double surprisal_bits(Transformer& model, std::span<const int32_t> context, int32_t target) {
  std::vector<int32_t> positions(context.size());
  for (size_t i = 0; i < positions.size(); ++i) positions[i] = int32_t(i);
  const int T = int(context.size());
  const std::vector<int> last{T - 1};
  const auto logits = model.forward(context, positions, 1, T, last);
  const int V = model.config().vocab_size;
  double mx = logits[0];
  for (int i = 1; i < V; ++i) mx = std::max(mx, double(logits[size_t(i)]));
  double sum = 0;
  for (int i = 0; i < V; ++i) sum += std::exp(double(logits[size_t(i)]) - mx);
  return (std::log(sum) + mx - double(logits[size_t(target)])) / std::log(2.0);
}

std::string eval_error(Transformer& model, std::span<const int32_t> tokens, int context) {
  try {
    evaluate(model, Tokenizer(), tokens, context);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "evaluate accepted " << tokens.size() << " tokens with context " << context;
  return "";
}

TEST(EvaluateTest, ContextFreeModelScoresLog2VocabularyBitsPerToken) {
  const ModelConfig c = fixtures::tiny_config(Tokenizer::kByteVocabSize);
  Transformer model(fixtures::context_free_weights(c, 3));
  for (int n : {2, 3, 40, 101}) {
    const auto tokens = fixtures::random_tokens(n, c.vocab_size, uint64_t(n));
    const EvalResult r = evaluate(model, Tokenizer(), tokens, c.max_position_embeddings);
    EXPECT_EQ(r.tokens_scored, n - 1) << "n=" << n;
    EXPECT_NEAR(r.bits_per_token(), std::log2(double(c.vocab_size)), 1e-12) << "n=" << n;
    EXPECT_NEAR(r.total_bits, (n - 1) * std::log2(double(c.vocab_size)), 1e-9) << "n=" << n;
    // Byte-level tokens are one byte each.
    EXPECT_EQ(r.bytes_scored, n - 1);
    EXPECT_DOUBLE_EQ(r.bits_per_byte(), r.bits_per_token());
  }
}

// A bigram model gives each target its own surprisal, independent of the window, so the
// total is the sum over targets 1..n-1 exactly when each is scored once: a target skipped
// or scored twice moves it by a whole term.
TEST(EvaluateTest, EveryTokenAfterTheFirstIsScoredExactlyOnce) {
  const ModelConfig c = fixtures::tiny_config(Tokenizer::kByteVocabSize);
  Transformer model(fixtures::bigram_weights(c, 5));
  for (int n : {2, 9, 33, 34, 100, 257}) {
    const auto tokens = fixtures::random_tokens(n, c.vocab_size, uint64_t(n));
    double expected = 0;
    for (int t = 1; t < n; ++t)
      expected += surprisal_bits(model, std::span(tokens).subspan(size_t(t) - 1, 1), tokens[size_t(t)]);
    for (int context : {2, 3, 8, 17, 32}) {
      std::vector<int64_t> reported;
      const EvalResult r = evaluate(model, Tokenizer(), tokens, context,
                                    [&](int64_t done, int64_t total) {
                                      EXPECT_EQ(total, n - 1);
                                      reported.push_back(done);
                                    });
      EXPECT_EQ(r.tokens_scored, n - 1) << "n=" << n << " context=" << context;
      EXPECT_NEAR(r.total_bits, expected, 1e-5 * expected) << "n=" << n << " context=" << context;
      ASSERT_FALSE(reported.empty());
      EXPECT_TRUE(std::is_sorted(reported.begin(), reported.end()));
      EXPECT_EQ(reported.back(), n - 1);
    }
  }
}

// The windows of evaluate.h written out by hand for 20 tokens and a context of 8 (stride
// 4): [0, 8) scores targets 1..8, [4, 12) targets 9..12, [8, 16) targets 13..16, and the
// last window is pulled back to end at the text, [11, 19), scoring targets 17..19. With a
// model that does read its context, the total is the sum of each target's surprisal
// under exactly its window's tokens before it.
TEST(EvaluateTest, WindowsSlideByHalfTheContextAndTheLastEndsAtTheText) {
  const ModelConfig c = fixtures::tiny_config(Tokenizer::kByteVocabSize);
  Transformer model(fixtures::random_weights(c, 11));
  const auto tokens = fixtures::random_tokens(20, c.vocab_size, 12);
  const auto window_start = [](int target) { return target <= 8 ? 0 : target <= 12 ? 4 : target <= 16 ? 8 : 11; };
  double expected = 0, full_context = 0;
  for (int t = 1; t < 20; ++t) {
    const int s = window_start(t);
    EXPECT_TRUE(t <= 8 || t - s >= 4) << "target " << t << " has fewer than T/2 tokens of context";
    expected += surprisal_bits(model, std::span(tokens).subspan(size_t(s), size_t(t - s)), tokens[size_t(t)]);
    const int f = std::max(0, t - 8);  // the other natural rule: always the full T tokens
    full_context += surprisal_bits(model, std::span(tokens).subspan(size_t(f), size_t(t - f)), tokens[size_t(t)]);
  }
  const EvalResult r = evaluate(model, Tokenizer(), tokens, 8);
  EXPECT_EQ(r.context, 8);
  EXPECT_EQ(r.stride, 4);
  EXPECT_EQ(r.tokens_scored, 19);
  EXPECT_NEAR(r.total_bits, expected, 1e-5 * expected);
  // The check can tell the windows apart: full-context windows give another total.
  EXPECT_GT(std::abs(full_context - expected), 1e-3 * expected);
}

TEST(EvaluateTest, ContextIsClampedToTheTextAndStrideIsHalfOfIt) {
  const ModelConfig c = fixtures::tiny_config(Tokenizer::kByteVocabSize);
  Transformer model(fixtures::context_free_weights(c, 3));
  struct Case { int n, context, want_context, want_stride; };
  for (Case k : {Case{2, 32, 1, 1}, Case{3, 32, 2, 1}, Case{10, 32, 9, 4}, Case{100, 32, 32, 16},
                 Case{100, 2, 2, 1}, Case{100, 3, 3, 1}, Case{100, 17, 17, 8}}) {
    const EvalResult r = evaluate(model, Tokenizer(), fixtures::random_tokens(k.n, c.vocab_size, 1), k.context);
    EXPECT_EQ(r.context, k.want_context) << "n=" << k.n << " context=" << k.context;
    EXPECT_EQ(r.stride, k.want_stride) << "n=" << k.n << " context=" << k.context;
    EXPECT_EQ(r.tokens_scored, k.n - 1);
  }
}

// With a BPE tokenizer, bits per byte divide by the bytes of the scored tokens: every
// token but the first.
TEST(EvaluateTest, BitsPerByteCountTheBytesOfTheScoredTokens) {
  const std::string text =
      "It is a capital mistake to theorize before one has data. Insensibly one begins to twist "
      "facts to suit theories, instead of theories to suit facts. It is a capital mistake.";
  const Tokenizer tok = Tokenizer::train(text, 300);
  const std::vector<int32_t> tokens = tok.encode(text);
  ASSERT_LT(tokens.size(), text.size());  // some tokens are longer than a byte
  const ModelConfig c = fixtures::tiny_config(tok.vocab_size());
  Transformer model(fixtures::context_free_weights(c, 3));
  const EvalResult r = evaluate(model, tok, tokens, c.max_position_embeddings);
  const int64_t first_bytes = int64_t(tok.decode(std::span(tokens).first(1)).size());
  EXPECT_EQ(r.bytes_scored, int64_t(text.size()) - first_bytes);
  EXPECT_EQ(r.tokens_scored, int64_t(tokens.size()) - 1);
  EXPECT_NEAR(r.bits_per_byte(), double(r.tokens_scored) * std::log2(double(c.vocab_size)) / double(r.bytes_scored),
              1e-12);
}

// With a BOS, the windows of the test above hold the BOS and 7 tokens: [BOS, 0..7) scores
// targets 0..7 (target 0 from the BOS alone), then [BOS, 4..11) targets 8..11, [BOS, 8..15)
// 12..15, [BOS, 12..19) 16..19. Ids that begin with the BOS give the same figures (it is
// that BOS, not a second one, and it is not scored).
TEST(EvaluateTest, WithBosEveryWindowStartsWithItAndTheFirstTokenIsScored) {
  const ModelConfig c = fixtures::tiny_config(Tokenizer::kByteVocabSize);
  Transformer model(fixtures::random_weights(c, 11));
  const int32_t bos = c.vocab_size - 1;
  const auto tokens = fixtures::random_tokens(20, c.vocab_size - 1, 12);  // no BOS among them
  const auto window_start = [](int target) { return target <= 7 ? 0 : target <= 11 ? 4 : target <= 15 ? 8 : 12; };
  double expected = 0;
  for (int t = 0; t < 20; ++t) {
    std::vector<int32_t> context{bos};
    for (int i = window_start(t); i < t; ++i) context.push_back(tokens[size_t(i)]);
    expected += surprisal_bits(model, context, tokens[size_t(t)]);
  }
  std::vector<int32_t> with_own_bos{bos};
  with_own_bos.insert(with_own_bos.end(), tokens.begin(), tokens.end());
  for (const auto& ids : {tokens, with_own_bos}) {
    const EvalResult r = evaluate(model, nullptr, ids, 8, bos);
    EXPECT_EQ(r.context, 8);
    EXPECT_EQ(r.stride, 4);
    EXPECT_EQ(r.bos_id, bos);
    EXPECT_EQ(r.tokens_scored, 20);
    EXPECT_EQ(r.bytes_scored, 0);  // no tokenizer
    EXPECT_NEAR(r.total_bits, expected, 1e-5 * expected) << "ids " << ids.size();
  }
  // One token is enough with a BOS; none is not.
  EXPECT_EQ(evaluate(model, nullptr, std::span(tokens).first(1), 8, bos).tokens_scored, 1);
  EXPECT_NE(fixtures::error_of([&] { evaluate(model, nullptr, std::span(with_own_bos).first(1), 8, bos); })
                .find("no tokens after the BOS"),
            std::string::npos);
}

// A SentencePiece tokenizer: "▁ab" decoded alone is "ab" and a byte-fallback byte alone is
// U+FFFD, so per-token decoding miscounts; the bytes of the scored text are the text's
// bytes after the first token's (all of them with a BOS).
TEST(EvaluateTest, BitsPerByteCountTheTextNotTheTokensDecodedAlone) {
  const Tokenizer tok = Tokenizer::from_json(fixtures::spm_tokenizer().dump());
  const std::string text = "ab cab  c\xC3\xA9 ab\nabc \xE2\x82";
  const std::vector<int32_t> tokens = tok.encode(text);
  ASSERT_EQ(tok.decode(tokens), text);
  int64_t decoded_alone = 0;
  for (int32_t t : tokens) decoded_alone += int64_t(tok.decode(std::span(&t, 1)).size());
  ASSERT_NE(decoded_alone, int64_t(text.size()));  // the old count would be wrong here
  const ModelConfig c = fixtures::tiny_config(tok.vocab_size());
  Transformer model(fixtures::context_free_weights(c, 3));
  const EvalResult r = evaluate(model, tok, tokens, c.max_position_embeddings);
  ASSERT_EQ(tokens[0], 6);  // "▁ab", the text's "ab" at its start
  EXPECT_EQ(r.bytes_scored, int64_t(text.size()) - 2);
  const EvalResult with_bos = evaluate(model, &tok, tokens, c.max_position_embeddings, tok.bos_id());
  EXPECT_EQ(with_bos.bytes_scored, int64_t(text.size()));
  EXPECT_EQ(with_bos.tokens_scored, int64_t(tokens.size()));
}

TEST(EvaluateTest, RefusesTooFewTokensAndAContextOutOfRange) {
  const ModelConfig c = fixtures::tiny_config(Tokenizer::kByteVocabSize);  // context 32
  Transformer model(fixtures::context_free_weights(c, 3));
  const auto tokens = fixtures::random_tokens(50, c.vocab_size, 1);
  EXPECT_NE(eval_error(model, {}, 8).find("fewer than two tokens"), std::string::npos);
  EXPECT_NE(eval_error(model, std::span(tokens).first(1), 8).find("fewer than two tokens"), std::string::npos);
  for (int context : {-5, -1, 0, 1, 33})
    EXPECT_NE(eval_error(model, tokens, context).find("context must be in [2, 32] (the model's context), got " +
                                                      std::to_string(context)),
              std::string::npos)
        << "context=" << context;
}

}  // namespace
}  // namespace strata
