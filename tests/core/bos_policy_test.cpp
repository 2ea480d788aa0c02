// BOS/EOS resolution from a model directory's files: each file and key in its order of
// precedence, the overrides, and refusals naming the file.
#include "strata/bos_policy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "strata/error.h"
#include "strata/file_util.h"

#include "fixtures.h"

namespace strata {
namespace {

namespace fs = std::filesystem;
using J = nlohmann::json;

// A tiny tokenizer with "<s>" (1) and "</s>" (2), optionally a template putting <s> first.
Tokenizer tiny(bool with_template) {
  J j = {{"added_tokens", J::array({{{"id", 1}, {"content", "<s>"}, {"special", true}},
                                    {{"id", 2}, {"content", "</s>"}, {"special", true}}})},
         {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"<s>", 1}, {"</s>", 2}}}, {"merges", J::array()}}}};
  if (with_template)
    j["post_processor"] = {{"type", "TemplateProcessing"},
                           {"single", J::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                           {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
  return Tokenizer::from_json(j.dump());
}

std::string fresh_dir() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  const fs::path p = fs::path(testing::TempDir()) / ("strata_bos_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

TEST(BosPolicyTest, FollowsTheFilesInOrder) {
  const std::string dir = fresh_dir();
  // No files: the tokenizer's own template decides.
  BosPolicy p = resolve_bos_policy(dir, tiny(true));
  EXPECT_EQ(p.bos_id, 1);
  EXPECT_TRUE(p.add_bos);
  EXPECT_EQ(p.eos_id, -1);
  p = resolve_bos_policy(dir, tiny(false));
  EXPECT_FALSE(p.add_bos);
  // config.json ids, then generation_config.json over them, then tokenizer_config.json over both.
  write_file_atomic(dir + "/config.json", J{{"bos_token_id", 2}, {"eos_token_id", J::array({1, 2})}}.dump());
  p = resolve_bos_policy(dir, tiny(false));
  EXPECT_EQ(p.bos_id, 2);
  EXPECT_EQ(p.eos_id, 1);
  write_file_atomic(dir + "/generation_config.json", J{{"bos_token_id", 1}, {"eos_token_id", 2}}.dump());
  p = resolve_bos_policy(dir, tiny(false));
  EXPECT_EQ(p.bos_id, 1);
  EXPECT_EQ(p.eos_id, 2);
  write_file_atomic(dir + "/tokenizer_config.json",
                    J{{"bos_token", {{"__type", "AddedToken"}, {"content", "</s>"}}}, {"eos_token", "<s>"}, {"add_bos_token", true}}.dump());
  p = resolve_bos_policy(dir, tiny(false));
  EXPECT_EQ(p.bos_id, 2);
  EXPECT_EQ(p.eos_id, 1);
  EXPECT_TRUE(p.add_bos);
  EXPECT_EQ(p.reason, "tokenizer_config.json add_bos_token");
  // Overrides.
  EXPECT_FALSE(resolve_bos_policy(dir, tiny(false), BosMode::kNever).add_bos);
  write_file_atomic(dir + "/tokenizer_config.json", J{{"add_bos_token", false}}.dump());
  EXPECT_FALSE(resolve_bos_policy(dir, tiny(true)).add_bos);
  EXPECT_TRUE(resolve_bos_policy(dir, tiny(true), BosMode::kAlways).add_bos);
  EXPECT_EQ(parse_bos_mode("always"), BosMode::kAlways);
  EXPECT_THROW(parse_bos_mode("sometimes"), Error);
}

// Token ids scored without a tokenizer: ids come from config.json / generation_config.json,
// checked against the model's vocabulary; a token named by its text is skipped; auto adds
// a BOS only when tokenizer_config.json says so.
TEST(BosPolicyTest, WithoutATokenizer) {
  const std::string dir = fresh_dir();
  BosPolicy p = resolve_bos_policy(dir, nullptr, 100, BosMode::kAuto);
  EXPECT_EQ(p.bos_id, -1);
  EXPECT_FALSE(p.add_bos);
  EXPECT_THROW(resolve_bos_policy(dir, nullptr, 100, BosMode::kAlways), Error);
  write_file_atomic(dir + "/config.json", J{{"bos_token_id", 50}}.dump());
  p = resolve_bos_policy(dir, nullptr, 100, BosMode::kAlways);
  EXPECT_EQ(p.bos_id, 50);
  EXPECT_TRUE(p.add_bos);
  EXPECT_FALSE(resolve_bos_policy(dir, nullptr, 100, BosMode::kAuto).add_bos);
  EXPECT_NE(fixtures::error_of([&] { resolve_bos_policy(dir, nullptr, 50, BosMode::kAuto); })
                .find("config.json: \"bos_token_id\" 50 is not a token id in [0, 50)"),
            std::string::npos);
  write_file_atomic(dir + "/tokenizer_config.json", J{{"bos_token", "<s>"}, {"add_bos_token", true}}.dump());
  p = resolve_bos_policy(dir, nullptr, 100, BosMode::kAuto);
  EXPECT_EQ(p.bos_id, 50);
  EXPECT_TRUE(p.add_bos);
  EXPECT_EQ(p.reason, "tokenizer_config.json add_bos_token");
  // As the commands' JSON writes it.
  EXPECT_EQ(to_json(p).dump(), R"({"before_every_context":true,"decided_by":"tokenizer_config.json add_bos_token","id":50})");
  p.add_bos = false;
  EXPECT_EQ(to_json(p)["id"], nullptr);
}

TEST(BosPolicyTest, RefusesBadFiles) {
  const std::string dir = fresh_dir();
  const Tokenizer tok = tiny(false);
  // No BOS anywhere: always is refused, auto adds none.
  const Tokenizer none = Tokenizer::from_json(
      J{{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}}}, {"merges", J::array()}}}}.dump());
  EXPECT_FALSE(resolve_bos_policy(dir, none).add_bos);
  EXPECT_THROW(resolve_bos_policy(dir, none, BosMode::kAlways), Error);
  for (const auto& [file, text, expected] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"config.json", "{\"bos_token_id\": 7}", "config.json: \"bos_token_id\" 7 is not a token id"},
           {"config.json", "{\"bos_token_id\": 1.5}", "not a token id"},
           {"generation_config.json", "{\"eos_token_id\": ", "generation_config.json: malformed JSON"},
           {"tokenizer_config.json", "{\"bos_token\": \"<bos>\"}", "\"<bos>\" is not a token"},
           {"tokenizer_config.json", "{\"add_bos_token\": \"yes\"}", "must be true or false"}}) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    write_file_atomic(dir + "/" + file, text);
    try {
      resolve_bos_policy(dir, tok);
      ADD_FAILURE() << file << " " << text << ": accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace strata
