// Training against the PyTorch reference (tests/reference/torch_reference.py train): the
// loss of each step, every gradient at step 0 and every weight after several AdamW steps
// (weight decay on matrices only, clipping), for a Llama-style and a Gemma-style model,
// without and with dropout. Also the learning-rate schedule and checkpoint round trip.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>

#include "../fixtures.h"
#include "../reference_harness.h"
#include "strata/error.h"
#include "strata/model_dir.h"
#include "strata/trainer.h"

namespace strata {
namespace {

ModelConfig tiny(bool gemma) {
  return fixtures::tiny_config({.vocab = 53, .context = 64}, gemma ? fixtures::Family::kGemma : fixtures::Family::kLlama);
}

void compare_with_torch(bool gemma, float dropout = 0.0f) {
  const ModelConfig c = tiny(gemma);
  auto initial = [&] {
    auto w = std::make_shared<Weights>(c);
    w->init_random(3, 0.1f);
    return w;
  };
  const int B = 2, T = 12, steps = 4;
  std::mt19937 rng(9);
  std::vector<int32_t> tokens, positions, targets;
  for (int i = 0; i < B * T; ++i) {
    tokens.push_back(int32_t(rng() % c.vocab_size));
    targets.push_back(int32_t(rng() % c.vocab_size));
    positions.push_back(i % T);
  }
  TrainOptions o;
  // Adam moves every weight by ~lr whatever its gradient's size, so where a gradient is
  // float noise the two implementations may step apart by up to ~lr: a modest lr keeps
  // that within the tolerance while the weights still change by ~1e-2.
  o.lr = 3e-3f;
  o.weight_decay = 0.1f;
  o.clip = 0.5f;  // small enough to clip, so clipping is exercised
  o.seq_len = T;
  o.dropout = dropout;

  // strata first: its dropout masks (one per step, layer and branch) go to the reference.
  auto w = initial();
  Trainer trainer(w, std::vector<int32_t>(200, 1), {}, o);
  std::vector<double> losses;
  std::vector<int> masks;
  const size_t mask_size = size_t(c.num_hidden_layers) * 2 * B * T * c.hidden_size;
  for (int s = 0; s < steps; ++s) {
    losses.push_back(trainer.step_on(tokens, positions, targets, B, T, o.lr).loss);
    if (dropout > 0) {
      const auto& keep = trainer.model().activations().dropout_keep;
      masks.insert(masks.end(), keep.begin(), keep.begin() + std::ptrdiff_t(mask_size));
    }
  }

  testref::ScratchDir dir(std::string(gemma ? "gemma" : "llama") + (dropout > 0 ? "_dropout" : ""));
  save_weights(*initial(), dir.path() + "/model");
  nlohmann::json in = {{"steps", steps}, {"lr", o.lr}, {"beta1", o.beta1}, {"beta2", o.beta2}, {"eps", o.eps},
                       {"weight_decay", o.weight_decay}, {"clip", o.clip}};
  if (dropout > 0) in["dropout"] = dropout, in["dropout_masks"] = masks;
  for (const char* key : {"tokens", "positions", "targets"}) in[key] = nlohmann::json::array();
  for (int b = 0; b < B; ++b) {
    auto row = [&](const std::vector<int32_t>& v) { return std::vector<int32_t>(v.begin() + b * T, v.begin() + (b + 1) * T); };
    in["tokens"].push_back(row(tokens));
    in["positions"].push_back(row(positions));
    in["targets"].push_back(row(targets));
  }
  const auto ref = testref::run_torch_reference("train", dir.path() + "/model", in, dir.path());
  STRATA_SKIP_WITHOUT_TORCH(ref);
  ASSERT_TRUE(ref.ok) << ref.log;

  // Gradients at step 0, before clipping, with step 0's dropout.
  {
    auto w0 = initial();
    Transformer model(w0);
    Backward backward(c);
    std::vector<float> grads(w0->data.size(), 0.0f);
    model.forward_for_training(tokens, positions, B, T, trainer.dropout_at(0));
    backward.loss_and_backward(model, tokens, positions, targets, grads);
    for (const auto& t : w0->layout) {
      const std::span<const float> g(grads.data() + t.offset, t.size);
      EXPECT_LE(testref::max_relative_error(g, ref.at("grad." + t.name).data), 1e-4) << "gradient of " << t.name;
    }
  }

  const auto& ref_loss = ref.at("loss").data;
  ASSERT_EQ(ref_loss.size(), size_t(steps));
  for (int s = 0; s < steps; ++s)
    EXPECT_NEAR(losses[size_t(s)], ref_loss[size_t(s)], 1e-4 * std::abs(ref_loss[size_t(s)])) << "loss at step " << s;
  double worst = 0;
  for (const auto& t : w->layout) {
    const std::span<const float> p(w->data.data() + t.offset, t.size);
    const double err = testref::max_relative_error(p, ref.at(t.name).data);
    worst = std::max(worst, err);
    EXPECT_LE(err, 1e-4) << "weights of " << t.name << " after " << steps << " AdamW steps";
  }
  std::printf("[ torch ] %s%s: weights after %d AdamW steps within %.2g of PyTorch (max relative)\n",
              gemma ? "gemma" : "llama", dropout > 0 ? " with dropout" : "", steps, worst);
}

TEST(TrainerTest, LlamaStepsMatchTorch) { compare_with_torch(false); }
TEST(TrainerTest, GemmaStepsMatchTorch) { compare_with_torch(true); }
TEST(TrainerTest, LlamaStepsWithDropoutMatchTorch) { compare_with_torch(false, 0.2f); }
TEST(TrainerTest, GemmaStepsWithDropoutMatchTorch) { compare_with_torch(true, 0.2f); }

TEST(TrainerTest, DropoutMasksDifferBetweenStepsAndRepeatForAStep) {
  auto w = std::make_shared<Weights>(tiny(false));
  TrainOptions o;
  o.dropout = 0.1f;
  o.seq_len = 16;
  Trainer trainer(w, std::vector<int32_t>(1000, 1), {}, o);
  EXPECT_EQ(trainer.dropout_at(3).seed, trainer.dropout_at(3).seed);
  EXPECT_NE(trainer.dropout_at(3).seed, trainer.dropout_at(4).seed);
  EXPECT_FLOAT_EQ(trainer.dropout_at(3).p, 0.1f);
  o.dropout = 1.0f;
  EXPECT_THROW(Trainer(w, std::vector<int32_t>(1000, 1), {}, o), Error);
}

TEST(TrainerTest, LearningRateWarmsUpThenDecaysToMinimum) {
  TrainOptions o;
  o.lr = 1e-3f;
  o.min_lr = 1e-4f;
  o.warmup = 10;
  o.steps = 110;
  EXPECT_FLOAT_EQ(learning_rate(o, 0), 1e-4f);
  EXPECT_FLOAT_EQ(learning_rate(o, 9), 1e-3f);
  EXPECT_NEAR(learning_rate(o, 60), 0.55e-3f, 1e-9);
  EXPECT_FLOAT_EQ(learning_rate(o, 110), 1e-4f);
}

TEST(TrainerTest, CheckpointRoundTripContinuesIdentically) {
  const ModelConfig c = tiny(false);
  std::vector<int32_t> text(5000);
  std::mt19937 rng(1);
  for (auto& t : text) t = int32_t(rng() % c.vocab_size);
  TrainOptions o;
  o.batch_size = 2;
  o.seq_len = 16;
  o.steps = 6;
  o.warmup = 1;
  auto make = [&] {
    auto w = std::make_shared<Weights>(c);
    w->init_random(5);
    return std::make_shared<Trainer>(w, text, std::vector<int32_t>(text.begin(), text.begin() + 100), o);
  };
  auto straight = make();
  for (int i = 0; i < 6; ++i) straight->step();
  auto first = make();
  for (int i = 0; i < 3; ++i) first->step();
  testref::ScratchDir dir;
  first->save_checkpoint(dir.path() + "/ckpt.safetensors");
  auto second = make();
  second->resume(dir.path() + "/ckpt.safetensors");
  EXPECT_EQ(second->steps_done(), 3);
  for (int i = 0; i < 3; ++i) second->step();
  EXPECT_EQ(second->weights().data, straight->weights().data);

  auto other = std::make_shared<Weights>(tiny(true));
  Trainer mismatched(other, text, {}, o);
  EXPECT_THROW(mismatched.resume(dir.path() + "/ckpt.safetensors"), Error);
}

TEST(TrainerTest, RejectsTextShorterThanOneWindow) {
  auto w = std::make_shared<Weights>(tiny(false));
  TrainOptions o;
  o.seq_len = 32;
  EXPECT_THROW(Trainer(w, std::vector<int32_t>(10, 1), {}, o), Error);
  o.seq_len = 128;  // longer than the model's context
  EXPECT_THROW(Trainer(w, std::vector<int32_t>(1000, 1), {}, o), Error);
}

// Parameters, gradients and moments share one float layout: weights held in 16 bits (a
// checkpoint loaded as stored) are refused by name, before any step.
TEST(TrainerTest, RefusesWeightsNotHeldInFloat32) {
  const ModelConfig c = tiny(false);
  std::vector<TensorInfo> layout = parameter_layout(c);
  for (TensorInfo& t : layout)
    if (t.shape.size() == 2) t.dtype = DType::kBF16;
  auto w = std::make_shared<Weights>(c, layout, std::vector<std::shared_ptr<const void>>{});
  TrainOptions o;
  o.seq_len = 16;
  EXPECT_NE(fixtures::error_of([&] { Trainer(w, std::vector<int32_t>(1000, 1), {}, o); }).find("held in float32"),
            std::string::npos);
}

}  // namespace
}  // namespace strata
