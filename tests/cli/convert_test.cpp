// `strata convert` (native/cli/convert.cpp): a model directory copied with its weights as
// F16 or F32, in one file or in shards, which loads again to the same figures; a non-empty
// --out is replaced only with --force; a bad source, an --out that is the source or a file,
// a bad --dtype or --shard-size are refused by name, leaving nothing behind.
#include "cli_harness.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "strata/file_util.h"
#include "strata/safetensors.h"

namespace strata::cli_test {
namespace {

const CliCase kCases[] = {
    good("convert_f16", {"convert", "--model", "{tiny}", "--out", "{out}"}, "parameters stored as f16", model_files("out")),
    good("convert_f32_into_new_parents", {"convert", "--model", "{tiny}", "--out", "{out}/nested/model", "--dtype", "f32"},
         "parameters stored as f32", [] {
           std::vector<std::string> files = model_files("out/nested/model");
           files.insert(files.end(), {"out", "out/nested"});
           return files;
         }()),
    bad("convert_missing_model_dir", {"convert", "--model", "{absent}", "--out", "{out}"}, "not a model directory"),
    bad("convert_truncated_weights", {"convert", "--model", "{truncated}", "--out", "{out}"},
        "model.safetensors: truncated"),
    bad("convert_malformed_config", {"convert", "--model", "{badconfig}", "--out", "{out}"},
        "config.json: malformed JSON"),
    bad("convert_onto_itself", {"convert", "--model", "{tiny}", "--out", "{tiny}/"}, "--out must differ from --model"),
    bad("convert_out_is_a_file", {"convert", "--model", "{tiny}", "--out", "{text}"}, "{text}: exists and is not a directory"),
    good("convert_into_an_empty_dir", {"convert", "--model", "{tiny}", "--out", "{emptydir}"}, "parameters stored as f16",
         model_files("emptydir")),
    bad("convert_out_not_empty", {"convert", "--model", "{tiny}", "--out", "{nonempty}"},
        "{nonempty}: exists and is not empty; pass --force to replace it"),
    good("convert_force_replaces_a_non_empty_out", {"convert", "--model", "{tiny}", "--out", "{nonempty}", "--force"},
         "parameters stored as f16 in 1 file (model.safetensors)", model_files("nonempty"), {"nonempty/keep.txt"}),
    bad("convert_onto_itself_with_force", {"convert", "--model", "{tiny}", "--out", "{tiny}", "--force"},
        "--out must differ from --model"),
    bad("convert_bad_shard_size", {"convert", "--model", "{tiny}", "--out", "{out}", "--shard-size", "2XB"},
        "--shard-size \"2XB\": expected a size in bytes, or with a unit"),
    bad("convert_zero_shard_size", {"convert", "--model", "{tiny}", "--out", "{out}", "--shard-size", "0"},
        "--shard-size \"0\": must be at least 1 byte"),
    bad("convert_unknown_dtype", {"convert", "--model", "{tiny}", "--out", "{out}", "--dtype", "f64"},
        "--dtype: f64 not in {f32,f16,bf16}", 105),
};

INSTANTIATE_TEST_SUITE_P(Convert, CliTest, testing::ValuesIn(kCases), case_name);

// The converted directory is a model: info reads it, with the same config and parameter
// count (only the stored dtype differs), and the F16 weights take half the bytes of the F32 ones.
TEST(ConvertTest, ConvertedModelLoadsAndF16HalvesTheWeights) {
  build_workspace();
  const CliRun f16 = run_strata({"convert", "--model", "{tiny}", "--out", "{ws}/f16"});
  const CliRun f32 = run_strata({"convert", "--model", "{tiny}", "--out", "{ws}/f32", "--dtype", "f32"});
  ASSERT_EQ(f16.exit_code, 0) << f16.err;
  ASSERT_EQ(f32.exit_code, 0) << f32.err;
  const CliRun original = run_strata({"info", "--model", "{tiny}"});
  // Held in F32 like the original, so that the memory line compares too.
  const CliRun converted = run_strata({"info", "--model", "{ws}/f16", "--dtype", "f32"});
  ASSERT_EQ(converted.exit_code, 0) << converted.err;
  // Everything but the storage line (dtype, files, size) is the same model.
  auto without_storage = [](const std::string& out) {
    const size_t at = out.find("\nstored: "), end = out.find('\n', at + 1);
    return at == std::string::npos ? out : out.substr(0, at) + out.substr(end);
  };
  EXPECT_EQ(without_storage(converted.out), without_storage(original.out));
  EXPECT_NE(converted.out.find("\nstored: F16 in 1 file (model.safetensors"), std::string::npos) << converted.out;
  EXPECT_NE(original.out.find("\nstored: F32 in 1 file (model.safetensors"), std::string::npos) << original.out;
  const size_t header_slack = 4096;
  const size_t half = read_file(workspace_path("f32") + "/model.safetensors").size() / 2;
  EXPECT_LT(read_file(workspace_path("f16") + "/model.safetensors").size(), half + header_slack);
}

// Shards: Hugging Face's names and an index that is valid JSON naming every tensor once, in
// the shard that holds it; info and eval read the sharded copy as the original (the same
// bits to the last printed digit: F32 weights, so the same logits).
TEST(ConvertTest, ShardedCopyIsTheSameModel) {
  build_workspace();
  const CliRun run = run_strata({"convert", "--model", "{tiny}", "--out", "{ws}/shards", "--dtype", "f32", "--shard-size", "40KB"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string dir = workspace_path("shards");
  const nlohmann::json index = nlohmann::json::parse(read_file(dir + "/model.safetensors.index.json"));
  ASSERT_TRUE(index["weight_map"].is_object());
  std::set<std::string> shards, tensors;
  for (const auto& [name, file] : index["weight_map"].items()) shards.insert(file.get<std::string>());
  ASSERT_GT(shards.size(), 1u);
  EXPECT_NE(run.out.find("in " + std::to_string(shards.size() + 1) + " files (shards and their index)"), std::string::npos)
      << run.out;
  size_t k = 1;
  for (const std::string& file : shards) {  // model-00001-of-0000N ... in order, none missing
    char want[64];
    std::snprintf(want, sizeof want, "model-%05zu-of-%05zu.safetensors", k++, shards.size());
    EXPECT_EQ(file, want);
    const SafetensorsReader reader = SafetensorsReader::open(dir + "/" + file);
    for (const TensorEntry& e : reader.tensors()) {
      EXPECT_TRUE(tensors.insert(e.name).second) << e.name << " in two shards";
      EXPECT_EQ(index["weight_map"][e.name], file) << e.name;
    }
  }
  EXPECT_EQ(tensors.size(), index["weight_map"].size());
  EXPECT_FALSE(file_exists(dir + "/model.safetensors"));
  const SafetensorsReader original = SafetensorsReader::open(workspace_path("tiny") + "/model.safetensors");
  EXPECT_EQ(tensors.size(), original.tensors().size());
  const CliRun a = run_strata({"eval", "--model", "{tiny}", "--ids", "{ids}", "--context", "64"});
  const CliRun b = run_strata({"eval", "--model", "{ws}/shards", "--ids", "{ids}", "--context", "64"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto figures = [](const std::string& out) { return out.substr(out.find(": ")); };  // without the path
  EXPECT_EQ(figures(a.out), figures(b.out));
  const CliRun info = run_strata({"info", "--model", "{ws}/shards"});
  EXPECT_NE(info.out.find("stored: F32 in " + std::to_string(shards.size()) + " files (model-00001-of-"), std::string::npos)
      << info.out;
}

}  // namespace
}  // namespace strata::cli_test
