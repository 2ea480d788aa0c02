// A model folder the person picks or drops on the page: which of its files the page reads,
// in which order, and whether the model fits in WebAssembly memory, decided from the
// config and the files' sizes BEFORE the weights are read. The page's JavaScript only
// hands over what is asked for (web/index.html); loading is the core's strata::load_model,
// as the CLI's, once the files are in the in-memory file system.
//
//   1. the page lists the folder (names and sizes)  -> first_reads(): read config.json
//   2. config.json is in dir                         -> weight_reads(): the size check, then
//                                                       the weight files and tokenizer.json
//   3. everything asked for is in dir                -> load_model(dir) (run.h)
//
// What a model needs in the page's memory (wasm32, no mmap): the weights as float32 (the
// loader widens every stored dtype), the weight files' bytes (read whole while loading),
// the tokenizer, one forward pass's activations over the page's longest text, and the
// largest matrix widened once more by the matmul's packing. The page itself (code, stack,
// ImGui, font, the byte-level tokenizer) keeps kPageReserve.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "strata/config.h"

namespace strata::web {

// The build's -sMAXIMUM_MEMORY (web/CMakeLists.txt passes the same number to both).
#ifndef STRATA_WEB_MAXIMUM_MEMORY
#define STRATA_WEB_MAXIMUM_MEMORY 4294967296ull
#endif
constexpr uint64_t kMaximumMemory = STRATA_WEB_MAXIMUM_MEMORY;
constexpr uint64_t kPageReserve = uint64_t(256) << 20;
constexpr uint64_t kModelMemoryLimit = kMaximumMemory - kPageReserve;  // what a model may use
// wasm32's sbrk takes a signed 32-bit increment, so no single allocation reaches 2 GB: not
// the loader's float32 block (Weights::data: every tensor of an F32 checkpoint, so at most
// 2^29 - 1 parameters) and not a weight file (each is read whole into one buffer).
constexpr uint64_t kMaxAllocation = uint64_t(1) << 31;
// The page's longest text, in tokens (the model's context when shorter): bounds the
// activations of a model with a long context.
constexpr int kMaxPageTokens = 1024;

// Where the page puts a picked folder's files in the in-memory file system.
inline constexpr const char* kPickedDir = "/picked";

// A file of a model folder (fetched or picked).
struct ModelFile {
  std::string name;   // relative to the folder, e.g. "config.json"
  int64_t bytes = 0;  // from the manifest, or the browser's File object
};

// Bytes of WebAssembly memory a model needs, by what they hold.
struct ModelMemory {
  uint64_t weights = 0;      // what the loader owns beside the files: weights_f32 + weights_16
  uint64_t weights_f32 = 0;  // one block (Weights::data): vectors, and matrices of an F32 checkpoint
  uint64_t weights_16 = 0;   // one block (Weights::data16): GPT-2's transposed 16-bit matrices
  uint64_t files = 0;        // the weight files, read whole while loading
  uint64_t tokenizer = 0;    // tokenizer.json and what is built from it
  uint64_t activations = 0;  // one forward pass over min(context, kMaxPageTokens) tokens
  uint64_t packing = 0;      // matmul panels: every matrix packed once, or the largest layer matrix
  uint64_t total() const { return weights + files + tokenizer + activations + packing; }
};
ModelMemory model_memory(const ModelConfig& c, uint64_t weight_file_bytes, uint64_t tokenizer_bytes);

// Step 1: the files to read first (config.json). Throws strata::Error, one line, when the
// folder has no config.json (or no files at all).
std::vector<std::string> first_reads(const std::vector<ModelFile>& files);

// Step 2, with dir/config.json in place: the model's memory (returned in *memory), refused
// with a strata::Error naming the need and the limit when it exceeds `limit`, or when the
// weights or a weight file would be one allocation of kMaxAllocation or more; else the files
// the loader reads: model.safetensors, or model.safetensors.index.json and every other
// .safetensors file (the shards), and tokenizer.json, those of them the folder has (a missing
// one is the loader's error to report). A config the core refuses throws its error.
std::vector<std::string> weight_reads(const std::string& dir, const std::vector<ModelFile>& files,
                                      ModelMemory* memory, uint64_t limit = kModelMemoryLimit);

}  // namespace strata::web
