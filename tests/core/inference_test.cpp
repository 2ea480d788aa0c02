// Iterative inference: the engine feeds exactly the schedule's context sets (checked
// against direct forward passes), records surprisal, rank, top-k and compute, handles the
// empty-context iteration, and refuses bad input. A model that ignores its context gives
// log2 V bits at every iteration.
#include "strata/inference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "strata/error.h"

#include "fixtures.h"

namespace strata {
namespace {

using fixtures::random_tokens;

ModelConfig tiny_config() { return fixtures::tiny_config(64); }
std::shared_ptr<Weights> random_weights(uint64_t seed) { return fixtures::random_weights(tiny_config(), seed); }

// The log-distribution the model gives after the context set, computed directly.
std::vector<float> direct_log_probs(Transformer& m, const std::vector<int32_t>& tokens, const ContextSet& c) {
  std::vector<int32_t> in;
  for (int64_t p : c.positions) in.push_back(tokens[size_t(p)]);
  const int n = int(in.size());
  const auto logits = m.forward(in, c.position_ids, 1, n, std::vector<int>{n - 1});
  std::vector<float> lp(logits.size());
  log_softmax(logits, lp);
  return lp;
}

std::vector<int64_t> positions(std::initializer_list<int64_t> p) { return p; }

TEST(InferenceTest, EngineFeedsTheScheduleContexts) {
  auto w = random_weights(1);
  Transformer model(w);
  const auto tokens = random_tokens(40, 64, 2);
  const int64_t t = 20;
  // The expected context sets for L = 8, written out.
  const std::vector<std::pair<std::string, std::vector<std::vector<int64_t>>>> cases = {
      {"hierarchical", {positions({19}), positions({18, 19}), positions({16, 17, 18, 19}), positions({12, 13, 14, 15, 16, 17, 18, 19})}},
      {"dilated", {positions({19}), positions({18, 19}), positions({16, 18, 19}), positions({12, 16, 18, 19})}},
      {"custom:[2,{\"offsets\":[1,5]},8]", {positions({18, 19}), positions({15, 19}), positions({12, 13, 14, 15, 16, 17, 18, 19})}},
  };
  for (const auto& [spec, expected] : cases) {
    SCOPED_TRACE(spec);
    std::shared_ptr<const Schedule> s = make_schedule(spec);
    IterativeInference run(model, tokens, t, s, 8, {.top_k = 3, .keep_log_probs = true});
    run.run_all();
    ASSERT_EQ(run.history().size(), expected.size());
    for (size_t k = 0; k < expected.size(); ++k) {
      const IterationResult& r = run.history()[k];
      EXPECT_EQ(r.iteration, int(k));
      EXPECT_EQ(r.context.positions, expected[k]);
      // What the engine fed is what the schedule says: its distribution equals a direct pass.
      const auto lp = direct_log_probs(model, tokens, r.context);
      ASSERT_EQ(r.log_probs.size(), lp.size());
      for (size_t v = 0; v < lp.size(); ++v) EXPECT_NEAR(r.log_probs[v], lp[v], 1e-6f);
    }
  }
  // Sequential: C_k = {t-k … t-1}, position ids 0 … k-1.
  std::shared_ptr<const Schedule> seq = make_schedule("sequential");
  IterativeInference run(model, tokens, t, seq, 8, {.keep_log_probs = true});
  run.run_all();
  ASSERT_EQ(run.history().size(), 8u);
  for (int k = 1; k <= 8; ++k) {
    const ContextSet& c = run.history()[size_t(k - 1)].context;
    ASSERT_EQ(c.size(), k);
    EXPECT_EQ(c.positions.front(), t - k);
    EXPECT_EQ(c.positions.back(), t - 1);
    EXPECT_EQ(c.position_ids.front(), 0);
    EXPECT_EQ(c.position_ids.back(), k - 1);
  }
}

TEST(InferenceTest, RecordsSurprisalRankTopKAndCompute) {
  auto w = random_weights(3);
  Transformer model(w);
  const auto tokens = random_tokens(30, 64, 4);
  std::shared_ptr<const Schedule> s = make_schedule("hierarchical");
  IterativeInference run(model, tokens, 17, s, 16, {.top_k = 4, .keep_log_probs = true});
  EXPECT_EQ(run.iterations(), 5);
  EXPECT_EQ(run.target_token(), tokens[17]);
  int64_t forwards = 0;
  double flops = 0;
  while (!run.done()) {
    const IterationResult& r = run.step();
    const float lp = r.log_probs[size_t(tokens[17])];
    EXPECT_NEAR(r.surprisal_bits, -lp / std::log(2.0), 1e-9);
    EXPECT_NEAR(r.target_probability, std::exp(double(lp)), 1e-9);
    int above = 0;
    for (float x : r.log_probs) above += x > lp;
    EXPECT_EQ(r.target_rank, 1 + above);
    ASSERT_EQ(r.top.size(), 4u);
    for (size_t i = 1; i < r.top.size(); ++i) EXPECT_GE(r.top[i - 1].probability, r.top[i].probability);
    EXPECT_NEAR(r.top[0].probability, std::exp(*std::max_element(r.log_probs.begin(), r.log_probs.end())), 1e-6);
    forwards += r.context.size();
    flops += Transformer::forward_flops(w->config, r.context.size());
    EXPECT_EQ(r.token_forwards, r.context.size());
    EXPECT_EQ(r.cumulative_token_forwards, forwards);
    EXPECT_DOUBLE_EQ(r.cumulative_flops, flops);
    EXPECT_GE(r.cumulative_seconds, r.seconds);
  }
  EXPECT_EQ(forwards, 1 + 2 + 4 + 8 + 16);
  EXPECT_THROW(run.step(), Error);
  run.reset();
  EXPECT_FALSE(run.done());
  EXPECT_EQ(run.step().iteration, 0);
}

TEST(InferenceTest, EmptyContextIterationFeedsBos) {
  auto w = random_weights(6);
  Transformer model(w);
  const auto tokens = random_tokens(20, 64, 7);
  std::shared_ptr<const Schedule> s = make_schedule("sequential");
  const int32_t bos = 63;
  IterativeInference run(model, tokens, 10, s, 4, {.keep_log_probs = true, .with_empty = true, .bos_id = bos});
  ASSERT_EQ(run.iterations(), 5);
  const IterationResult& r = run.step();
  EXPECT_TRUE(r.context.empty());
  EXPECT_EQ(r.token_forwards, 1);
  const auto logits = model.forward(std::vector<int32_t>{bos}, std::vector<int32_t>{0}, 1, 1);
  std::vector<float> lp(logits.size());
  log_softmax(logits, lp);
  for (size_t v = 0; v < lp.size(); ++v) EXPECT_NEAR(r.log_probs[v], lp[v], 1e-6f);
  EXPECT_EQ(run.step().context.size(), 1);
  // Without a BOS token the empty iteration is refused.
  EXPECT_THROW(IterativeInference(model, tokens, 10, s, 4, {.with_empty = true}), Error);
}

// BOS on: every context is the BOS at position 0 and then the window at positions 1, 2, ...;
// a window that already begins with the text's own BOS gets no second one; with_empty is
// still the BOS alone; and a budget filling the model's context no longer fits.
TEST(InferenceTest, BosBeforeEveryContextAtPositionZero) {
  auto w = random_weights(6);
  Transformer model(w);
  const int32_t bos = 63;
  auto tokens = random_tokens(20, 63, 7);  // no BOS among them
  std::shared_ptr<const Schedule> s = make_schedule("sequential");
  auto with_bos = [&](const std::vector<int32_t>& text, const ContextSet& c, bool prepend) {
    ContextSet fed;
    std::vector<int32_t> in;
    if (prepend) in.push_back(bos), fed.position_ids.push_back(0);
    for (size_t i = 0; i < c.positions.size(); ++i) {
      in.push_back(text[size_t(c.positions[i])]);
      fed.position_ids.push_back(c.position_ids[i] + (prepend ? 1 : 0));
    }
    const int n = int(in.size());
    const auto logits = model.forward(in, fed.position_ids, 1, n, std::vector<int>{n - 1});
    std::vector<float> lp(logits.size());
    log_softmax(logits, lp);
    return lp;
  };
  IterativeInference run(model, tokens, 10, s, 4, {.keep_log_probs = true, .with_empty = true, .bos = true, .bos_id = bos});
  run.run_all();
  ASSERT_EQ(run.iterations(), 5);
  EXPECT_EQ(run.history()[0].token_forwards, 1);  // the empty iteration: the BOS alone, never two
  for (int k = 1; k < 5; ++k) {
    const IterationResult& r = run.history()[size_t(k)];
    EXPECT_EQ(r.context.size(), k);  // |C_k| counts the window only
    EXPECT_EQ(r.token_forwards, k + 1);
    const auto lp = with_bos(tokens, r.context, true);
    for (size_t v = 0; v < lp.size(); ++v) ASSERT_NEAR(r.log_probs[v], lp[v], 1e-5f) << "k=" << k;
    // The check can tell: the window without the BOS gives another distribution.
    const auto plain = direct_log_probs(model, tokens, r.context);
    EXPECT_GT(std::abs(plain[size_t(tokens[10])] - r.log_probs[size_t(tokens[10])]), 1e-4f) << "k=" << k;
  }
  // A text that begins with the BOS: the window reaching it is fed as it is.
  tokens[0] = bos;
  IterativeInference own(model, tokens, 4, s, 4, {.keep_log_probs = true, .bos = true, .bos_id = bos});
  own.run_all();
  const IterationResult& last = own.history().back();
  ASSERT_EQ(last.context.positions.front(), 0);
  EXPECT_EQ(last.token_forwards, 4);
  const auto lp = with_bos(tokens, last.context, false);
  for (size_t v = 0; v < lp.size(); ++v) ASSERT_NEAR(last.log_probs[v], lp[v], 1e-5f);
  // L + 1 positions must fit the model's context of 32; a BOS must be in the vocabulary.
  const auto long_text = random_tokens(40, 63, 8);
  EXPECT_NO_THROW(IterativeInference(model, long_text, 39, s, 31, {.bos = true, .bos_id = bos}));
  EXPECT_NE(fixtures::error_of([&] { IterativeInference(model, long_text, 39, s, 32, {.bos = true, .bos_id = bos}); })
                .find("with BOS at position 0, budget L=32 needs 33 positions"),
            std::string::npos);
  EXPECT_NE(fixtures::error_of([&] { IterativeInference(model, long_text, 39, s, 8, {.bos = true}); })
                .find("BOS before every context needs a BOS token"),
            std::string::npos);
}

TEST(InferenceTest, ContextFreeModelIsUniformAtEveryIteration) {
  auto w = fixtures::context_free_weights(tiny_config(), 5);
  Transformer model(w);
  const auto tokens = random_tokens(40, 64, 8);
  for (const char* spec : {"sequential", "hierarchical", "dilated"}) {
    std::shared_ptr<const Schedule> s = make_schedule(spec);
    IterativeInference run(model, tokens, 25, s, 16, {.top_k = 2});
    run.run_all();
    for (const IterationResult& r : run.history()) {
      EXPECT_NEAR(r.surprisal_bits, 6.0, 1e-5);  // log2 64
      EXPECT_NEAR(r.top[0].probability, 1.0 / 64, 1e-7);
      EXPECT_EQ(r.target_rank, 1);  // every token ties, ties go to the target
    }
  }
}

TEST(InferenceTest, RefusesBadInput) {
  auto w = random_weights(9);
  Transformer model(w);
  const auto tokens = random_tokens(40, 64, 10);
  std::shared_ptr<const Schedule> seq = make_schedule("sequential");
  std::shared_ptr<const Schedule> hier = make_schedule("hierarchical");
  EXPECT_THROW(IterativeInference(model, tokens, 40, seq, 8), Error);   // target outside the text
  EXPECT_THROW(IterativeInference(model, tokens, -1, seq, 8), Error);
  EXPECT_THROW(IterativeInference(model, tokens, 5, seq, 8), Error);    // t < L
  EXPECT_THROW(IterativeInference(model, tokens, 39, seq, 33), Error);  // L > the model's context (32)
  EXPECT_THROW(IterativeInference(model, tokens, 39, seq, 0), Error);
  EXPECT_THROW(IterativeInference(model, tokens, 39, hier, 12), Error);  // not a power of 2
  EXPECT_THROW(IterativeInference(model, tokens, 39, nullptr, 8), Error);
}

}  // namespace
}  // namespace strata
