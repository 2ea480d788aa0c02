// Model directories: save/load is bit-exact, and loading refuses anything that does not
// match config.json exactly (missing, extra or wrongly shaped tensors, missing files),
// naming what is wrong.
#include "strata/model_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "strata/config.h"
#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/safetensors.h"

#include "fixtures.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

std::string test_dir() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  fs::path p = fs::path(testing::TempDir()) /
               ("strata_md_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

ModelConfig small_config(bool tied) {
  ModelConfig c = fixtures::tiny_config({.vocab = 50, .intermediate = 48, .context = 256});
  c.tie_word_embeddings = tied;
  return c;
}

Weights random_weights(const ModelConfig& c, uint64_t seed = 1) { return *fixtures::random_weights(c, seed, 0.02f); }

std::vector<NamedTensor> named(const Weights& w) {
  std::vector<NamedTensor> t;
  for (const auto& info : w.layout)
    t.push_back({info.name, info.shape, std::span<const float>(w.data.data() + info.offset, info.size)});
  return t;
}

// A directory with w's config.json and the given tensors as model.safetensors.
std::string write_dir(const Weights& w, const std::vector<NamedTensor>& tensors, const std::string& name) {
  const std::string dir = (fs::path(test_dir()) / name).string();
  fs::create_directories(dir);
  write_config(w.config, (fs::path(dir) / "config.json").string());
  write_safetensors((fs::path(dir) / "model.safetensors").string(), tensors);
  return dir;
}

std::string load_error(const std::string& dir) {
  try {
    load_weights(dir);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << dir << ": loaded without error";
  return "";
}

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

void expect_identical(const Weights& a, const Weights& b) {
  EXPECT_EQ(config_to_json(a.config), config_to_json(b.config));
  ASSERT_EQ(a.data.size(), b.data.size());
  EXPECT_EQ(std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)), 0);
}

TEST(ModelDirTest, RoundTripTiedIsBitIdentical) {
  const Weights w = random_weights(small_config(true), 42);
  const std::string dir = (fs::path(test_dir()) / "nested" / "model").string();
  save_weights(w, dir);  // creates missing parents
  EXPECT_TRUE(file_exists((fs::path(dir) / "config.json").string()));
  const auto r = SafetensorsReader::open((fs::path(dir) / "model.safetensors").string());
  EXPECT_EQ(r.metadata().at("format"), "pt");
  EXPECT_EQ(r.find("lm_head.weight"), nullptr);
  EXPECT_EQ(r.tensors().size(), w.layout.size());

  const Weights loaded = load_weights(dir);
  expect_identical(w, loaded);
  EXPECT_EQ(loaded.view.lm_head, loaded.view.embed);
}

TEST(ModelDirTest, RoundTripUntiedGemmaIsBitIdentical) {
  ModelConfig c = small_config(false);
  c.model_type = "gemma";
  c.hidden_act = Activation::kGeluTanh;
  c.scale_embeddings = true;
  c.norm_weight_plus_one = true;
  c.rms_norm_eps = 1e-6f;
  const Weights w = random_weights(c, 7);
  const std::string dir = test_dir();
  save_weights(w, dir);
  save_weights(w, dir);  // overwriting an existing model is fine
  const Weights loaded = load_weights(dir);
  expect_identical(w, loaded);
  EXPECT_NE(loaded.view.lm_head, loaded.view.embed);
}

TEST(ModelDirTest, MissingDirectoryOrFiles) {
  const std::string root = test_dir();
  EXPECT_TRUE(contains(load_error((fs::path(root) / "absent").string()), "not a model directory"));

  const Weights w = random_weights(small_config(true));
  const std::string dir = (fs::path(root) / "m").string();
  save_weights(w, dir);
  fs::remove(fs::path(dir) / "model.safetensors");
  std::string msg = load_error(dir);
  EXPECT_TRUE(contains(msg, dir + ": not a model directory (model.safetensors missing)")) << msg;

  save_weights(w, dir);
  fs::remove(fs::path(dir) / "config.json");
  msg = load_error(dir);
  EXPECT_TRUE(contains(msg, dir + ": not a model directory (config.json missing)")) << msg;

  // A file where the directory should be.
  const std::string file = (fs::path(root) / "file").string();
  write_file_atomic(file, "x");
  EXPECT_TRUE(contains(load_error(file), "not a model directory"));
}

TEST(ModelDirTest, WrongShapeIsRejectedNamingTheTensor) {
  const Weights w = random_weights(small_config(true));
  auto tensors = named(w);
  const std::string target = "model.layers.1.mlp.gate_proj.weight";
  for (auto& t : tensors)
    if (t.name == target) t.shape = {32, 48};  // transposed: same size, wrong layout
  const std::string msg = load_error(write_dir(w, tensors, "m"));
  EXPECT_TRUE(contains(msg, target)) << msg;
  EXPECT_TRUE(contains(msg, "[32, 48]")) << msg;
  EXPECT_TRUE(contains(msg, "[48, 32]")) << msg;
}

TEST(ModelDirTest, MissingTensorIsRejected) {
  const Weights w = random_weights(small_config(true));
  auto tensors = named(w);
  const std::string target = "model.layers.0.self_attn.k_proj.weight";
  std::erase_if(tensors, [&](const NamedTensor& t) { return t.name == target; });
  const std::string msg = load_error(write_dir(w, tensors, "m"));
  EXPECT_TRUE(contains(msg, target + " missing")) << msg;
  EXPECT_TRUE(contains(msg, "[16, 32]")) << msg;
}

TEST(ModelDirTest, UntiedModelNeedsLmHead) {
  const Weights w = random_weights(small_config(false));
  auto tensors = named(w);
  std::erase_if(tensors, [](const NamedTensor& t) { return t.name == "lm_head.weight"; });
  const std::string msg = load_error(write_dir(w, tensors, "m"));
  EXPECT_TRUE(contains(msg, "lm_head.weight missing")) << msg;
}

TEST(ModelDirTest, UnknownTensorIsRejected) {
  const Weights w = random_weights(small_config(true));
  auto tensors = named(w);
  std::vector<float> extra(4, 1.0f);
  tensors.push_back({"model.layers.0.self_attn.rotary_emb.inv_freq", {4}, extra});
  const std::string msg = load_error(write_dir(w, tensors, "m"));
  EXPECT_TRUE(contains(msg, "unexpected tensor model.layers.0.self_attn.rotary_emb.inv_freq")) << msg;
}

TEST(ModelDirTest, TiedModelIgnoresRedundantLmHead) {
  const Weights w = random_weights(small_config(true));
  auto tensors = named(w);
  std::vector<float> head(size_t(50 * 32), 3.0f);  // deliberately not the embedding
  tensors.push_back({"lm_head.weight", {50, 32}, head});
  const Weights loaded = load_weights(write_dir(w, tensors, "m"));
  expect_identical(w, loaded);
}

TEST(ModelDirTest, LoadsBF16Checkpoint) {
  // Hugging Face checkpoints are commonly bf16; loading must widen them exactly.
  const Weights w = random_weights(small_config(true), 3);
  nlohmann::json header = {{"__metadata__", {{"format", "pt"}}}};
  std::string data;
  Weights want(w.config);
  for (const auto& t : w.layout) {
    header[t.name] = {{"dtype", "BF16"}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + 2 * t.size}}};
    for (size_t i = 0; i < t.size; ++i) {
      const uint32_t u = std::bit_cast<uint32_t>(w.data[t.offset + i]);
      data.push_back(char((u >> 16) & 0xff));
      data.push_back(char(u >> 24));
      want.data[t.offset + i] = std::bit_cast<float>(u & 0xffff0000u);
    }
  }
  std::string h = header.dump();
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(char((uint64_t(h.size()) >> (8 * i)) & 0xff));
  bytes += h + data;

  const std::string dir = test_dir();
  write_config(w.config, (fs::path(dir) / "config.json").string());
  write_file_atomic((fs::path(dir) / "model.safetensors").string(), bytes);
  expect_identical(want, load_weights(dir));
}

TEST(ModelDirTest, CorruptFilesAreRejected) {
  const Weights w = random_weights(small_config(true));
  const std::string dir = test_dir();
  save_weights(w, dir);
  const std::string model = (fs::path(dir) / "model.safetensors").string();
  const std::string bytes = read_file(model);
  write_file_atomic(model, bytes.substr(0, bytes.size() / 2));
  std::string msg = load_error(dir);
  EXPECT_TRUE(contains(msg, "model.safetensors: truncated")) << msg;

  save_weights(w, dir);
  write_file_atomic((fs::path(dir) / "config.json").string(), "{\"vocab_size\": ");
  msg = load_error(dir);
  EXPECT_TRUE(contains(msg, "config.json")) << msg;
}


// Fuzzing finding (issue 11): a valid 150-byte config.json made the loader allocate the
// weights it describes before model.safetensors was opened. Here that would be 2^39 bytes;
// the file is checked first, so the refusal names the missing tensor instead.
TEST(ModelDirTest, HugeConfigIsCheckedAgainstTheFileBeforeAllocating) {
  const std::string dir = test_dir() + "/huge";
  fs::create_directories(dir);
  write_file_atomic(dir + "/config.json", R"({"vocab_size": 2097152, "hidden_size": 65536, "intermediate_size": 64,
      "num_hidden_layers": 1, "num_attention_heads": 1, "head_dim": 64, "tie_word_embeddings": true})");
  write_safetensors(dir + "/model.safetensors", {});
  const std::string message = load_error(dir);
  EXPECT_TRUE(contains(message, "model.embed_tokens.weight missing")) << message;
  // Allocating such a model directly is a one-line strata::Error too (more than any machine's
  // RAM here), neither std::bad_alloc nor an allocator abort under the sanitizers.
  try {
    Weights w(read_config(dir + "/config.json"));
    ADD_FAILURE() << "a 2^37-parameter model was allocated";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "more than this machine's")) << e.what();
  }
}

}  // namespace
}  // namespace strata
