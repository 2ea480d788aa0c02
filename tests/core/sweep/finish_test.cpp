// The Gram matrix from hidden states against the vocabulary form: an update's coordinates
// y = R·(δh, δlse) have the dot products of u = log p_b − log p_a over the vocabulary; a
// sweep's Gram matrices agree in both forms, on either path, for a tiny model and for the
// default model on the Adventures.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "../../../core/src/sweep/engine.h"
#include "../fixtures.h"
#include "strata/error.h"
#include "strata/model_dir.h"
#include "strata/sweep.h"

namespace strata {
namespace {

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

void expect_same_gram(const StreamingGram& a, const StreamingGram& b, double tolerance) {
  ASSERT_EQ(a.columns(), b.columns());
  EXPECT_EQ(a.targets(), b.targets());
  const double scale = max_abs(a.gram());
  ASSERT_GT(scale, 0);
  double worst = 0;
  for (size_t i = 0; i < a.gram().size(); ++i) worst = std::max(worst, std::fabs(a.gram()[i] - b.gram()[i]) / scale);
  EXPECT_LE(worst, tolerance);
}

TEST(UpdateFormTest, HiddenCoordinatesHaveTheVocabularyDotProducts) {
  // Random final states and log-sum-exps: ⟨y_i, y_j⟩ = ⟨u_i, u_j⟩ with u = W·δh − δlse·1.
  for (const bool tied : {true, false}) {
    ModelConfig c = fixtures::tiny_config(300);  // V > d + 1, and V < d + 1 below
    c.tie_word_embeddings = tied;
    const auto w = fixtures::random_weights(c, 5);
    Transformer model(w);
    const sweep_detail::UpdateForm form(model, GramForm::kHidden);
    EXPECT_EQ(form.stored(), c.hidden_size);
    EXPECT_EQ(form.dims(), c.hidden_size + 1);
    std::mt19937 rng(6);
    std::normal_distribution<float> normal;
    const int d = c.hidden_size, V = c.vocab_size;
    std::vector<std::vector<float>> h(3, std::vector<float>(size_t(d)));
    for (auto& v : h)
      for (float& x : v) x = normal(rng);
    const double lse[3] = {2.0, 3.5, 1.25};
    std::vector<float> raw(2 * size_t(d + 1)), y(2 * size_t(form.dims()));
    form.raw_update(h[0].data(), lse[0], h[1].data(), lse[1], raw.data());
    form.raw_update(h[1].data(), lse[1], h[2].data(), lse[2], raw.data() + d + 1);
    form.transform(raw.data(), 2, y.data());
    std::vector<std::vector<double>> u(2, std::vector<double>(size_t(V)));
    const float* head = static_cast<const float*>(w->view.lm_head.data);  // F32 weights
    for (int k = 0; k < 2; ++k)
      for (int v = 0; v < V; ++v) {
        double z = 0;
        for (int i = 0; i < d; ++i) z += double(head[size_t(v) * d + i]) * (double(h[k + 1][i]) - double(h[k][i]));
        u[k][size_t(v)] = z - (lse[k + 1] - lse[k]);
      }
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) {
        double vocab = 0, hidden = 0;
        for (int v = 0; v < V; ++v) vocab += u[i][size_t(v)] * u[j][size_t(v)];
        for (int r = 0; r < form.dims(); ++r) hidden += double(y[size_t(i * form.dims() + r)]) * y[size_t(j * form.dims() + r)];
        EXPECT_NEAR(hidden, vocab, 1e-5 * std::fabs(vocab) + 1e-6) << i << "," << j;
      }
  }
  // A vocabulary smaller than d + 1: M̂ has rank V, and R keeps only those directions.
  const ModelConfig small = fixtures::tiny_config(20);
  Transformer model(fixtures::random_weights(small, 7));
  EXPECT_EQ(sweep_detail::UpdateForm(model, GramForm::kHidden).dims(), 20);
}

TEST(UpdateFormTest, SweepsGiveTheSameGramInBothFormsOnBothPaths) {
  auto w = fixtures::random_weights(fixtures::tiny_config(48), 61, 0.5f);
  Transformer model(w);
  const auto tokens = fixtures::random_tokens(120, 48, 62);
  SweepOptions o;
  o.budget = 16;
  o.schedules = {"sequential", "hierarchical", "dilated"};
  for (int64_t t = 20; t < 60; ++t) o.positions.push_back(t);
  o.positions.push_back(100);
  o.with_empty = true;
  o.bos_id = 47;
  for (bool sharing : {true, false}) {
    SCOPED_TRACE(sharing ? "shared" : "per target");
    o.prefix_sharing = sharing;
    o.gram_form = GramForm::kHidden;
    const SweepResult hidden = run_sweep(model, tokens, o);
    o.gram_form = GramForm::kVocabulary;
    const SweepResult vocabulary = run_sweep(model, tokens, o);
    EXPECT_EQ(hidden.gram_form, GramForm::kHidden);
    EXPECT_EQ(vocabulary.gram_form, GramForm::kVocabulary);
    for (size_t si = 0; si < 3; ++si) {
      SCOPED_TRACE(o.schedules[si]);
      expect_same_gram(hidden.schedules[si].gram, vocabulary.schedules[si].gram, 1e-6);
    }
  }
}

TEST(UpdateFormTest, DefaultModelGivesTheSameGramInBothForms) {
  // The trained model's head is far from random (and its late sequential updates small):
  // the hidden form must still match the vocabulary form, and so the spectrum.
  const std::string dir = std::string(STRATA_SOURCE_DIR) + "/assets/model";
  const std::string text_path = std::string(STRATA_SOURCE_DIR) + "/assets/text/adventures.txt";
  if (!std::filesystem::exists(text_path)) GTEST_SKIP() << text_path << " is missing";
  const auto [weights, tokenizer, checkpoint] = load_model(dir);
  Transformer model(weights);
  std::string text;
  {
    std::FILE* f = std::fopen(text_path.c_str(), "rb");
    ASSERT_NE(f, nullptr);
    std::vector<char> buf(20000);
    text.assign(buf.data(), std::fread(buf.data(), 1, buf.size(), f));
    std::fclose(f);
  }
  const std::vector<int32_t> tokens = tokenizer.encode(text);
  SweepOptions o;
  o.budget = 32;
  o.schedules = {"sequential", "hierarchical"};
  for (int64_t t = 1000; t < 1064; ++t) o.positions.push_back(t);
  o.gram_form = GramForm::kHidden;
  const SweepResult hidden = run_sweep(model, tokens, o);
  o.gram_form = GramForm::kVocabulary;
  const SweepResult vocabulary = run_sweep(model, tokens, o);
  for (size_t si = 0; si < 2; ++si) {
    SCOPED_TRACE(o.schedules[si]);
    expect_same_gram(hidden.schedules[si].gram, vocabulary.schedules[si].gram, 1e-6);
    const RankReport a = hidden.schedules[si].gram.rank(1e-2), b = vocabulary.schedules[si].gram.rank(1e-2);
    EXPECT_EQ(a.numerical_rank, b.numerical_rank);
    for (size_t i = 0; i < a.singular_values.size(); ++i)
      EXPECT_NEAR(a.singular_values[i], b.singular_values[i], 1e-5 * a.singular_values[0]) << "sigma " << i;
  }
}

}  // namespace
}  // namespace strata
