// A strata model on disk: a directory laid out like a Hugging Face checkpoint,
//   config.json        the architecture (see config.h)
//   model.safetensors  every parameter under its Hugging Face name (see weights.h)
//   tokenizer.json     the tokenizer, read and written by the tokenizer module, not here
// so a directory can move between strata and the HF ecosystem in either direction.
#pragma once
#include <memory>
#include <string>

#include "strata/safetensors.h"
#include "strata/tokenizer.h"
#include "strata/weights.h"

namespace strata {

// Reads config.json and model.safetensors (F32, F16 or BF16; converted to float32).
// Strict: every tensor of parameter_layout(config) must be present with exactly its
// expected shape, and no other tensor may appear, except a redundant "lm_head.weight"
// when the embeddings are tied, which is ignored. Throws strata::Error naming the
// directory or file, and the tensor and shapes where relevant.
Weights load_weights(const std::string& dir);

// Writes config.json and model.safetensors (metadata {"format": "pt"}) into dir, creating
// it if needed. Each file is written atomically; tokenizer.json is left alone.
void save_weights(const Weights& w, const std::string& dir, DType storage = DType::kF32);

// A whole model directory: its weights and its tokenizer, checked to agree on the vocabulary.
struct LoadedModel {
  std::shared_ptr<Weights> weights;
  Tokenizer tokenizer;
};
LoadedModel load_model(const std::string& dir);

// The inverse of load_model: config.json, model.safetensors and tokenizer.json, each
// written atomically (the weights first, the tokenizer last).
void save_model(const std::string& dir, const Weights& weights, const Tokenizer& tokenizer,
                DType storage = DType::kF32);

}  // namespace strata
