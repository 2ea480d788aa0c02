// Model directory I/O: config.json + model.safetensors (or its shards) <-> Weights. Loading is strict
// about names and shapes because a silently mismatched tensor gives a model that runs
// but produces garbage, which is far harder to diagnose than an error at load time.
#include "strata/model_dir.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/safetensors.h"
#include "strata/safetensors_shards.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string join(const std::string& dir, const std::string& file) { return (fs::path(dir) / file).string(); }

}  // namespace

namespace {

// The one place a stored tensor is copied into memory strata owns, in the type it is held
// in (t.dtype): widened from the stored type, rounded to a 16-bit one if that differs, and a
// Conv1D matrix (in, out) transposed to (out, in). Tensors that need none of this stay in
// the mapped file instead (load_weights).
void load_tensor(const SafetensorsReader& reader, const TensorEntry& e, const TensorInfo& t, void* dst) {
  const unsigned char* src = reader.bytes(e);
  const DType stored = parse_dtype(e.dtype);
  if (!t.transposed) {
    // In chunks, so that converting a 256k-row embedding never holds it whole in float.
    constexpr size_t kChunk = size_t(1) << 20;
    std::vector<float> wide(t.dtype == DType::kF32 ? 0 : std::min(kChunk, t.size));
    for (size_t i = 0; i < t.size; i += kChunk) {
      const size_t n = std::min(kChunk, t.size - i);
      const unsigned char* from = src + i * dtype_size(stored);
      if (t.dtype == DType::kF32) {
        widen_to_f32(from, stored, n, static_cast<float*>(dst) + i);
      } else {
        widen_to_f32(from, stored, n, wide.data());
        narrow_from_f32(wide.data(), n, t.dtype, static_cast<uint16_t*>(dst) + i);
      }
    }
    return;
  }
  const std::vector<float> as_stored = reader.read_f32(e);
  const size_t rows = size_t(t.shape[0]), cols = size_t(t.shape[1]);  // (in, out) as stored
  std::vector<float> held(t.size);
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j) held[j * rows + i] = as_stored[i * cols + j];
  narrow_from_f32(held.data(), t.size, t.dtype, dst);
}

// Tensors a checkpoint may carry that are not parameters: a tied head's redundant copy and
// GPT-2's causal-mask buffers (attn.bias, attn.masked_bias), which strata rebuilds itself.
bool ignorable(const ModelConfig& c, const std::string& name) {
  if (c.tie_word_embeddings && name == "lm_head.weight") return true;
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return c.model_type == "gpt2" && (ends_with(".attn.bias") || ends_with(".attn.masked_bias"));
}

// The shard files of model.safetensors.index.json, sorted by name, with the
// shard each tensor is mapped to. Refuses a malformed index and a shard name that is not
// a plain file name (an index must not reach outside its directory).
std::vector<std::string> read_index(const std::string& path, std::map<std::string, std::string>& weight_map) {
  const nlohmann::json j = nlohmann::json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(path + ": malformed JSON");
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw Error(path + ": expected an object with a \"weight_map\" object");
  std::vector<std::string> shards;
  for (const auto& [name, file] : j["weight_map"].items()) {
    if (!file.is_string()) throw Error(path + ": weight_map entry of " + name + " is not a file name");
    const std::string f = file.get<std::string>();
    if (f.empty() || f.find('/') != std::string::npos || f.find('\\') != std::string::npos || f == "." || f == "..")
      throw Error(path + ": weight_map entry of " + name + " names \"" + f + "\", not a file in the model directory");
    weight_map[name] = f;
    if (std::find(shards.begin(), shards.end(), f) == shards.end()) shards.push_back(f);
  }
  if (shards.empty()) throw Error(path + ": weight_map is empty");
  std::sort(shards.begin(), shards.end());  // model-0000k-of-0000N sorts in shard order
  return shards;
}

}  // namespace

Weights load_weights(const std::string& dir, CheckpointInfo* info, std::optional<DType> dtype) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(dir + ": not a model directory (no such directory)");
  const std::string config_path = join(dir, "config.json");
  const std::string model_path = join(dir, "model.safetensors");
  const std::string index_path = join(dir, "model.safetensors.index.json");
  if (!file_exists(config_path)) throw Error(dir + ": not a model directory (config.json missing)");
  const bool sharded = !file_exists(model_path) && file_exists(index_path);
  if (!sharded && !file_exists(model_path))
    throw Error(dir + ": not a model directory (model.safetensors and model.safetensors.index.json missing)");

  const ModelConfig config = read_config(config_path);
  // Every shard's header is validated (the files are mapped, not read) before anything is
  // allocated; each tensor name is then resolved to the one shard that holds it.
  std::map<std::string, std::string> weight_map;
  const std::vector<std::string> files = sharded ? read_index(index_path, weight_map) : std::vector<std::string>{"model.safetensors"};
  std::vector<std::unique_ptr<SafetensorsReader>> readers;
  struct Located { size_t shard; const TensorEntry* entry; };
  std::map<std::string, Located> where;
  uint64_t file_bytes = 0;
  for (size_t s = 0; s < files.size(); ++s) {
    const std::string path = join(dir, files[s]);
    if (sharded && !file_exists(path))
      throw Error(index_path + ": names shard " + files[s] + ", which is missing");
    readers.push_back(std::make_unique<SafetensorsReader>(SafetensorsReader::open(path)));
    file_bytes += fs::file_size(path, ec);
    for (const TensorEntry& e : readers.back()->tensors()) {
      const auto [it, fresh] = where.insert({e.name, {s, &e}});
      if (!fresh)
        throw Error(dir + ": tensor " + e.name + " appears in both " + files[it->second.shard] + " and " + files[s]);
      if (sharded) {
        const auto m = weight_map.find(e.name);
        if (m == weight_map.end())
          throw Error(path + ": tensor " + e.name + " is not in model.safetensors.index.json");
        if (m->second != files[s])
          throw Error(path + ": tensor " + e.name + " is here but the index maps it to " + m->second);
      }
    }
  }
  for (const auto& [name, file] : weight_map)
    if (!where.count(name)) throw Error(index_path + ": maps tensor " + name + " to " + file + ", which does not hold it");

  // GPT-2's original checkpoints name tensors without the "transformer." prefix.
  auto locate = [&](const std::string& name) -> const Located* {
    auto it = where.find(name);
    if (it == where.end() && config.model_type == "gpt2" && name.rfind("transformer.", 0) == 0)
      it = where.find(name.substr(12));
    return it == where.end() ? nullptr : &it->second;
  };
  // Every tensor is checked against the file before the weights are allocated: the
  // allocation is then bounded by what the file holds, not by what a config claims.
  const std::vector<TensorInfo> layout = parameter_layout(config);
  std::set<std::string> used, dtypes;
  for (const auto& t : layout) {
    const Located* l = locate(t.name);
    const std::string file = l ? readers[l->shard]->path() : sharded ? index_path : readers[0]->path();
    if (!l) throw Error(file + ": tensor " + t.name + " missing (expected shape " + shape_str(t.shape) + ")");
    if (l->entry->shape != t.shape)
      throw Error(file + ": tensor " + t.name + " has shape " + shape_str(l->entry->shape) +
                  " but config.json implies " + shape_str(t.shape));
    const std::string& dt = l->entry->dtype;
    if (dt != "F32" && dt != "F16" && dt != "BF16")
      throw Error(file + ": tensor " + t.name + " has dtype " + dt + ", which strata cannot read (F32, F16 or BF16 only)");
    used.insert(l->entry->name);
    dtypes.insert(dt);
  }
  for (const auto& [name, l] : where) {
    if (used.count(name) || ignorable(config, name)) continue;
    throw Error(readers[l.shard]->path() + ": unexpected tensor " + name + " (not part of the model config.json describes" +
                (name == "lm_head.weight" ? "; tie_word_embeddings is false" : "") + ")");
  }
  // Where each tensor is held. Vectors (norms, biases: kilobytes) are converted to float32
  // whatever they are stored in, so the row kernels read float. Matrices keep their stored
  // type, or take the one `dtype` asks for; a 16-bit matrix held as stored stays in the
  // mapped file (no copy: a BF16 checkpoint costs its file size in memory) unless it must be
  // transposed (GPT-2's Conv1D) or is misaligned for its type. F32 matrices are copied, as
  // before: a float model stays writable and trainable.
  std::vector<TensorInfo> held = layout;
  std::vector<bool> shard_mapped(readers.size(), false);
  for (TensorInfo& t : held) {
    const Located* l = locate(t.name);
    const DType stored = parse_dtype(l->entry->dtype);
    t.dtype = t.shape.size() == 1 ? DType::kF32 : dtype.value_or(stored);
    if (t.dtype == DType::kF32 || t.dtype != stored || t.transposed) continue;
    const unsigned char* p = readers[l->shard]->bytes(*l->entry);
    if (reinterpret_cast<uintptr_t>(p) % dtype_size(stored) != 0) continue;
    t.mapped = p;
    shard_mapped[l->shard] = true;
  }
  std::vector<std::shared_ptr<const void>> mappings;
  for (size_t s = 0; s < readers.size(); ++s)
    if (shard_mapped[s]) mappings.push_back(readers[s]->mapping());
  Weights w(config, std::move(held), std::move(mappings));
  // Shard by shard, each unmapped once read unless tensors stay mapped in it, so reading
  // never adds up to a second copy of the model in resident memory.
  for (size_t s = 0; s < readers.size(); ++s) {
    for (const auto& t : w.layout) {
      const Located* l = locate(t.name);
      if (l->shard == s && !t.mapped) load_tensor(*readers[s], *l->entry, t, w.owned_tensor_data(t));
    }
    readers[s].reset();
  }
  if (info) {
    info->files = files;
    info->file_bytes = file_bytes;
    info->dtypes.clear();
    for (const std::string& d : dtypes) info->dtypes += (info->dtypes.empty() ? "" : "+") + d;
  }
  return w;
}

std::optional<Tokenizer> load_tokenizer(const std::string& dir, const ModelConfig& config, bool required) {
  const std::string path = join(dir, "tokenizer.json");
  if (!required && !file_exists(path)) return std::nullopt;
  Tokenizer tok = Tokenizer::load(path);
  if (tok.vocab_size() > config.vocab_size)
    throw Error(dir + ": tokenizer.json has " + std::to_string(tok.vocab_size()) +
                " tokens but the model's vocabulary is " + std::to_string(config.vocab_size));
  return tok;
}

LoadedModel load_model(const std::string& dir, std::optional<DType> dtype) {
  CheckpointInfo info;
  auto weights = std::make_shared<Weights>(load_weights(dir, &info, dtype));
  Tokenizer tok = *load_tokenizer(dir, weights->config, /*required=*/true);
  return {std::move(weights), std::move(tok), std::move(info)};
}

std::vector<std::string> save_weights(const Weights& w, const std::string& dir, DType storage, uint64_t max_shard_bytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec)) throw Error(dir + ": cannot create directory (" + ec.message() + ")");

  std::vector<NamedTensor> tensors;
  tensors.reserve(w.layout.size());
  // Matrices held in F16/BF16 go to the writer as they are, converted chunk by chunk as it
  // writes: widening them first cost 4 bytes per parameter at once (10 GB for Gemma-2B).
  // Only Conv1D's matrices (GPT-2: held transposed) are copied, widened, to transpose back.
  std::vector<std::vector<float>> transposed;
  for (const auto& t : w.layout) {
    if (!t.transposed) {
      if (t.dtype == DType::kF32)
        tensors.push_back({t.name, t.shape, std::span(static_cast<const float*>(w.tensor_data(t)), t.size)});
      else
        tensors.push_back({t.name, t.shape, {}, w.tensor_data(t), t.dtype});
      continue;
    }
    std::vector<float> held(t.size);
    widen_to_f32(w.tensor_data(t), t.dtype, t.size, held.data());
    const size_t rows = size_t(t.shape[0]), cols = size_t(t.shape[1]);
    std::vector<float>& m = transposed.emplace_back(t.size);
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < cols; ++j) m[i * cols + j] = held[j * rows + i];
    tensors.push_back({t.name, t.shape, std::span<const float>(m)});
  }
  // Each file is atomic, the pair is not; an interrupted save that leaves a mismatched
  // pair is almost always caught by load_weights's shape check.
  std::vector<std::string> files = write_safetensors_shards(dir, tensors, {{"format", "pt"}}, storage, max_shard_bytes);
  write_config(w.config, join(dir, "config.json"));
  return files;
}

std::vector<std::string> save_model(const std::string& dir, const Weights& weights, const Tokenizer& tokenizer,
                                    DType storage, uint64_t max_shard_bytes) {
  std::vector<std::string> files = save_weights(weights, dir, storage, max_shard_bytes);
  tokenizer.save(join(dir, "tokenizer.json"));
  return files;
}

}  // namespace strata
