// The tokenizer compiled to WebAssembly (PCRE2 without JIT, utf8proc from source), run under
// node with the host's files (NODERAWFS): writes the ids of a text under a tokenizer.json as
// a JSON array, for tokenizer_wasm.mjs to compare with the native build's.
//   node strata_web_tokenizer_test.js <tokenizer.json> <text> <out.json>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/tokenizer.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: strata_web_tokenizer_test <tokenizer.json> <text> <out.json>\n");
    return 2;
  }
  try {
    const strata::Tokenizer tok = strata::Tokenizer::load(argv[1]);
    const std::string text = strata::read_file(argv[2]);
    const std::vector<int32_t> ids = tok.encode(text);
    if (tok.decode(ids) != text) std::fprintf(stderr, "note: %s does not round-trip this text\n", argv[1]);
    strata::write_file_atomic(argv[3], nlohmann::json(ids).dump() + "\n");
    std::printf("%s: %zu ids\n", argv[1], ids.size());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strata_web_tokenizer_test: %s\n", e.what());
    return 1;
  }
  return 0;
}
