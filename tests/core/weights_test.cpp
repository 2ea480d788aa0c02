// The flat parameter buffer and its table: the layout's names, shapes and offsets cover the
// buffer exactly once in Hugging Face order, the head exists only when untied, every view
// points at its tensor's offset, a copy's views point into the copy, and init_random puts
// norms at their neutral value and scales the residual outputs down.
#include "strata/weights.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "strata/error.h"

#include "fixtures.h"

namespace strata {
namespace {

// q = 4 heads × 12 = 48 differs from d = 32 and from kv = 2 × 12 = 24, so a swapped
// dimension shows in the shapes.
ModelConfig gqa_config(bool tied) {
  ModelConfig c = fixtures::tiny_config({.vocab = 50, .hidden = 32, .intermediate = 40, .layers = 3, .heads = 4,
                                         .kv_heads = 2, .head_dim = 12});
  c.tie_word_embeddings = tied;
  return c;
}

using Shape = std::vector<int64_t>;

TEST(WeightsTest, LayoutNamesShapesAndOffsetsCoverTheBufferExactly) {
  for (bool tied : {false, true}) {
    const ModelConfig c = gqa_config(tied);
    const auto layout = parameter_layout(c);
    std::vector<std::pair<std::string, Shape>> expected = {{"model.embed_tokens.weight", {50, 32}}};
    for (int i = 0; i < 3; ++i) {
      const std::string p = "model.layers." + std::to_string(i) + ".";
      expected.insert(expected.end(), {{p + "input_layernorm.weight", {32}},
                                       {p + "self_attn.q_proj.weight", {48, 32}},
                                       {p + "self_attn.k_proj.weight", {24, 32}},
                                       {p + "self_attn.v_proj.weight", {24, 32}},
                                       {p + "self_attn.o_proj.weight", {32, 48}},
                                       {p + "post_attention_layernorm.weight", {32}},
                                       {p + "mlp.gate_proj.weight", {40, 32}},
                                       {p + "mlp.up_proj.weight", {40, 32}},
                                       {p + "mlp.down_proj.weight", {32, 40}}});
    }
    expected.push_back({"model.norm.weight", {32}});
    if (!tied) expected.push_back({"lm_head.weight", {50, 32}});

    ASSERT_EQ(layout.size(), expected.size()) << "tied=" << tied;
    size_t next = 0;
    for (size_t i = 0; i < layout.size(); ++i) {
      EXPECT_EQ(layout[i].name, expected[i].first);
      EXPECT_EQ(layout[i].shape, expected[i].second) << layout[i].name;
      size_t n = 1;
      for (int64_t s : layout[i].shape) n *= size_t(s);
      EXPECT_EQ(layout[i].size, n) << layout[i].name;
      EXPECT_EQ(layout[i].offset, next) << layout[i].name;  // no gap, no overlap
      next = layout[i].offset + layout[i].size;
    }
    EXPECT_EQ(next, size_t(c.parameter_count())) << "tied=" << tied;
    EXPECT_EQ(Weights(c).data.size(), next);
  }
}

TEST(WeightsTest, TiedHeadIsTheEmbeddingUntiedHeadIsItsOwnTensor) {
  const Weights tied(gqa_config(true)), untied(gqa_config(false));
  EXPECT_EQ(tied.view.lm_head, tied.view.embed);
  EXPECT_EQ(tied.find("lm_head.weight"), nullptr);
  const TensorInfo* head = untied.find("lm_head.weight");
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(untied.view.lm_head, untied.data.data() + head->offset);
  EXPECT_NE(untied.view.lm_head, untied.view.embed);
  EXPECT_EQ(untied.data.size() - tied.data.size(), size_t(50 * 32));
}

// Every pointer of the views is data + the offset of the tensor of that name.
void expect_views_match_layout(const Weights& w) {
  const float* base = w.data.data();
  auto at = [&](const std::string& name) -> const float* {
    const TensorInfo* t = w.find(name);
    EXPECT_NE(t, nullptr) << name;
    return t ? base + t->offset : nullptr;
  };
  EXPECT_EQ(w.view.embed, at("model.embed_tokens.weight"));
  EXPECT_EQ(w.view.final_norm, at("model.norm.weight"));
  ASSERT_EQ(w.view.layers.size(), size_t(w.config.num_hidden_layers));
  for (size_t i = 0; i < w.view.layers.size(); ++i) {
    const LayerWeights& l = w.view.layers[i];
    const std::string p = "model.layers." + std::to_string(i) + ".";
    EXPECT_EQ(l.attn_norm, at(p + "input_layernorm.weight"));
    EXPECT_EQ(l.wq, at(p + "self_attn.q_proj.weight"));
    EXPECT_EQ(l.wk, at(p + "self_attn.k_proj.weight"));
    EXPECT_EQ(l.wv, at(p + "self_attn.v_proj.weight"));
    EXPECT_EQ(l.wo, at(p + "self_attn.o_proj.weight"));
    EXPECT_EQ(l.mlp_norm, at(p + "post_attention_layernorm.weight"));
    EXPECT_EQ(l.w_gate, at(p + "mlp.gate_proj.weight"));
    EXPECT_EQ(l.w_up, at(p + "mlp.up_proj.weight"));
    EXPECT_EQ(l.w_down, at(p + "mlp.down_proj.weight"));
  }
  EXPECT_EQ(w.view.lm_head, w.config.tie_word_embeddings ? w.view.embed : at("lm_head.weight"));
}

TEST(WeightsTest, ViewsPointAtTheirTensorsOffsets) {
  for (bool tied : {false, true}) {
    const Weights w(gqa_config(tied));
    expect_views_match_layout(w);
    // bind_weights gives the same table over any buffer.
    std::vector<float> other(w.data.size());
    const FlatViews v = bind_weights(w.config, other.data());
    auto offset = [&](ops::WeightRef r) { return static_cast<const float*>(r.data) - w.data.data(); };
    EXPECT_EQ(v.layers.back().w_down - other.data(), offset(w.view.layers.back().w_down));
    EXPECT_EQ(v.lm_head - other.data(), offset(w.view.lm_head));
  }
}

TEST(WeightsTest, CopyAndAssignmentRebindTheViewsToTheirOwnBuffer) {
  const auto original = fixtures::random_weights(gqa_config(false), 1);
  Weights copy(*original);
  expect_views_match_layout(copy);
  EXPECT_NE(copy.data.data(), original->data.data());
  EXPECT_EQ(copy.data, original->data);
  copy.view.layers[1].attn_norm[0] += 1.0f;  // writes through the copy's views reach only the copy
  EXPECT_NE(copy.data, original->data);

  Weights assigned(fixtures::tiny_config());  // another shape: assignment replaces it whole
  assigned = *original;
  expect_views_match_layout(assigned);
  EXPECT_EQ(assigned.data, original->data);
  EXPECT_EQ(assigned.layout.size(), original->layout.size());
  Weights& self = assigned;
  assigned = self;
  expect_views_match_layout(assigned);
  EXPECT_EQ(assigned.data, original->data);
}

TEST(WeightsTest, InitRandomPutsNormsAtTheirNeutralValueAndScalesResidualOutputs) {
  for (auto family : {fixtures::Family::kLlama, fixtures::Family::kGemma}) {
    const ModelConfig c = fixtures::tiny_config({.hidden = 64, .intermediate = 128, .layers = 2, .heads = 4,
                                                 .kv_heads = 2, .head_dim = 16}, family);
    Weights w(c);
    w.init_random(9, 0.02f);
    const float neutral = c.norm == NormKind::kRMSNormPlusOne ? 0.0f : 1.0f;  // scale 1 either way
    const float residual_std = 0.02f / std::sqrt(2.0f * 2);
    for (const TensorInfo& t : w.layout) {
      const float* p = w.data.data() + t.offset;
      if (t.shape.size() == 1) {
        for (size_t i = 0; i < t.size; ++i) ASSERT_EQ(p[i], neutral) << t.name;
        continue;
      }
      double sum = 0, sum2 = 0;
      for (size_t i = 0; i < t.size; ++i) sum += p[i], sum2 += double(p[i]) * p[i];
      const double mean = sum / double(t.size), std = std::sqrt(sum2 / double(t.size) - mean * mean);
      const bool residual = t.name.find("o_proj") != std::string::npos || t.name.find("down_proj") != std::string::npos;
      const double want = residual ? residual_std : 0.02;
      EXPECT_NEAR(std, want, 0.1 * want) << t.name;  // ≥ 1024 samples: within 10%
      EXPECT_NEAR(mean, 0.0, 0.2 * want) << t.name;
    }
    Weights again(c), other(c);
    again.init_random(9, 0.02f);
    other.init_random(10, 0.02f);
    EXPECT_EQ(again.data, w.data);  // deterministic in the seed
    EXPECT_NE(other.data, w.data);
  }
}

// Held in 16 bits: the matrices go to data16 (or stay where `mapped` points), the vectors
// to data, each buffer packed in layout order; the views carry each matrix's type; training
// and init_random, which need one float buffer, are refused.
TEST(WeightsTest, SixteenBitLayoutHoldsMatricesApartFromTheFloatVectors) {
  const ModelConfig c = gqa_config(true);
  std::vector<TensorInfo> layout = parameter_layout(c);
  const std::vector<uint16_t> outside(size_t(c.vocab_size) * c.hidden_size, 0x3f80);  // bf16 1.0
  size_t vectors = 0, matrices = 0;
  for (TensorInfo& t : layout) {
    if (t.shape.size() == 1) {
      vectors += t.size;
      continue;
    }
    t.dtype = DType::kBF16;
    if (t.name == "model.embed_tokens.weight") t.mapped = outside.data();
    else matrices += t.size;
  }
  Weights w(c, layout, {});
  EXPECT_EQ(w.data.size(), vectors);
  EXPECT_EQ(w.data16.size(), matrices);
  EXPECT_EQ(w.owned_bytes(), vectors * 4 + matrices * 2);
  EXPECT_EQ(w.mapped_bytes(), outside.size() * 2);
  EXPECT_EQ(w.matrix_dtypes(), "BF16");
  EXPECT_FALSE(w.flat_f32());
  EXPECT_EQ(w.view.embed, ops::WeightRef(outside.data(), DType::kBF16));
  EXPECT_EQ(w.view.lm_head, w.view.embed);
  const TensorInfo* up = w.find("model.layers.1.mlp.up_proj.weight");
  EXPECT_EQ(w.view.layers[1].w_up, ops::WeightRef(w.data16.data() + up->offset, DType::kBF16));
  EXPECT_EQ(w.view.layers[1].mlp_norm, w.data.data() + w.find("model.layers.1.post_attention_layernorm.weight")->offset);
  EXPECT_THROW(w.init_random(1), Error);
  EXPECT_THROW(w.owned_tensor_data(*w.find("model.embed_tokens.weight")), Error);
  // A copy shares the mapping and owns copies of the rest.
  const Weights copy(w);
  EXPECT_EQ(copy.view.embed, w.view.embed);
  EXPECT_EQ(copy.view.layers[1].w_up, ops::WeightRef(copy.data16.data() + up->offset, DType::kBF16));

  layout[0].dtype = DType::kF32, layout[1].dtype = DType::kBF16;  // a norm in 16 bits
  ASSERT_EQ(layout[1].shape.size(), 1u);
  EXPECT_NE(fixtures::error_of([&] { Weights{c, layout, {}}; }).find("must be held in F32"), std::string::npos);
}

TEST(WeightsTest, FindAndAConfigThatCannotBeAModel) {
  const Weights w(gqa_config(false));
  ASSERT_NE(w.find("model.layers.2.mlp.up_proj.weight"), nullptr);
  EXPECT_EQ(w.find("model.layers.2.mlp.up_proj.weight")->shape, (Shape{40, 32}));
  EXPECT_EQ(w.find("model.layers.3.mlp.up_proj.weight"), nullptr);
  EXPECT_EQ(w.find(""), nullptr);
  ModelConfig bad = gqa_config(false);
  bad.num_key_value_heads = 3;
  EXPECT_THROW(Weights{bad}, Error);
}

}  // namespace
}  // namespace strata
