// Model directory I/O: config.json + model.safetensors <-> Weights. Loading is strict
// about names and shapes because a silently mismatched tensor gives a model that runs
// but produces garbage, which is far harder to diagnose than an error at load time.
#include "strata/model_dir.h"

#include <filesystem>
#include <set>

#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/safetensors.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string join(const std::string& dir, const char* file) { return (fs::path(dir) / file).string(); }

}  // namespace

Weights load_weights(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(dir + ": not a model directory (no such directory)");
  const std::string config_path = join(dir, "config.json");
  const std::string model_path = join(dir, "model.safetensors");
  if (!file_exists(config_path)) throw Error(dir + ": not a model directory (config.json missing)");
  if (!file_exists(model_path)) throw Error(dir + ": not a model directory (model.safetensors missing)");

  const ModelConfig config = read_config(config_path);
  const SafetensorsReader reader = SafetensorsReader::open(model_path);

  // Every tensor is checked against the file before the weights are allocated: the
  // allocation is then bounded by what the file holds, not by what a config claims.
  const std::vector<TensorInfo> layout = parameter_layout(config);
  std::set<std::string> expected;
  for (const auto& t : layout) {
    expected.insert(t.name);
    const TensorEntry* e = reader.find(t.name);
    if (!e)
      throw Error(model_path + ": tensor " + t.name + " missing (expected shape " +
                  shape_str(t.shape) + ")");
    if (e->shape != t.shape)
      throw Error(model_path + ": tensor " + t.name + " has shape " + shape_str(e->shape) +
                  " but config.json implies " + shape_str(t.shape));
  }
  for (const auto& e : reader.tensors()) {
    if (expected.count(e.name)) continue;
    // Exporters often write the tied head out as a copy of the embedding; it adds nothing.
    if (config.tie_word_embeddings && e.name == "lm_head.weight") continue;
    throw Error(model_path + ": unexpected tensor " + e.name + " (not part of the model config.json describes" +
                (e.name == "lm_head.weight" ? "; tie_word_embeddings is false" : "") + ")");
  }
  Weights w(config);
  for (const auto& t : w.layout) reader.read_f32(*reader.find(t.name), std::span<float>(w.data.data() + t.offset, t.size));
  return w;
}

LoadedModel load_model(const std::string& dir) {
  LoadedModel m{std::make_shared<Weights>(load_weights(dir)), Tokenizer::load(join(dir, "tokenizer.json"))};
  if (m.tokenizer.vocab_size() > m.weights->config.vocab_size)
    throw Error(dir + ": tokenizer.json has " + std::to_string(m.tokenizer.vocab_size()) +
                " tokens but the model's vocabulary is " + std::to_string(m.weights->config.vocab_size));
  return m;
}

void save_weights(const Weights& w, const std::string& dir, DType storage) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec)) throw Error(dir + ": cannot create directory (" + ec.message() + ")");

  std::vector<NamedTensor> tensors;
  tensors.reserve(w.layout.size());
  for (const auto& t : w.layout)
    tensors.push_back({t.name, t.shape, std::span<const float>(w.data.data() + t.offset, t.size)});
  // Each file is atomic, the pair is not; an interrupted save that leaves a mismatched
  // pair is almost always caught by load_weights's shape check.
  write_safetensors(join(dir, "model.safetensors"), tensors, {{"format", "pt"}}, storage);
  write_config(w.config, join(dir, "config.json"));
}

void save_model(const std::string& dir, const Weights& weights, const Tokenizer& tokenizer, DType storage) {
  save_weights(weights, dir, storage);
  tokenizer.save(join(dir, "tokenizer.json"));
}

}  // namespace strata
