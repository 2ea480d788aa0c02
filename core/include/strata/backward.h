// Backward pass of the decoder for next-token cross-entropy, layer by layer in reverse, as
// forward/backward pairs (llm.c style). Reads the activations Transformer::
// forward_for_training kept and writes gradients into a flat buffer with the same layout
// as the parameters (parameter_layout), so the optimiser treats all tensors alike.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "strata/model.h"

namespace strata {

class Backward {
 public:
  explicit Backward(const ModelConfig& c);

  // Mean cross-entropy (nats) of targets (B*T) under the logits of the last
  // forward_for_training, and its gradient added into grads (parameter_count floats),
  // through the dropout masks that pass used.
  // Target -1 means "no target here" (ignored, excluded from the mean).
  double loss_and_backward(const Transformer& model, std::span<const int32_t> tokens,
                           std::span<const int32_t> positions, std::span<const int32_t> targets,
                           std::span<float> grads);

 private:
  ModelConfig config_;
  // Gradients of activations, reused across steps; dbranch_ is a residual branch's output
  // gradient through its dropout mask.
  std::vector<float> dlogits_, dx_, dnorm_, dq_, dk_, dv_, dattn_, dgate_, dup_, dact_, dbranch_;
};

// Cross-entropy of logits (rows, vocab) against targets: returns the summed loss in nats
// and, if dlogits is given, writes d(sum loss · scale)/dlogits. Rows with target -1 are
// skipped (zero gradient).
double cross_entropy(const float* logits, const int32_t* targets, int rows, int vocab,
                     float* dlogits, float scale);

}  // namespace strata
