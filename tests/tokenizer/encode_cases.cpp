// strata's side of the reference comparison (compare.mjs): loads one tokenizer.json and
// encodes each case of a JSON list, without and with the template tokens, and decodes the
// first back.
//   strata_tokenizer_cases <tokenizer.json> <cases.json> <out.json>
// cases.json: [{"text": "..."} or {"file": "path"}, ...]
// out.json:   {"load_ms": t, "plain": [[ids]...], "special": [[ids]...], "decoded_equal": [bool...],
//              "encode_seconds": [s...]}
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/tokenizer.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: strata_tokenizer_cases <tokenizer.json> <cases.json> <out.json>\n");
    return 2;
  }
  try {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    const strata::Tokenizer tok = strata::Tokenizer::load(argv[1]);
    const double load_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    const nlohmann::json cases = nlohmann::json::parse(strata::read_file(argv[2]));
    nlohmann::json out = {{"load_ms", load_ms}, {"plain", nlohmann::json::array()}, {"special", nlohmann::json::array()},
                          {"decoded_equal", nlohmann::json::array()}, {"encode_seconds", nlohmann::json::array()}};
    for (const auto& c : cases) {
      const std::string text = c.contains("file") ? strata::read_file(c["file"].get<std::string>()) : c["text"].get<std::string>();
      const auto t1 = clock::now();
      const std::vector<int32_t> plain = tok.encode(text);
      out["encode_seconds"].push_back(std::chrono::duration<double>(clock::now() - t1).count());
      out["plain"].push_back(plain);
      out["special"].push_back(tok.encode(text, /*add_special=*/true));
      out["decoded_equal"].push_back(tok.decode(plain) == text);
    }
    strata::write_file_atomic(argv[3], out.dump());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strata_tokenizer_cases: %s\n", e.what());
    return 1;
  }
  return 0;
}
