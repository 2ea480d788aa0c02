// Model directories: save/load is bit-exact, and loading refuses anything that does not
// match config.json exactly (missing, extra or wrongly shaped tensors, missing files),
// naming what is wrong.
#include "strata/model_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <functional>
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
  c.mlp = Mlp::kGeluTanhGated;
  c.scale_embeddings = true;
  c.norm = NormKind::kRMSNormPlusOne;
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
  EXPECT_TRUE(contains(msg, dir + ": not a model directory (model.safetensors and model.safetensors.index.json missing)")) << msg;

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
  expect_identical(want, load_weights(dir, nullptr, DType::kF32));
  // Held as stored: an unpadded header may leave the data at an odd address, where a 16-bit
  // matrix is copied rather than mapped; the values are the same either way.
  const Weights held = load_weights(dir);
  EXPECT_EQ(held.matrix_dtypes(), "BF16");
  size_t matrix_elements = 0;
  for (const auto& t : held.layout) matrix_elements += t.shape.size() == 2 ? t.size : 0;
  EXPECT_EQ(held.mapped_bytes() + held.data16.size() * 2, matrix_elements * 2);
  for (const auto& t : held.layout) {
    std::vector<float> v(t.size);
    widen_to_f32(held.tensor_data(t), t.dtype, t.size, v.data());
    EXPECT_EQ(std::memcmp(v.data(), want.data.data() + want.find(t.name)->offset, t.size * 4), 0) << t.name;
  }
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


// ---- Sharded checkpoints ---------------------------------------------------------------

// w saved, then split into shards of the given tensor names (the rest in the last shard),
// with an index; each shard stored as `storage`. Returns the directory.
std::string write_sharded(const Weights& w, const std::string& name, DType storage = DType::kF32, int shards = 2) {
  const std::string dir = (fs::path(test_dir()) / name).string();
  fs::create_directories(dir);
  write_config(w.config, (fs::path(dir) / "config.json").string());
  const auto all = named(w);
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  const size_t per = (all.size() + size_t(shards) - 1) / size_t(shards);
  for (int k = 0; k < shards; ++k) {
    char file[64];
    std::snprintf(file, sizeof file, "model-%05d-of-%05d.safetensors", k + 1, shards);
    std::vector<NamedTensor> part(all.begin() + std::ptrdiff_t(std::min(all.size(), k * per)),
                                  all.begin() + std::ptrdiff_t(std::min(all.size(), (k + 1) * per)));
    write_safetensors((fs::path(dir) / file).string(), part, {{"format", "pt"}}, storage);
    for (const auto& t : part) index["weight_map"][t.name] = file;
  }
  write_file_atomic((fs::path(dir) / "model.safetensors.index.json").string(), index.dump(2));
  return dir;
}

nlohmann::json read_index(const std::string& dir) {
  return nlohmann::json::parse(read_file((fs::path(dir) / "model.safetensors.index.json").string()));
}
void write_index(const std::string& dir, const nlohmann::json& j) {
  write_file_atomic((fs::path(dir) / "model.safetensors.index.json").string(), j.dump(2));
}

TEST(ModelDirTest, ShardedCheckpointLoadsLikeOneFile) {
  const Weights w = random_weights(small_config(false), 5);
  CheckpointInfo info;
  const Weights loaded = load_weights(write_sharded(w, "three", DType::kF32, 3), &info);
  expect_identical(w, loaded);
  EXPECT_EQ(info.files, (std::vector<std::string>{"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                                                  "model-00003-of-00003.safetensors"}));
  EXPECT_EQ(info.dtypes, "F32");
  // BF16 shards: the weights are the BF16 roundings of the originals.
  const Weights bf16 = load_weights(write_sharded(w, "bf16", DType::kBF16), &info, DType::kF32);
  EXPECT_EQ(info.dtypes, "BF16");
  for (size_t i = 0; i < w.data.size(); i += 97) EXPECT_EQ(bf16.data[i], bf16_to_f32(f32_to_bf16(w.data[i])));
}

// Bytes of w's tensors of rank `rank` held as `t`.
size_t bytes_of(const Weights& w, size_t rank, DType t) {
  size_t n = 0;
  for (const auto& info : w.layout)
    if (info.shape.size() == rank) n += info.size * dtype_size(t);
  return n;
}

// A sharded BF16 (or F16) checkpoint holds its matrices where the files are mapped: the only
// memory it owns is the float32 norms, so no float copy of a matrix exists. --dtype
// converts instead: f32 into one float buffer (trainable), the other 16-bit type into owned
// 16-bit memory; and every way of holding them gives the same values.
TEST(ModelDirTest, SixteenBitMatricesStayMappedUnlessDtypeConverts) {
  const Weights w = random_weights(small_config(false), 8);
  for (DType stored : {DType::kBF16, DType::kF16}) {
    const std::string dir = write_sharded(w, std::string("mapped_") + dtype_name(stored), stored);
    const DType other = stored == DType::kBF16 ? DType::kF16 : DType::kBF16;
    const Weights held = load_weights(dir);
    EXPECT_EQ(held.matrix_dtypes(), dtype_name(stored));
    EXPECT_EQ(held.owned_bytes(), bytes_of(w, 1, DType::kF32));  // the vectors, nothing more
    EXPECT_TRUE(held.data16.empty());
    EXPECT_EQ(held.mapped_bytes(), bytes_of(w, 2, stored));
    EXPECT_FALSE(held.flat_f32());
    for (const auto& t : held.layout) EXPECT_EQ(t.mapped != nullptr, t.shape.size() == 2) << t.name;

    const Weights f32 = load_weights(dir, nullptr, DType::kF32);
    EXPECT_TRUE(f32.flat_f32());
    EXPECT_EQ(f32.mapped_bytes(), 0u);
    EXPECT_EQ(f32.owned_bytes(), size_t(w.config.parameter_count()) * 4);
    const Weights converted = load_weights(dir, nullptr, other);
    EXPECT_EQ(converted.matrix_dtypes(), dtype_name(other));
    EXPECT_EQ(converted.mapped_bytes(), 0u);
    EXPECT_EQ(converted.data16.size() * 2, bytes_of(w, 2, other));

    for (const auto& t : held.layout) {
      std::vector<float> a(t.size), b(t.size), c(t.size);
      widen_to_f32(held.tensor_data(t), t.dtype, t.size, a.data());
      const TensorInfo& in_converted = *converted.find(t.name);
      widen_to_f32(f32.tensor_data(*f32.find(t.name)), DType::kF32, t.size, b.data());
      widen_to_f32(converted.tensor_data(in_converted), in_converted.dtype, t.size, c.data());
      ASSERT_EQ(a, b) << t.name;
      // Rounding the stored values to the other 16-bit type is what converting them gives.
      for (size_t i = 0; i < t.size; i += 13) {
        const float want = t.shape.size() == 1 ? a[i]
                           : other == DType::kF16 ? f16_to_f32(f32_to_f16(a[i]))
                                                  : bf16_to_f32(f32_to_bf16(a[i]));
        ASSERT_EQ(c[i], want) << t.name << "[" << i << "]";
      }
    }
  }
}

TEST(ModelDirTest, BadIndexIsRejectedNamingTheProblem) {
  const Weights w = random_weights(small_config(true), 6);
  const std::string first = "model-00001-of-00002.safetensors", second = "model-00002-of-00002.safetensors";
  const std::string moved = w.layout.back().name;  // held by the second shard
  struct Case {
    const char* name;
    std::function<void(const std::string& dir)> damage;
    std::string message;
  };
  const Case cases[] = {
      {"missing_shard", [&](const std::string& d) { fs::remove(fs::path(d) / second); },
       "model.safetensors.index.json: names shard " + second + ", which is missing"},
      {"index_names_absent_tensor",
       [&](const std::string& d) {
         auto j = read_index(d);
         j["weight_map"]["model.layers.9.mlp.up_proj.weight"] = first;
         write_index(d, j);
       },
       "model.safetensors.index.json: maps tensor model.layers.9.mlp.up_proj.weight to " + first + ", which does not hold it"},
      {"tensor_in_no_index_entry",
       [&](const std::string& d) {
         auto j = read_index(d);
         j["weight_map"].erase(moved);
         write_index(d, j);
       },
       second + ": tensor " + moved + " is not in model.safetensors.index.json"},
      {"index_maps_to_wrong_shard",
       [&](const std::string& d) {
         auto j = read_index(d);
         j["weight_map"][moved] = first;
         write_index(d, j);
       },
       second + ": tensor " + moved + " is here but the index maps it to " + first},
      {"duplicated_tensor",
       [&](const std::string& d) {
         // The second shard also holds the embedding, which the first one has.
         std::vector<NamedTensor> part = {named(w).front(), named(w).back()};
         write_safetensors((fs::path(d) / second).string(), part);
       },
       "tensor model.embed_tokens.weight appears in both " + first + " and " + second},
      {"shard_outside_directory",
       [&](const std::string& d) {
         auto j = read_index(d);
         j["weight_map"][moved] = "../elsewhere.safetensors";
         write_index(d, j);
       },
       "names \"../elsewhere.safetensors\", not a file in the model directory"},
      {"malformed_index", [&](const std::string& d) { write_index(d, nlohmann::json::array()); },
       "model.safetensors.index.json: expected an object with a \"weight_map\" object"},
      {"tensor_missing_everywhere",
       [&](const std::string& d) {
         auto j = read_index(d);
         std::vector<NamedTensor> part;
         for (const NamedTensor& t : named(w))
           if (j["weight_map"][t.name] == second && t.name != moved) part.push_back(t);
         j["weight_map"].erase(moved);
         write_index(d, j);
         write_safetensors((fs::path(d) / second).string(), part);
       },
       "tensor " + moved + " missing"},
  };
  for (const Case& c : cases) {
    const std::string dir = write_sharded(w, c.name);
    c.damage(dir);
    const std::string msg = load_error(dir);
    EXPECT_TRUE(contains(msg, c.message)) << c.name << ": " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << c.name << ": " << msg;
  }
}

// GPT-2: Conv1D matrices are stored (in, out) and held (out, in); saving writes them back.
TEST(ModelDirTest, Gpt2RoundTripKeepsConv1DLayout) {
  const ModelConfig c = config_from_json({{"model_type", "gpt2"}, {"vocab_size", 40}, {"n_embd", 16}, {"n_layer", 2},
                                          {"n_head", 2}, {"n_positions", 32}});
  const Weights w = random_weights(c, 9);
  const std::string dir = test_dir();
  save_weights(w, dir);
  const auto r = SafetensorsReader::open((fs::path(dir) / "model.safetensors").string());
  const TensorEntry* fc = r.find("transformer.h.0.mlp.c_fc.weight");
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(fc->shape, (std::vector<int64_t>{16, 64}));  // (in, out)
  const std::vector<float> stored = r.read_f32(*fc);
  const float* held = static_cast<const float*>(w.view.layers[0].w_up.data);  // (out 64, in 16), F32
  EXPECT_EQ(stored[1 * 64 + 5], held[5 * 16 + 1]);
  expect_identical(w, load_weights(dir));
}

}  // namespace
}  // namespace strata
