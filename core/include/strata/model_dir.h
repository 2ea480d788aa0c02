// A strata model on disk: a directory laid out like a Hugging Face checkpoint,
//   config.json        the architecture (see config.h)
//   model.safetensors  every parameter under its Hugging Face name (see weights.h), or
//   model-0000k-of-0000N.safetensors + model.safetensors.index.json  the same, sharded
//   tokenizer.json     the tokenizer, read and written by the tokenizer module, not here
// so a directory can move between strata and the HF ecosystem in either direction.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "strata/safetensors.h"
#include "strata/tokenizer.h"
#include "strata/weights.h"

namespace strata {

// What a checkpoint held, for `strata info`: its files and the dtypes stored in them.
struct CheckpointInfo {
  std::vector<std::string> files;  // model.safetensors, or the shards in index order
  uint64_t file_bytes = 0;         // their total size
  std::string dtypes;              // the stored dtypes of the model's tensors, e.g. "BF16"
};

// Reads config.json and model.safetensors, or the shards model.safetensors.index.json names
// (F32, F16 or BF16). The matrices are held in their stored type, or in `dtype` when given
// (`--dtype`); F16/BF16 ones held as stored stay in the memory-mapped files (weights.h), the
// rest are converted in one place (load_tensor in model_dir.cpp); norms and biases are
// float32 always. Strict: every tensor of parameter_layout(config) must be present with
// exactly its expected shape, and no other tensor may appear, except a redundant
// "lm_head.weight" when the embeddings are tied and GPT-2's attention-mask buffers, which
// are ignored. GPT-2 tensors may also be named without the "transformer." prefix (the
// original checkpoints). An index is checked too: every shard it names must exist and hold
// the tensors it maps there; a tensor in two shards, or in a shard the index does not map
// it to, is refused. Throws strata::Error naming the directory or file, and the tensor and
// shapes where relevant. info, if given, receives what the checkpoint held.
Weights load_weights(const std::string& dir, CheckpointInfo* info = nullptr, std::optional<DType> dtype = {});

// Writes config.json and model.safetensors (metadata {"format": "pt"}) into dir, creating
// it if needed; with max_shard_bytes > 0, shards of at most that many bytes of tensor data
// and their index when the weights need more than one (safetensors_shards.h). Each file is
// written atomically; tokenizer.json is left alone. Returns the weight files written.
std::vector<std::string> save_weights(const Weights& w, const std::string& dir, DType storage = DType::kF32,
                                      uint64_t max_shard_bytes = 0);

// A whole model directory: its weights and its tokenizer, checked to agree on the vocabulary.
struct LoadedModel {
  std::shared_ptr<Weights> weights;
  Tokenizer tokenizer;
  CheckpointInfo checkpoint;
};
LoadedModel load_model(const std::string& dir, std::optional<DType> dtype = {});  // dtype: as load_weights

// dir/tokenizer.json, checked not to exceed the model's vocabulary. When not required, a
// missing file gives nullopt (token ids can be scored without their tokenizer).
std::optional<Tokenizer> load_tokenizer(const std::string& dir, const ModelConfig& config, bool required);

// The inverse of load_model: config.json, model.safetensors and tokenizer.json, each
// written atomically (the weights first, the tokenizer last). Returns the weight files.
std::vector<std::string> save_model(const std::string& dir, const Weights& weights, const Tokenizer& tokenizer,
                                    DType storage = DType::kF32, uint64_t max_shard_bytes = 0);

}  // namespace strata
