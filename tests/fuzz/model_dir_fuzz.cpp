// Fuzz target: model directories. The input is the directory's files, in order
// config.json, model.safetensors, tokenizer.json, model.safetensors.index.json and a second
// shard, separated by kSeparator (in the dictionary). When the index part is present the
// weights are written as shard 1 of 2 (model-00001-of-00002.safetensors) beside
// model-00002-of-00002.safetensors, so the loader reads the directory through its index. Invariants: a refusal is a strata::Error; an accepted model runs a forward
// pass over a few tokens and gives one row of logits.
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "strata/model.h"
#include "strata/model_dir.h"

namespace {
constexpr std::string_view kSeparator = "\n--strata-file--\n";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string dir = strata::fuzz::scratch_dir() + "/model";
  std::filesystem::create_directories(dir);
  std::vector<std::string_view> parts;
  for (size_t begin = 0; parts.size() < 5;) {
    const size_t end = std::min(input.find(kSeparator, begin), input.size());
    parts.push_back(input.substr(std::min(begin, input.size()), end - std::min(begin, end)));
    begin = end == input.size() ? end : end + kSeparator.size();
  }
  const bool sharded = !parts[3].empty();
  std::filesystem::remove_all(dir);  // the previous input's files must not leak into this one
  std::filesystem::create_directories(dir);
  const char* names[] = {"config.json", sharded ? "model-00001-of-00002.safetensors" : "model.safetensors",
                         "tokenizer.json", "model.safetensors.index.json", "model-00002-of-00002.safetensors"};
  for (size_t i = 0; i < 5; ++i)
    if (i < 3 || sharded) strata::fuzz::write_bytes(dir + "/" + names[i], parts[i]);
  try {
    const strata::LoadedModel m = strata::load_model(dir);
    const strata::ModelConfig& c = m.weights->config;
    STRATA_FUZZ_CHECK(m.tokenizer.vocab_size() <= c.vocab_size);
    strata::Transformer model(m.weights);
    const int n = std::min(3, c.max_position_embeddings);
    std::vector<int32_t> tokens(static_cast<size_t>(n)), positions(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) tokens[size_t(i)] = i % c.vocab_size, positions[size_t(i)] = i;
    const auto logits = model.forward(tokens, positions, 1, n, std::vector<int>{n - 1});
    STRATA_FUZZ_CHECK(logits.size() == size_t(c.vocab_size));
  } catch (const strata::Error&) {
  }
  return 0;
}
