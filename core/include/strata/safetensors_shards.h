// A checkpoint's weights as Hugging Face's save_pretrained writes them: one
// model.safetensors, or, above a shard size, shards model-0000k-of-0000N.safetensors (five
// digits, k from 1) and model.safetensors.index.json,
//   {"metadata": {"total_size": <bytes of tensor data>}, "weight_map": {name: shard file}}
// with the tensors kept in their order and a new shard begun whenever the next tensor would
// take the current one past the limit (a tensor larger than the limit gets a shard of its
// own), the rule of huggingface_hub's split_torch_state_dict_into_shards. The loader
// (model_dir.h) reads both layouts.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "strata/safetensors.h"

namespace strata {

// Writes the tensors into dir (which must exist), each file atomically; max_shard_bytes 0,
// or tensors that fit in one shard, give model.safetensors alone. Shards remove a
// model.safetensors left by an earlier save (the loader would read it instead of the
// index). Returns the file names written, in order (the index last).
std::vector<std::string> write_safetensors_shards(const std::string& dir, const std::vector<NamedTensor>& tensors,
                                                  const std::map<std::string, std::string>& metadata, DType storage,
                                                  uint64_t max_shard_bytes);

// A size as Hugging Face spells max_shard_size: bytes ("1048576"), or a number with a unit,
// decimal KB/MB/GB/TB (powers of 1000) or binary KiB/MiB/GiB/TiB (powers of 1024), case
// ignored ("2GB", "500MB", "1.5GiB"). Refuses anything else, and zero, naming `option`.
uint64_t parse_byte_size(std::string_view text, const std::string& option);

}  // namespace strata
