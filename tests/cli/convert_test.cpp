// `strata convert` (native/cli/convert.cpp): a model directory copied with its weights as
// F16 or F32, which loads again; a bad source, an --out that is the source or a file, and a
// bad --dtype are refused by name, leaving nothing behind.
#include "cli_harness.h"

#include "strata/file_util.h"

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
    bad("convert_out_is_a_file", {"convert", "--model", "{tiny}", "--out", "{text}"}, "{text}: cannot create directory"),
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

}  // namespace
}  // namespace strata::cli_test
