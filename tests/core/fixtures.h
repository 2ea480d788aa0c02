// The test suite's model fixtures, in one place: tiny random models of either family,
// random token streams, model directories written by the core itself, scratch
// directories and shell quoting. No GoogleTest here, so the WebAssembly tests (web/tests) use the same
// fixtures.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "strata/error.h"
#include "strata/model_dir.h"
#include "strata/tokenizer.h"
#include "strata/weights.h"

namespace strata::fixtures {

enum class Family { kLlama, kGemma };

// The sizes of a tiny model; the defaults: 2 layers, d 32, 4 heads of 8 (2 kv heads),
// gated MLP 64, context 32.
struct Shape {
  int vocab = 48, hidden = 32, intermediate = 64, layers = 2, heads = 4, kv_heads = 2, head_dim = 8, context = 32;
};

// Llama: SwiGLU, untied head unless told. Gemma: GeGLU (tanh), tied head, embeddings scaled
// by sqrt(d), RMSNorm weights as 1 + w.
inline ModelConfig tiny_config(const Shape& s = {}, Family family = Family::kLlama) {
  const bool gemma = family == Family::kGemma;
  ModelConfig c;
  c.model_type = gemma ? "gemma" : "llama";
  c.vocab_size = s.vocab;
  c.hidden_size = s.hidden;
  c.intermediate_size = s.intermediate;
  c.num_hidden_layers = s.layers;
  c.num_attention_heads = s.heads;
  c.num_key_value_heads = s.kv_heads;
  c.head_dim = s.head_dim;
  c.max_position_embeddings = s.context;
  c.rms_norm_eps = gemma ? 1e-6f : 1e-5f;
  c.mlp = gemma ? Mlp::kGeluTanhGated : Mlp::kSiLUGated;
  c.tie_word_embeddings = gemma;
  c.scale_embeddings = gemma;
  c.norm = gemma ? NormKind::kRMSNormPlusOne : NormKind::kRMSNorm;
  return c;
}

// The default Llama shape with another vocabulary. One argument only: with a second,
// tiny_config({}, Family::kGemma) would pick this overload (vocab 0) over the Shape one.
inline ModelConfig tiny_config(int vocab) {
  Shape s;
  s.vocab = vocab;
  return tiny_config(s);
}

// The config.json of a tiny Hugging Face Llama-like model (llama, mistral, qwen2, gemma,
// gemma2): vocab 61, d 32, MLP 48, 2 layers, context 128, float32; a test adds its options.
inline nlohmann::json llama_like_json(const char* type, int heads, int kv, int head_dim) {
  return {{"model_type", type}, {"vocab_size", 61}, {"hidden_size", 32}, {"intermediate_size", 48},
          {"num_hidden_layers", 2}, {"num_attention_heads", heads}, {"num_key_value_heads", kv},
          {"head_dim", head_dim}, {"max_position_embeddings", 128}, {"rms_norm_eps", 1e-5},
          {"rope_theta", 10000.0}, {"torch_dtype", "float32"}};
}

inline std::shared_ptr<Weights> random_weights(const ModelConfig& c, uint64_t seed, float std = 0.3f) {
  auto w = std::make_shared<Weights>(c);
  w->init_random(seed, std);
  return w;
}

// Every logit is 0 whatever the context: the final norm's weight is zero (a Llama-style
// RMSNorm multiplies by it), so every prediction is the uniform distribution.
inline std::shared_ptr<Weights> context_free_weights(const ModelConfig& c, uint64_t seed) {
  auto w = random_weights(c, seed);
  std::fill_n(w->view.final_norm, w->config.hidden_size, 0.0f);
  return w;
}

// The prediction depends on the last token only (a bigram model): every residual branch
// is switched off (o_proj and down_proj zero), so a row's hidden state is exactly its
// token's embedding whatever the context and position.
inline std::shared_ptr<Weights> bigram_weights(const ModelConfig& c, uint64_t seed) {
  auto w = random_weights(c, seed);
  for (const LayerTensors<float*>& l : bind_weights(c, w->data.data()).layers) {
    std::fill_n(l.wo, size_t(c.hidden_size) * c.q_dim(), 0.0f);
    std::fill_n(l.w_down, size_t(c.hidden_size) * c.intermediate_size, 0.0f);
  }
  return w;
}

inline std::vector<int32_t> random_tokens(int n, int vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> d(0, vocab - 1);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = d(rng);
  return t;
}

// A complete model directory (config.json, model.safetensors, tokenizer.json) of a random
// model with the byte-level tokenizer; vocab 256. Returns its config.
inline ModelConfig write_byte_model_dir(const std::string& dir, int context = 64, uint64_t seed = 7) {
  Shape s;
  s.vocab = Tokenizer::kByteVocabSize;
  s.context = context;
  const ModelConfig c = tiny_config(s);
  std::filesystem::create_directories(dir);
  save_model(dir, *random_weights(c, seed, 0.02f), Tokenizer());
  return c;
}

// A fresh, empty directory for one test, <temp>/strata_<name>_<pid>, removed with its
// contents when the object goes.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_((std::filesystem::temp_directory_path() / ("strata_" + name + "_" + std::to_string(::getpid())))
                  .string()) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A SentencePiece-like tokenizer.json: a BPE over characters, "▁" for spaces (prepended by
// the normalizer, stripped once by the decoder), byte fallback, <unk> 0 and <s> 1 (its BOS).
inline nlohmann::json spm_tokenizer() {
  using J = nlohmann::json;
  J vocab = {{"<unk>", 0}, {"<s>", 1}, {"\xE2\x96\x81", 2}, {"a", 3}, {"b", 4}, {"ab", 5}, {"\xE2\x96\x81" "ab", 6},
             {"c", 7}, {"bc", 8}};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab[name] = 9 + b;
  }
  return {{"added_tokens", J::array({{{"id", 0}, {"content", "<unk>"}, {"special", true}},
                                     {{"id", 1}, {"content", "<s>"}, {"special", true}}})},
          {"normalizer", {{"type", "Sequence"},
                          {"normalizers", J::array({{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}},
                                                    {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}}})}}},
          {"pre_tokenizer", nullptr},
          {"post_processor", {{"type", "TemplateProcessing"},
                              {"single", J::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                                   {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                              {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
          {"decoder", {{"type", "Sequence"},
                       {"decoders", J::array({{{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}},
                                              {{"type", "ByteFallback"}}, {{"type", "Fuse"}},
                                              {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}}},
          {"model", {{"type", "BPE"}, {"unk_token", "<unk>"}, {"byte_fallback", true}, {"fuse_unk", true},
                     {"vocab", vocab}, {"merges", J::array({"a b", "\xE2\x96\x81 ab", "b c"})}}}};
}

// s in single quotes for a POSIX shell, for tests that run a command line.
// The message of the strata::Error that f throws, or "(no error)".
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace strata::fixtures
