// `strata generate` (native/cli/generate.cpp): streamed text equal to the library's
// decoding of the tokens it draws, seeds that repeat and differ, and bad options refused
// on one line before the model is read.
#include <algorithm>

#include "cli_harness.h"
#include "strata/generate.h"
#include "strata/model_dir.h"

namespace strata::cli_test {
namespace {

// {tiny} reads one token per byte and has a context of 256 tokens.
const CliCase kCases[] = {
    good("generate_greedy", {"generate", "--model", "{tiny}", "--prompt", "Hello", "--tokens", "8", "--temperature", "0"}, ""),
    good("generate_default_model", {"generate", "--model", "{default}", "--prompt", "It was", "--tokens", "4", "--top-k",
                                    "40", "--top-p", "0.9", "--seed", "3"}, ""),
    good("generate_no_tokens", {"generate", "--model", "{tiny}", "--prompt", "Hello", "--tokens", "0"}, "\n"),
    good("generate_fills_the_context", {"generate", "--model", "{tiny}", "--prompt", "abcd", "--tokens", "252", "--quiet"}, ""),

    bad("generate_negative_tokens", {"generate", "--model", "{tiny}", "--prompt", "Hi", "--tokens", "-3"},
        "--tokens must be >= 0, got -3"),
    bad("generate_negative_temperature", {"generate", "--model", "{tiny}", "--prompt", "Hi", "--temperature", "-1"},
        "temperature must be a finite number >= 0"),
    bad("generate_top_p_zero", {"generate", "--model", "{tiny}", "--prompt", "Hi", "--top-p", "0"}, "top-p must be in (0, 1]"),
    bad("generate_top_p_above_one", {"generate", "--model", "{tiny}", "--prompt", "Hi", "--top-p", "1.5"},
        "top-p must be in (0, 1], got 1.5"),
    bad("generate_negative_top_k", {"generate", "--model", "{tiny}", "--prompt", "Hi", "--top-k", "-2"},
        "top-k must be >= 0 (0 keeps every token), got -2"),
    bad("generate_empty_prompt", {"generate", "--model", "{tiny}", "--prompt", ""}, "--prompt is empty"),
    bad("generate_past_the_context", {"generate", "--model", "{tiny}", "--prompt", "abcd", "--tokens", "253"},
        "4 prompt tokens + 253 new ones would pass the model's context of 256 tokens"),
    bad("generate_missing_model_dir", {"generate", "--model", "{absent}", "--prompt", "Hi"}, "not a model directory"),
    bad("generate_unknown_bos_mode", {"generate", "--model", "{tiny}", "--prompt", "Hi", "--bos", "sometimes"}, "sometimes"),
};

INSTANTIATE_TEST_SUITE_P(Generate, CliTest, testing::ValuesIn(kCases), case_name);

// What the library draws for the same prompt and options, decoded at once.
std::string library_text(const std::string& prompt_text, int n, const SamplingOptions& o) {
  const LoadedModel m = load_model(workspace_path("tiny"));
  Decoder decoder(m.weights);
  Sampler sampler(o);
  const std::vector<int32_t> drawn = generate(decoder, m.tokenizer.encode(prompt_text), n, sampler);
  return m.tokenizer.decode(drawn);
}

TEST(GenerateCli, StreamsTheTextOfTheTokensItDraws) {
  build_workspace();
  // {tiny}'s byte-level tokens: a sampled continuation is often not valid UTF-8, so the
  // stream must put out every byte once, holding a partial character until it is whole.
  const CliRun r = run_strata({"generate", "--model", "{tiny}", "--prompt", "Once upon a time", "--tokens", "40",
                               "--temperature", "1.5", "--seed", "7"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, library_text("Once upon a time", 40, {.temperature = 1.5f, .seed = 7}) + "\n");
  EXPECT_NE(r.err.find("40 tokens generated"), std::string::npos) << r.err;
}

TEST(GenerateCli, OneSeedRepeatsAndAnotherDiffers) {
  build_workspace();
  auto text = [](const std::string& seed) {
    return run_strata({"generate", "--model", "{tiny}", "--prompt", "Hi", "--tokens", "30", "--seed", seed, "--quiet"}).out;
  };
  EXPECT_EQ(text("1"), text("1"));
  EXPECT_NE(text("1"), text("2"));  // near-uniform over 256 bytes: 30 equal draws by chance is impossible in practice
}

}  // namespace
}  // namespace strata::cli_test
