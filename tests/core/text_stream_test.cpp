// Streaming detokenisation (core/src/text_stream.cpp): a character split over byte-level
// tokens or byte-fallback pieces comes out whole, once; the pieces add up to the decode of
// the whole sequence.
#include "strata/text_stream.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <vector>

namespace strata {
namespace {

TEST(TextStreamTest, ByteLevelTokensReleaseWholeCharacters) {
  const Tokenizer bytes;  // id == byte
  const std::vector<int32_t> prompt = {'h', 'i'};
  TextStream stream(bytes, prompt);
  EXPECT_EQ(stream.push(' '), " ");
  EXPECT_EQ(stream.push(0xC3), "");  // the first byte of "é"
  EXPECT_EQ(stream.push(0xA9), "\xC3\xA9");
  EXPECT_EQ(stream.push(0xE2), "");  // "€" = E2 82 AC
  EXPECT_EQ(stream.push(0x82), "");
  EXPECT_EQ(stream.push(0xAC), "\xE2\x82\xAC");
  EXPECT_EQ(stream.push(0xFF), "\xFF");  // never a lead byte: out at once
  EXPECT_EQ(stream.push(0xF0), "");
  EXPECT_EQ(stream.finish(), "\xF0");  // the end releases what is held, as it is
}

// A SentencePiece-style decoder: "▁" is a space, <0xNN> pieces are bytes (strata's
// ByteFallback keeps an incomplete run's bytes as they are), and the first space is stripped.
TEST(TextStreamTest, ByteFallbackPiecesReleaseWholeCharacters) {
  using J = nlohmann::json;
  const J json = {
      {"model", {{"type", "BPE"}, {"byte_fallback", true}, {"merges", J::array()},
                 {"vocab", {{"\xE2\x96\x81", 0}, {"a", 1}, {"<0xC3>", 2}, {"<0xA9>", 3}}}}},
      {"decoder", {{"type", "Sequence"},
                   {"decoders", J::array({{{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}},
                                          {{"type", "ByteFallback"}}, {{"type", "Fuse"}},
                                          {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}}}};
  const Tokenizer tok = Tokenizer::from_json(json.dump());
  const std::vector<int32_t> prompt = {0, 1}, rest = {0, 2, 3, 1, 2};
  ASSERT_EQ(tok.decode(prompt), "a");
  TextStream stream(tok, prompt);
  std::vector<std::string> pieces;
  for (int32_t id : rest) pieces.push_back(stream.push(id));
  pieces.push_back(stream.finish());
  EXPECT_EQ(pieces, (std::vector<std::string>{" ", "", "\xC3\xA9", "a", "", "\xC3"}));
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), rest.begin(), rest.end());
  std::string joined = "a";
  for (const auto& p : pieces) joined += p;
  EXPECT_EQ(joined, tok.decode(all));
}

}  // namespace
}  // namespace strata
