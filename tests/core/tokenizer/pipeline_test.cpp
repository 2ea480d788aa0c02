// The tokenizer.json components on small hand-made files, each against the Hugging Face
// tokenizers' semantics worked out by hand: Split's five behaviours, the regex classes,
// BPE merge order, byte fallback, unk fusing, ignore_merges, the subword prefix, added
// tokens' flags, normalizers, the template and the decoders; exact round trips on
// ill-formed UTF-8.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "strata/error.h"
#include "strata/tokenizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/regex.h"
#include "tokenizer/unicode.h"

#include "../fixtures.h"

namespace strata::tok {
namespace {

using J = nlohmann::json;

std::vector<std::string> split(std::string_view text, SplitBehavior b, bool invert = false) {
  std::vector<std::pair<size_t, size_t>> m;
  for (size_t at = text.find('-'); at != std::string_view::npos; at = text.find('-', at + 1)) m.emplace_back(at, at + 1);
  std::vector<Piece> out;
  split_piece({text, true}, m, b, invert, out);
  std::vector<std::string> s;
  for (const Piece& p : out) s.emplace_back(p.text);
  return s;
}

TEST(TokenizerPipelineTest, SplitBehaviours) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split("a-b--c", SplitBehavior::kRemoved), (V{"a", "b", "c"}));
  EXPECT_EQ(split("a-b--c", SplitBehavior::kIsolated), (V{"a", "-", "b", "-", "-", "c"}));
  EXPECT_EQ(split("a-b--c", SplitBehavior::kMergedWithPrevious), (V{"a-", "b-", "-", "c"}));
  EXPECT_EQ(split("a-b--c", SplitBehavior::kMergedWithNext), (V{"a", "-b", "-", "-c"}));
  EXPECT_EQ(split("a-b--c", SplitBehavior::kContiguous), (V{"a", "-", "b", "--", "c"}));
  EXPECT_EQ(split("a-b--c", SplitBehavior::kRemoved, /*invert=*/true), (V{"-", "-", "-"}));
  EXPECT_EQ(split("-a", SplitBehavior::kMergedWithPrevious), (V{"-", "a"}));
}

TEST(TokenizerPipelineTest, RegexClassesFollowOniguruma) {
  const Regex space(R"(\s)"), not_space(R"([^\s]+)"), word(R"(\w+)");
  EXPECT_EQ(space.find_all("\xC2\x85").size(), 1u);       // U+0085 is White_Space
  EXPECT_EQ(space.find_all("\xC2\xA0\xE3\x80\x80").size(), 2u);  // NBSP, ideographic space
  EXPECT_EQ(space.find_all("\xE1\xA0\x8E").size(), 0u);   // U+180E is not (PCRE2's own \s says yes)
  EXPECT_EQ(space.find_all("\xEF\xBB\xBF").size(), 0u);   // nor U+FEFF
  EXPECT_EQ(not_space.find_all("ab\xE1\xA0\x8E" "c").size(), 1u);
  EXPECT_EQ(word.find_all("e\xCC\x81t\xC3\xA9_9").size(), 1u);  // a combining mark is a word character
  // Ill-formed bytes never match a character, in any class.
  EXPECT_EQ(Regex(R"([^\p{L}]+)").find_all("\xFF\xC3").size(), 0u);
  EXPECT_EQ(Regex("(?i:'s)").find_all("'S's").size(), 2u);
  EXPECT_THROW(Regex("(\\p{L}"), Error);
  EXPECT_EQ(onig_compatible_pattern(R"([^\s\p{L}]\s\S\Q\s\E)"),
            R"([^\t-\r\x{85}\p{Z}\p{L}][\t-\r\x{85}\p{Z}][^\t-\r\x{85}\p{Z}]\Q\s\E)");
}

TEST(TokenizerPipelineTest, Gpt2PreTokenization) {
  const Regex gpt2(kGpt2Pattern);
  std::vector<Piece> out;
  const std::string text = "Hello  world's 123 don'T\n\n\tok!?";
  split_piece({text, true}, gpt2.find_all(text), SplitBehavior::kIsolated, false, out);
  std::vector<std::string> s;
  for (const Piece& p : out) s.emplace_back(p.text);
  EXPECT_EQ(s, (std::vector<std::string>{"Hello", " ", " world", "'s", " 123", " don", "'", "T", "\n\n", "\t", "ok", "!?"}));
}

TEST(TokenizerPipelineTest, SentencePieceStyleBpe) {
  const Tokenizer tok = Tokenizer::from_json(fixtures::spm_tokenizer().dump());
  // "ab" (rank 0) wins over "bc" (rank 2); then "▁ab" (rank 1).
  EXPECT_EQ(tok.encode("abc"), (std::vector<int32_t>{6, 7}));
  EXPECT_EQ(tok.encode("abc", /*add_special=*/true), (std::vector<int32_t>{1, 6, 7}));
  EXPECT_EQ(tok.bos_id(), 1);
  // "é" is not in the vocab: its two bytes.
  EXPECT_EQ(tok.encode("\xC3\xA9"), (std::vector<int32_t>{2, 9 + 0xC3, 9 + 0xA9}));
  // Added tokens are split out first; each stretch gets its own "▁".
  EXPECT_EQ(tok.encode("a<s>b"), (std::vector<int32_t>{2, 3, 1, 2, 4}));
  EXPECT_EQ(tok.token_text(6), " ab");
  EXPECT_EQ(tok.token_text(9 + 0x0A), "\n");
  // Exact round trips, ill-formed UTF-8 included (byte fallback), the leading "▁" stripped.
  for (const std::string& s : {std::string("ab cab  c\n"), std::string("\xFF\xC3 a\xE2\x82"), std::string("")}) {
    EXPECT_EQ(tok.decode(tok.encode(s)), s);
  }
}

TEST(TokenizerPipelineTest, UnkFusingAndDroppedCharacters) {
  J j = fixtures::spm_tokenizer();
  j["model"]["byte_fallback"] = false;
  EXPECT_EQ(Tokenizer::from_json(j.dump()).encode("a\xC3\xA9\xC3\xA9" "b"), (std::vector<int32_t>{2, 3, 0, 4}));
  j["model"]["fuse_unk"] = false;
  EXPECT_EQ(Tokenizer::from_json(j.dump()).encode("a\xC3\xA9\xC3\xA9" "b"), (std::vector<int32_t>{2, 3, 0, 0, 4}));
  j["model"]["unk_token"] = nullptr;  // HF drops unknown characters without an unk token
  // ("é" dropped, so "a" and "b" meet and merge)
  EXPECT_EQ(Tokenizer::from_json(j.dump()).encode("a\xC3\xA9" "b"), (std::vector<int32_t>{6}));
}

TEST(TokenizerPipelineTest, IgnoreMergesTakesWholePiecesFromTheVocab) {
  J j = fixtures::spm_tokenizer();
  j["normalizer"] = nullptr;
  j["model"]["vocab"]["abc"] = 300;  // reachable only as a whole piece
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(Tokenizer::from_json(j.dump()).encode("abc"), (std::vector<int32_t>{300}));
  j["model"]["ignore_merges"] = false;
  EXPECT_EQ(Tokenizer::from_json(j.dump()).encode("abc"), (std::vector<int32_t>{5, 7}));
}

TEST(TokenizerPipelineTest, ContinuingSubwordPrefix) {
  const J j = {{"model", {{"type", "BPE"}, {"continuing_subword_prefix", "##"},
                          {"vocab", {{"a", 0}, {"##b", 1}, {"ab", 2}, {"##c", 3}, {"abc", 4}}},
                          {"merges", J::array({"a ##b", "ab ##c"})}}}};
  EXPECT_EQ(Tokenizer::from_json(j.dump()).encode("abc"), (std::vector<int32_t>{4}));
  EXPECT_EQ(Tokenizer::from_json(j.dump()).encode("ac"), (std::vector<int32_t>{0, 3}));
}

TEST(TokenizerPipelineTest, AddedTokenFlags) {
  J j = fixtures::spm_tokenizer();
  j["normalizer"] = nullptr;
  j["decoder"] = nullptr;
  j["model"]["vocab"]["\xE2\x96\x81"] = 2;
  j["added_tokens"].push_back({{"id", 400}, {"content", "<x>"}, {"lstrip", true}, {"rstrip", true}});
  j["added_tokens"].push_back({{"id", 401}, {"content", "ab"}, {"single_word", true}, {"normalized", false}});
  j["added_tokens"].push_back({{"id", 402}, {"content", "<x>y"}, {"normalized", false}});
  const Tokenizer tok = Tokenizer::from_json(j.dump());
  EXPECT_EQ(tok.encode("a  <x>  b"), (std::vector<int32_t>{3, 400, 4}));  // whitespace around <x> absorbed
  EXPECT_EQ(tok.encode("a<x>yb"), (std::vector<int32_t>{3, 402, 4}));      // longest match wins
  EXPECT_EQ(tok.encode("ab"), (std::vector<int32_t>{401}));
  EXPECT_EQ(tok.encode("cab"), (std::vector<int32_t>{7, 5}));  // single_word: not inside a word
  EXPECT_FALSE(tok.is_special(400));
  EXPECT_EQ(tok.vocab_size(), 403);
}

TEST(TokenizerPipelineTest, Normalizers) {
  // "é" as e + U+0301 composes under NFC; "ﬁ" decomposes to "fi" under NFKC.
  EXPECT_EQ(normalize("e\xCC\x81", NormalForm::kNFC), "\xC3\xA9");
  EXPECT_EQ(normalize("\xC3\xA9", NormalForm::kNFD), "e\xCC\x81");
  EXPECT_EQ(normalize("\xEF\xAC\x81", NormalForm::kNFKC), "fi");
  EXPECT_EQ(normalize("e\xCC\x81\xFF" "e\xCC\x81", NormalForm::kNFC), "\xC3\xA9\xFF\xC3\xA9");  // bad byte kept
  EXPECT_EQ(lowercase("A\xC4\xB0\xCE\xA3"), "ai\xCC\x87\xCF\x83");
  const J j = {{"normalizer", {{"type", "Sequence"},
                               {"normalizers", J::array({{{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}},
                                                         {{"type", "Lowercase"}},
                                                         {{"type", "Replace"}, {"pattern", {{"Regex", "b+"}}}, {"content", "c"}}})}}},
               {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"c", 1}}}, {"merges", J::array()}}}};
  EXPECT_EQ(Tokenizer::from_json(j.dump()).encode("\xE3\x80\x80 ABBA\n"), (std::vector<int32_t>{0, 1, 0}));
}

TEST(TokenizerPipelineTest, MetaspaceAndDigits) {
  const J j = {{"pre_tokenizer", {{"type", "Sequence"},
                                  {"pretokenizers", J::array({{{"type", "Digits"}, {"individual_digits", true}},
                                                              {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"},
                                                               {"prepend_scheme", "first"}, {"split", true}}})}}},
               {"decoder", {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "first"}}},
               {"model", {{"type", "BPE"},
                          {"vocab", {{"\xE2\x96\x81", 0}, {"a", 1}, {"1", 2}, {"2", 3}, {"\xE2\x96\x81" "a", 4}}},
                          {"merges", J::array({"\xE2\x96\x81 a"})}}}};
  const Tokenizer tok = Tokenizer::from_json(j.dump());
  // "a a12": "▁a", "▁a", "1", "2" (the digits are their own pieces; only the first gets ▁).
  EXPECT_EQ(tok.encode("a a12"), (std::vector<int32_t>{4, 4, 2, 3}));
  EXPECT_EQ(tok.decode(tok.encode("a a12")), "a a12");
}

TEST(TokenizerPipelineTest, ByteLevelRoundTripsAnyBytes) {
  const Tokenizer tok = Tokenizer::train("the cat sat on the mat, the end\n\n  x", 300, {}, /*add_bos=*/false);
  std::string all;
  for (int b = 0; b < 256; ++b) all += char(b);
  for (const std::string& s : {all, std::string("  \xFF\n\n\xC3 the"), std::string("\xE2\x80\x8F\xC2\x85 cat")})
    EXPECT_EQ(tok.decode(tok.encode(s)), s);
}

}  // namespace
}  // namespace strata::tok
