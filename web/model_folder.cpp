// A picked or dropped model folder (see model_folder.h): what to read, and the memory check.
#include "model_folder.h"

#include <algorithm>
#include <filesystem>

#include "format.h"
#include "strata/error.h"
#include "strata/model.h"
#include "strata/weights.h"

namespace strata::web {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const ModelFile* find(const std::vector<ModelFile>& files, const std::string& name) {
  for (const ModelFile& f : files)
    if (f.name == name) return &f;
  return nullptr;
}

uint64_t size_of(const ModelFile* f) { return f && f->bytes > 0 ? uint64_t(f->bytes) : 0; }

// The folder's top-level .safetensors files the loader may read: model.safetensors, else the
// shards (every other .safetensors file: the index names them, and the loader checks it).
std::vector<const ModelFile*> weight_files(const std::vector<ModelFile>& files) {
  if (const ModelFile* single = find(files, "model.safetensors")) return {single};
  std::vector<const ModelFile*> shards;
  for (const ModelFile& f : files)
    if (ends_with(f.name, ".safetensors") && f.name.find('/') == std::string::npos) shards.push_back(&f);
  return shards;
}

}  // namespace

ModelMemory model_memory(const ModelConfig& c, uint64_t weight_file_bytes, uint64_t tokenizer_bytes) {
  ModelMemory m;
  // What the loader owns beside the files (model_dir.cpp, load_weights): vectors widened to
  // float32; F32 matrices copied; F16/BF16 matrices left in the file's bytes, except GPT-2's
  // Conv1D ones, transposed into a 16-bit copy. The files' size per parameter tells the two
  // storages apart before a byte of them is read: 16-bit files hold 2 bytes a parameter
  // (and less than 3); anything else, F32 or files too small for the config (which the
  // loader will refuse), counts as F32, the larger need.
  const uint64_t params = uint64_t(c.parameter_count());
  const bool stored_f32 = !(weight_file_bytes >= 2 * params && weight_file_bytes < 3 * params);
  for (const TensorInfo& t : parameter_layout(c)) {
    const bool matrix = t.shape.size() == 2;
    if (!matrix || stored_f32) m.weights_f32 += sizeof(float) * t.size;
    else if (t.transposed) m.weights_16 += sizeof(uint16_t) * t.size;
  }
  m.weights = m.weights_f32 + m.weights_16;
  m.files = weight_file_bytes;
  // The file's text, its JSON tree and the vocabulary and merge tables built from it: an
  // allowance of 16 bytes per byte of tokenizer.json.
  m.tokenizer = 16 * tokenizer_bytes;
  // Model::run's buffers at inference (one layer's): residual, attention and MLP inputs,
  // final norm and a scratch row block (5 d), q and the attention output (2 q), k and v
  // (2 kv), gate, up and activation (3 f); logits at one row per context.
  const uint64_t rows = uint64_t(std::min(c.max_position_embeddings, kMaxPageTokens));
  const uint64_t width = 5 * uint64_t(c.hidden_size) + 2 * uint64_t(c.q_dim()) + 2 * uint64_t(c.kv_dim()) +
                         3 * uint64_t(c.intermediate_size);
  m.activations = sizeof(float) * (rows * width + 2 * uint64_t(c.vocab_size));
  // Every matrix packed once where Transformer::pack_weights takes the model (run.cpp);
  // else the widest layer matrix, packed per call (never the head: the page asks for the
  // logits of one row per context).
  const uint64_t widest = std::max({uint64_t(c.intermediate_size), uint64_t(c.q_dim()), 3 * uint64_t(c.hidden_size)});
  const uint64_t packed_once = Transformer::packed_bytes(c);
  m.packing = packed_once <= Transformer::kMaxPackedBytes ? packed_once : sizeof(float) * widest * uint64_t(c.hidden_size);
  return m;
}

std::vector<std::string> first_reads(const std::vector<ModelFile>& files) {
  if (files.empty()) throw Error("the folder is empty: a model folder holds config.json, model.safetensors and tokenizer.json");
  if (!find(files, "config.json"))
    throw Error("the folder has no config.json: a model folder holds config.json, model.safetensors "
                "(or shards with model.safetensors.index.json) and tokenizer.json");
  return {"config.json"};
}

std::vector<std::string> weight_reads(const std::string& dir, const std::vector<ModelFile>& files,
                                      ModelMemory* memory, uint64_t limit) {
  const ModelConfig config = read_config((std::filesystem::path(dir) / "config.json").string());
  std::vector<std::string> reads;
  uint64_t file_bytes = 0;
  if (!find(files, "model.safetensors") && find(files, "model.safetensors.index.json"))
    reads.push_back("model.safetensors.index.json");
  for (const ModelFile* f : weight_files(files)) {
    reads.push_back(f->name);
    file_bytes += size_of(f);
  }
  const ModelFile* tokenizer = find(files, "tokenizer.json");
  if (tokenizer) reads.push_back(tokenizer->name);
  const ModelMemory need = model_memory(config, file_bytes, size_of(tokenizer));
  if (memory) *memory = need;
  const std::string model = "this " + config.model_type + " model of " + std::to_string(config.parameter_count()) + " parameters";
  if (std::max(need.weights_f32, need.weights_16) >= kMaxAllocation)
    throw Error("too large for the page: " + model + " needs its weights in one block of " +
                format::bytes(int64_t(std::max(need.weights_f32, need.weights_16))) + ", and wasm32 cannot allocate 2 GB or more at once (at most " +
                std::to_string(kMaxAllocation / sizeof(float) - 1) + " float32 parameters); run it with the native CLI");
  for (const ModelFile* f : weight_files(files))
    if (size_of(f) >= kMaxAllocation)
      throw Error("too large for the page: " + f->name + " is " + format::bytes(f->bytes) +
                  ", and wasm32 cannot read a file of 2 GB or more into memory at once; run it with the native CLI");
  if (need.total() > limit)
    throw Error("too large for the page: " + model + " needs " + format::bytes(int64_t(need.total())) +
                " of WebAssembly memory (weights held beside the files " + format::bytes(int64_t(need.weights)) + ", weight files " +
                format::bytes(int64_t(need.files)) + ", activations and tokenizer " +
                format::bytes(int64_t(need.activations + need.packing + need.tokenizer)) + "), more than the " +
                format::bytes(int64_t(limit)) + " a model may use here (" + format::bytes(int64_t(kMaximumMemory)) +
                " wasm32 memory less " + format::bytes(int64_t(kPageReserve)) +
                " for the page); run it with the native CLI");
  return reads;
}

}  // namespace strata::web
