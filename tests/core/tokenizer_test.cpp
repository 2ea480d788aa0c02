// strata's own byte-level BPE through the Tokenizer facade: lossless on any bytes, vocabulary
// sizes honoured, training deterministic and matching a hand-worked example, tokenizer.json
// round-trips, and loading refuses broken files naming the component.
#include "strata/tokenizer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "strata/error.h"
#include "strata/file_util.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

const char kSample[] =
    "To Sherlock Holmes she is always the woman. I have seldom heard him mention her under any\n"
    "other name. In his eyes she eclipses and predominates the whole of her sex. It was not that\n"
    "he felt any emotion akin to love for Irene Adler. All emotions, and that one particularly,\n"
    "were abhorrent to his cold, precise but admirably balanced mind. He was, I take it, the most\n"
    "perfect reasoning and observing machine that the world has seen, but as a lover he would have\n"
    "placed himself in a false position. He never spoke of the softer passions, save with a gibe\n"
    "and a sneer. They were admirable things for the observer--excellent for drawing the veil from\n"
    "men's motives and actions. But for the trained reasoner to admit such intrusions into his own\n"
    "delicate and finely adjusted temperament was to introduce a distracting factor which might\n"
    "throw a doubt upon all his mental results. Grit in a sensitive instrument, or a crack in one\n"
    "of his own high-power lenses, would not be more disturbing than a strong emotion in a nature\n"
    "such as his. And yet there was but one woman to him, and that woman was the late Irene Adler,\n"
    "of dubious and questionable memory. In 1888, on the 20th of March, I paid £5 -- café “naïve”.\n";

std::string test_dir() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  fs::path p = fs::path(testing::TempDir()) /
               ("strata_tok_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::string sherlock_path(const char* name) {
  return (fs::path(STRATA_SOURCE_DIR) / ".." / "shared" / "data" / "sherlock" / name).string();
}

void expect_round_trip(const Tokenizer& tok, const std::string& bytes) {
  const std::vector<int32_t> ids = tok.encode(bytes);
  for (const int32_t id : ids) {
    ASSERT_GE(id, 0);
    ASSERT_LT(id, tok.vocab_size());
    ASSERT_NE(id, tok.bos_id());
  }
  EXPECT_EQ(tok.decode(ids), bytes);
}

std::vector<std::string> random_byte_strings() {
  std::mt19937 rng(1234);
  std::vector<std::string> out = {"", std::string(1, '\0'), std::string(3, '\0'), "\xff", "\xc3", "\xe2\x80",
                                  "\xed\xa0\x80", "\xf8\x88\x80\x80\x80", "   ", "\n\n\n", "a  b", "it's 'll'"};
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes += char(b);
  out.push_back(all_bytes);
  out.push_back(std::string(all_bytes.rbegin(), all_bytes.rend()));
  const std::string alphabet = "aeht sn'\n\t0123.,\xc3\xa9\xe2\x80\x9c\xff";
  for (int n = 0; n < 300; ++n) {
    std::string s(rng() % 200, '\0');
    const bool any_byte = n % 2 == 0;
    for (char& c : s) c = any_byte ? char(rng() & 0xFF) : alphabet[rng() % alphabet.size()];
    out.push_back(std::move(s));
  }
  return out;
}

TEST(TokenizerTest, ByteModelIsIdentity) {
  const Tokenizer tok;
  EXPECT_EQ(tok.vocab_size(), 256);
  EXPECT_EQ(tok.bos_id(), -1);
  const std::string s("a\0\xff z", 5);
  const std::vector<int32_t> ids = tok.encode(s);
  EXPECT_EQ(ids, (std::vector<int32_t>{'a', 0, 255, ' ', 'z'}));
  EXPECT_EQ(tok.decode(ids), s);
  EXPECT_EQ(tok.token_text(255), "\xff");
}

TEST(TokenizerTest, RoundTripsRandomBytes) {
  const Tokenizer trained = Tokenizer::train(kSample, 400);
  const Tokenizer bytes_only;
  for (const std::string& s : random_byte_strings()) {
    expect_round_trip(trained, s);
    expect_round_trip(bytes_only, s);
  }
}

TEST(TokenizerTest, RoundTripsTextAndCompressesIt) {
  const Tokenizer tok = Tokenizer::train(kSample, 500);
  expect_round_trip(tok, kSample);
  expect_round_trip(tok, "Mr. Sherlock Holmes, who was usually very late in the mornings\r\n\tsaid 'I'll' 42!");
  EXPECT_EQ(tok.vocab_size(), 500);
  EXPECT_LT(tok.encode(kSample).size(), std::string(kSample).size() / 2);
}

TEST(TokenizerTest, KnownAnswerAaabdaaabac) {
  // One word; pair counts aa 4, ab 2, then (aa,a) and (a,b) tie at 2 and the smaller ids
  // (97, 98) win, then (aa,ab) makes "aaab".
  const Tokenizer tok = Tokenizer::train("aaabdaaabac", 259, {}, /*add_bos=*/false);
  ASSERT_EQ(tok.vocab_size(), 259);
  EXPECT_EQ(tok.token_text(256), "aa");
  EXPECT_EQ(tok.token_text(257), "ab");
  EXPECT_EQ(tok.token_text(258), "aaab");
  EXPECT_EQ(tok.encode("aaabdaaabac"), (std::vector<int32_t>{258, 'd', 258, 'a', 'c'}));
}

TEST(TokenizerTest, HonoursVocabSize) {
  for (const int v : {257, 258, 300, 512}) {
    const Tokenizer tok = Tokenizer::train(kSample, v);
    EXPECT_EQ(tok.vocab_size(), v);
    EXPECT_EQ(tok.bos_id(), v - 1);
    EXPECT_EQ(tok.merge_count(), v - 257);
  }
  EXPECT_EQ(Tokenizer::train(kSample, 256, {}, false).vocab_size(), 256);
  EXPECT_EQ(Tokenizer::train(kSample, 300, {}, false).vocab_size(), 300);
}

TEST(TokenizerTest, StopsEarlyOnlyWhenNoPairIsLeft) {
  // Pre-tokens "ab" and " ab": merges "ab" then " ab", after which nothing is left to pair.
  const Tokenizer tok = Tokenizer::train("ab ab", 1000);
  EXPECT_EQ(tok.merge_count(), 2);
  EXPECT_EQ(tok.vocab_size(), 259);
  EXPECT_EQ(tok.token_text(257), " ab");
  EXPECT_EQ(Tokenizer::train("", 1000).vocab_size(), 257);
}

TEST(TokenizerTest, RejectsVocabSizeOutOfRange) {
  for (const int v : {-1, 0, 255, 16385, 100000}) {
    try {
      Tokenizer::train(kSample, v);
      ADD_FAILURE() << "vocab_size " << v << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::to_string(v)), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(Tokenizer::train(kSample, 256), Error);  // no room for <|endoftext|>
  EXPECT_EQ(Tokenizer::train("ab", 16384).merge_count(), 1);
}

TEST(TokenizerTest, MergesNeverCrossPretokenBoundaries) {
  const Tokenizer tok = Tokenizer::train(kSample, 600);
  for (int id = 256; id < tok.vocab_size(); ++id) {
    if (id == tok.bos_id()) continue;
    const std::string t = tok.token_text(id);
    const bool all_space = t.find_first_not_of(" \n\t\r") == std::string::npos;
    if (!all_space) {
      EXPECT_EQ(t.find_first_of(" \n\t\r", 1), std::string::npos) << '"' << t << '"';
    }
    const bool has_letter = t.find_first_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos;
    const bool has_digit = t.find_first_of("0123456789") != std::string::npos;
    EXPECT_FALSE(has_letter && has_digit) << '"' << t << '"';
  }
}

TEST(TokenizerTest, EndOfTextIsSpecial) {
  const Tokenizer tok = Tokenizer::train(kSample, 300);
  const int32_t bos = tok.bos_id();
  EXPECT_EQ(bos, 299);
  EXPECT_TRUE(tok.is_special(bos));
  EXPECT_EQ(tok.token_text(bos), "<|endoftext|>");
  const std::vector<int32_t> with_bos = {bos, 'h', 'i', bos};
  EXPECT_EQ(tok.decode(with_bos), "<|endoftext|>hi<|endoftext|>");
  EXPECT_EQ(tok.decode(with_bos, /*skip_special=*/true), "hi");
  // As the file declares it an added token, its text is recognised (as HF does), and the
  // round trip stays exact.
  const std::vector<int32_t> ids = tok.encode("a<|endoftext|>b");
  EXPECT_EQ(ids, (std::vector<int32_t>{'a', bos, 'b'}));
  EXPECT_EQ(tok.decode(ids), "a<|endoftext|>b");
  EXPECT_EQ(tok.encode("a", /*add_special=*/true), (std::vector<int32_t>{'a'}));  // no post-processor
  EXPECT_EQ(Tokenizer::train(kSample, 300, {}, false).bos_id(), -1);
}

TEST(TokenizerTest, DecodeRejectsIdsOutOfRange) {
  const Tokenizer tok = Tokenizer::train(kSample, 300);
  for (const int32_t bad : {-1, 300, 1 << 20}) {
    const std::vector<int32_t> ids = {'a', bad};
    EXPECT_THROW(tok.decode(ids), Error) << bad;
    EXPECT_THROW(tok.token_text(bad), Error) << bad;
  }
}

TEST(TokenizerTest, TrainingIsDeterministicAndReportsProgress) {
  int calls = 0, last_done = 0, wanted = 0;
  const Tokenizer a = Tokenizer::train(kSample, 450, [&](int done, int total) {
    ++calls;
    last_done = done;
    wanted = total;
  });
  EXPECT_EQ(wanted, 450 - 257);
  EXPECT_EQ(last_done, wanted);
  EXPECT_EQ(calls, wanted);
  const Tokenizer b = Tokenizer::train(kSample, 450);
  ASSERT_EQ(a.vocab_size(), b.vocab_size());
  for (int id = 0; id < a.vocab_size(); ++id) EXPECT_EQ(a.token_text(id), b.token_text(id)) << id;
  const std::string dir = test_dir();
  a.save(dir + "/a.json");
  b.save(dir + "/b.json");
  EXPECT_EQ(read_file(dir + "/a.json"), read_file(dir + "/b.json"));
}

TEST(TokenizerTest, SaveLoadRoundTrip) {
  const std::string dir = test_dir();
  for (const bool add_bos : {true, false}) {
    const Tokenizer tok = Tokenizer::train(kSample, 420, {}, add_bos);
    const std::string path = dir + "/tokenizer.json";
    tok.save(path);
    const Tokenizer loaded = Tokenizer::load(path);
    ASSERT_EQ(loaded.vocab_size(), tok.vocab_size());
    EXPECT_EQ(loaded.bos_id(), tok.bos_id());
    for (int id = 0; id < tok.vocab_size(); ++id) EXPECT_EQ(loaded.token_text(id), tok.token_text(id));
    for (const std::string& s : random_byte_strings()) EXPECT_EQ(loaded.encode(s), tok.encode(s));
    EXPECT_EQ(loaded.encode(kSample), tok.encode(kSample));
  }
  const std::string path = dir + "/bytes.json";
  Tokenizer().save(path);
  const Tokenizer bytes_only = Tokenizer::load(path);
  EXPECT_EQ(bytes_only.vocab_size(), 256);
  EXPECT_EQ(bytes_only.bos_id(), -1);
}

TEST(TokenizerTest, SavesHuggingFaceLayout) {
  const std::string dir = test_dir();
  const Tokenizer tok = Tokenizer::train(kSample, 300);
  tok.save(dir + "/tokenizer.json");
  const nlohmann::json j = nlohmann::json::parse(read_file(dir + "/tokenizer.json"));
  EXPECT_EQ(j["version"], "1.0");
  EXPECT_EQ(j["pre_tokenizer"]["type"], "ByteLevel");
  EXPECT_EQ(j["decoder"]["type"], "ByteLevel");
  EXPECT_EQ(j["model"]["type"], "BPE");
  EXPECT_EQ(j["added_tokens"][0]["content"], "<|endoftext|>");
  EXPECT_EQ(j["added_tokens"][0]["id"], 299);
  EXPECT_EQ(j["added_tokens"][0]["special"], true);
  const nlohmann::json& vocab = j["model"]["vocab"];
  EXPECT_EQ(vocab.size(), 300u);
  // GPT-2's bytes-to-unicode: printable ASCII as itself, space as U+0120, NUL as U+0100.
  EXPECT_EQ(vocab["A"], 65);
  EXPECT_EQ(vocab["\xc4\xa0"], 32);
  EXPECT_EQ(vocab["\xc4\x80"], 0);
  EXPECT_EQ(vocab["<|endoftext|>"], 299);
  EXPECT_EQ(j["model"]["merges"].size(), 43u);
  const std::string first = j["model"]["merges"][0];
  const size_t space = first.find(' ');
  ASSERT_NE(space, std::string::npos);
  EXPECT_TRUE(vocab.contains(first.substr(0, space)));
  EXPECT_TRUE(vocab.contains(first.substr(space + 1)));
  EXPECT_EQ(vocab[first.substr(0, space) + first.substr(space + 1)], 256);
}

// Writes the saved tokenizer.json after `edit` and expects load to fail naming the path
// and `expected`.
void expect_load_error(const std::string& dir, const std::string& name,
                       const std::function<void(nlohmann::json&)>& edit, const std::string& expected) {
  const Tokenizer tok = Tokenizer::train(kSample, 300);
  const std::string path = dir + "/" + name + ".json";
  tok.save(path);
  nlohmann::json j = nlohmann::json::parse(read_file(path));
  edit(j);
  write_file_atomic(path, j.dump());
  try {
    Tokenizer::load(path);
    ADD_FAILURE() << name << ": loaded";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << name << ": " << what;
    EXPECT_NE(what.find(expected), std::string::npos) << name << ": " << what;
  }
}

TEST(TokenizerTest, LoadRejectsBrokenFiles) {
  const std::string dir = test_dir();
  using J = nlohmann::json;
  for (const auto& [name, text, expected] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"truncated", "{\"version\": \"1.0\", \"model\": {", "malformed JSON"},
           {"empty", "", "malformed JSON"},
           {"array", "[1, 2]", "JSON object"}}) {
    const std::string path = dir + "/" + name + ".json";
    write_file_atomic(path, text);
    try {
      Tokenizer::load(path);
      ADD_FAILURE() << name << ": loaded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(Tokenizer::load(dir + "/absent.json"), Error);

  expect_load_error(dir, "no_model", [](J& j) { j.erase("model"); }, "missing \"model\"");
  expect_load_error(dir, "wordpiece", [](J& j) { j["model"]["type"] = "WordPiece"; }, "model (WordPiece): unsupported model type");
  expect_load_error(dir, "no_vocab", [](J& j) { j["model"].erase("vocab"); }, "model (BPE): missing \"vocab\"");
  expect_load_error(dir, "no_merges", [](J& j) { j["model"].erase("merges"); }, "model (BPE): missing \"merges\"");
  expect_load_error(dir, "unknown_pre_tokenizer", [](J& j) { j["pre_tokenizer"]["type"] = "Bert"; },
                    "pre_tokenizer (Bert): unsupported pre-tokenizer type");
  expect_load_error(dir, "unknown_normalizer", [](J& j) { j["normalizer"] = {{"type", "Precompiled"}}; },
                    "normalizer (Precompiled): unsupported");
  expect_load_error(dir, "unknown_decoder", [](J& j) { j["decoder"] = {{"type", "CTC"}}; }, "decoder (CTC): unsupported");
  expect_load_error(dir, "unknown_post_processor", [](J& j) { j["post_processor"] = {{"type", "Bert"}}; },
                    "post_processor (Bert): unsupported");
  expect_load_error(dir, "bad_regex", [](J& j) {
    j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(\\p{L}+"}}}, {"behavior", "Isolated"}};
  }, "pre_tokenizer (Split): regex does not compile");
  expect_load_error(dir, "unknown_merge_token", [](J& j) { j["model"]["merges"][5] = "xyzzy t"; }, "unknown token \"xyzzy\"");
  expect_load_error(dir, "merge_not_a_pair", [](J& j) { j["model"]["merges"][5] = "t"; }, "two tokens");
  expect_load_error(dir, "merged_token_missing", [](J& j) { j["model"]["merges"].push_back("A Z"); },
                    "merged token \"AZ\" is not in the vocab");
  expect_load_error(dir, "id_twice", [](J& j) { j["model"]["vocab"]["A"] = 66; }, "duplicate id 66");
  expect_load_error(dir, "added_id_twice", [](J& j) { j["added_tokens"].push_back(j["added_tokens"][0]); j["added_tokens"][1]["content"] = "<x>"; },
                    "added_tokens[1]: duplicate id 299");
  expect_load_error(dir, "added_id_taken", [](J& j) { j["added_tokens"][0]["id"] = 3; }, "duplicate id");
  expect_load_error(dir, "huge_id", [](J& j) { j["model"]["vocab"]["A"] = 4000000000; }, "must be an integer in [0, 1623], got 4000000000");
  expect_load_error(dir, "float_id", [](J& j) { j["model"]["vocab"]["A"] = 65.5; }, "must be an integer");
  expect_load_error(dir, "string_id", [](J& j) { j["model"]["vocab"]["A"] = "65"; }, "must be an integer");
  expect_load_error(dir, "bad_behavior", [](J& j) {
    j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Sideways"}};
  }, "unknown behavior");
}

TEST(TokenizerTest, LoadAcceptsArrayMerges) {
  // Newer `tokenizers` releases write merges as ["a", "b"] pairs.
  const std::string dir = test_dir();
  const Tokenizer tok = Tokenizer::train(kSample, 320);
  const std::string path = dir + "/tokenizer.json";
  tok.save(path);
  nlohmann::json j = nlohmann::json::parse(read_file(path));
  for (auto& m : j["model"]["merges"]) {
    const std::string s = m;
    m = nlohmann::json::array({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
  }
  write_file_atomic(path, j.dump());
  EXPECT_EQ(Tokenizer::load(path).encode(kSample), tok.encode(kSample));
}

// CI always has ../shared/data beside the project, so a missing file fails this test
// rather than skipping it; STRATA_ALLOW_MISSING_DATA=1 turns that into a skip on a machine
// without the data.
TEST(TokenizerTest, SherlockRoundTripAndCompression) {
  const std::string path = sherlock_path("adventures.txt");
  if (!file_exists(path)) {
    const char* allow = std::getenv("STRATA_ALLOW_MISSING_DATA");
    if (allow && std::string(allow) == "1") GTEST_SKIP() << path << " not found (STRATA_ALLOW_MISSING_DATA=1)";
    FAIL() << path << " not found: the Sherlock texts are expected in ../shared/data/sherlock/ beside the "
           << "project root (set STRATA_ALLOW_MISSING_DATA=1 to skip this test without them)";
  }
  const std::string text = read_file(path);
  const auto t0 = std::chrono::steady_clock::now();
  const Tokenizer tok = Tokenizer::train(std::string_view(text).substr(0, 200 * 1000), 1024);
  const auto t1 = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = tok.encode(text);
  const auto t2 = std::chrono::steady_clock::now();
  EXPECT_EQ(tok.decode(ids), text);
  const double bytes_per_token = double(text.size()) / double(ids.size());
  EXPECT_GT(bytes_per_token, 2.5);
  const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::printf("adventures.txt: %zu bytes -> %zu tokens (%.2f bytes/token); train 200 KB %.0f ms, encode %.0f ms\n",
              text.size(), ids.size(), bytes_per_token, ms(t1 - t0), ms(t2 - t1));
}

}  // namespace
}  // namespace strata
