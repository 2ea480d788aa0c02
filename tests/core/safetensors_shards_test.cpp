// Sharded safetensors writing: shards follow Hugging Face's size rule and names, the index
// is valid JSON naming every tensor once (in the shard that holds it) with the data's total
// size, one shard is a plain model.safetensors, a sharded model directory loads back to the
// same logits, and shard sizes parse as Hugging Face spells them.
#include "strata/safetensors_shards.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "strata/file_util.h"
#include "strata/model.h"
#include "strata/model_dir.h"

#include "fixtures.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

// The shards of dir as its index maps them: file -> tensor names, each name checked to be
// mapped once and to be held by exactly that file.
std::map<std::string, std::set<std::string>> read_back(const std::string& dir, uint64_t* total_size = nullptr) {
  const nlohmann::json index = nlohmann::json::parse(read_file(dir + "/model.safetensors.index.json"));
  EXPECT_TRUE(index["weight_map"].is_object());
  if (total_size) *total_size = index["metadata"]["total_size"].get<uint64_t>();
  std::map<std::string, std::set<std::string>> mapped;
  for (const auto& [name, file] : index["weight_map"].items()) mapped[file.get<std::string>()].insert(name);
  std::set<std::string> seen;
  for (const auto& [file, names] : mapped) {
    std::set<std::string> held;
    const SafetensorsReader reader = SafetensorsReader::open(dir + "/" + file);
    for (const TensorEntry& e : reader.tensors()) {
      held.insert(e.name);
      EXPECT_TRUE(seen.insert(e.name).second) << e.name << " in two shards";
    }
    EXPECT_EQ(held, names) << file;
  }
  return mapped;
}

TEST(SafetensorsShardsTest, ShardsFollowTheSizeRuleAndTheIndexNamesEveryTensorOnce) {
  fixtures::ScratchDir dir("shards_rule");
  // 40, 40, 120, 20 and 20 bytes as F32 under a 60-byte limit: a | b | c (larger than the
  // limit, alone) | d e.
  const std::vector<float> data(30, 0.5f);
  auto t = [&](const char* name, int n) { return NamedTensor{name, {n}, std::span(data).first(size_t(n))}; };
  const std::vector<NamedTensor> tensors = {t("a", 10), t("b", 10), t("c", 30), t("d", 5), t("e", 5)};
  const auto files = write_safetensors_shards(dir.path(), tensors, {{"format", "pt"}}, DType::kF32, 60);
  EXPECT_EQ(files, (std::vector<std::string>{"model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                                             "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors",
                                             "model.safetensors.index.json"}));
  uint64_t total = 0;
  const auto mapped = read_back(dir.path(), &total);
  EXPECT_EQ(total, 240u);
  using Names = std::set<std::string>;
  EXPECT_EQ(mapped.at("model-00001-of-00004.safetensors"), Names{"a"});
  EXPECT_EQ(mapped.at("model-00003-of-00004.safetensors"), Names{"c"});
  EXPECT_EQ(mapped.at("model-00004-of-00004.safetensors"), (Names{"d", "e"}));
  // F16 halves every tensor: a b | c | d e.
  fixtures::ScratchDir half("shards_rule_f16");
  EXPECT_EQ(write_safetensors_shards(half.path(), tensors, {}, DType::kF16, 60).size(), 4u);
  EXPECT_EQ(read_back(half.path(), &total).at("model-00001-of-00003.safetensors"), (Names{"a", "b"}));
  EXPECT_EQ(total, 120u);
  // No limit, or one that holds everything: model.safetensors alone, as Hugging Face writes it.
  for (uint64_t limit : {uint64_t(0), uint64_t(240)}) {
    fixtures::ScratchDir one("shards_one");
    EXPECT_EQ(write_safetensors_shards(one.path(), tensors, {}, DType::kF32, limit),
              std::vector<std::string>{"model.safetensors"});
    EXPECT_FALSE(fs::exists(one.path() + "/model.safetensors.index.json"));
  }
}

// A model saved in shards loads back to the very same weights, so the very same logits;
// in BF16 to the logits of the single-file BF16 save. A single file left by an earlier
// save goes (the loader would prefer it to the index).
TEST(SafetensorsShardsTest, ShardedModelDirectoryRoundTripsToIdenticalLogits) {
  const ModelConfig c = fixtures::tiny_config({.vocab = 64, .context = 32});
  const auto w = fixtures::random_weights(c, 21);
  const auto tokens = fixtures::random_tokens(12, c.vocab_size, 22);
  std::vector<int32_t> positions(tokens.size());
  for (size_t i = 0; i < positions.size(); ++i) positions[i] = int32_t(i);
  auto logits = [&](std::shared_ptr<Weights> weights) {
    Transformer m(std::move(weights));
    const auto out = m.forward(tokens, positions, 1, int(tokens.size()));
    return std::vector<float>(out.begin(), out.end());
  };
  const auto expected = logits(w);
  for (DType storage : {DType::kF32, DType::kBF16}) {
    fixtures::ScratchDir single("shards_single"), sharded("shards_model");
    save_model(single.path(), *w, Tokenizer(), storage);
    save_model(sharded.path(), *w, Tokenizer(), storage);  // a single file first: it must go
    const auto files = save_model(sharded.path(), *w, Tokenizer(), storage, 4096);
    ASSERT_GT(files.size(), 3u) << "the tiny model should need several 4 KB shards";
    EXPECT_FALSE(fs::exists(sharded.path() + "/model.safetensors"));
    const auto mapped = read_back(sharded.path());
    size_t names = 0;
    for (const auto& [file, n] : mapped) names += n.size();
    EXPECT_EQ(names, w->layout.size());
    CheckpointInfo info;
    const auto loaded = std::make_shared<Weights>(load_weights(sharded.path(), &info));
    EXPECT_EQ(info.files.size(), files.size() - 1);
    EXPECT_EQ(info.dtypes, dtype_name(storage));
    const auto from_single = logits(std::make_shared<Weights>(load_weights(single.path())));
    EXPECT_EQ(logits(loaded), from_single) << dtype_name(storage);
    if (storage == DType::kF32) {
      EXPECT_EQ(from_single, expected);
    }
  }
}

TEST(SafetensorsShardsTest, ShardSizesParseAsHuggingFaceSpellsThem) {
  EXPECT_EQ(parse_byte_size("2GB", "--shard-size"), 2000000000u);
  EXPECT_EQ(parse_byte_size("500MB", "--shard-size"), 500000000u);
  EXPECT_EQ(parse_byte_size("5gb", "--shard-size"), 5000000000u);
  EXPECT_EQ(parse_byte_size("1GiB", "--shard-size"), 1073741824u);
  EXPECT_EQ(parse_byte_size("1.5KiB", "--shard-size"), 1536u);
  EXPECT_EQ(parse_byte_size("4096", "--shard-size"), 4096u);
  EXPECT_EQ(parse_byte_size("10kb", "--shard-size"), 10000u);
  for (const char* bad : {"", "GB", "-1", "2XB", "1.2.3", "2 GB", ".5GB", "1e9"})
    EXPECT_NE(fixtures::error_of([&] { parse_byte_size(bad, "--shard-size"); })
                  .find("--shard-size \"" + std::string(bad) + "\": expected a size in bytes"),
              std::string::npos)
        << bad;
  EXPECT_NE(fixtures::error_of([&] { parse_byte_size("0", "--shard-size"); }).find("must be at least 1 byte"),
            std::string::npos);
  EXPECT_NE(fixtures::error_of([&] { parse_byte_size("99999999999TB", "--shard-size"); }).find("more bytes than any file"),
            std::string::npos);
}

}  // namespace
}  // namespace strata
