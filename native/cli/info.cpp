// `strata info` and `strata tokenize`: look inside a model directory.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/model_dir.h"
#include "strata/ops.h"
#include "strata/tokenizer.h"

namespace strata::cli {

Subcommand add_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print a model's config, parameter count and tokenizer size");
  auto dir = std::make_shared<std::string>();
  cmd->add_option("--model", *dir, "Model directory")->required();
  return {cmd, [dir] {
    const auto [weights, tok] = load_model(*dir);
    const Weights& w = *weights;
    std::printf("%s\n", config_to_json(w.config).dump(2).c_str());
    std::printf("parameters: %lld\n", (long long)w.config.parameter_count());
    const std::string bos = tok.bos_id() >= 0 ? ", BOS " + tok.token_text(tok.bos_id()) : "";
    std::printf("tokenizer: %d tokens (%d merges%s)\n", tok.vocab_size(), tok.merge_count(), bos.c_str());
    std::printf("simd target: %s\n", ops::simd_target());
    return 0;
  }};
}

Subcommand add_tokenize(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize", "Print a text's token ids as a JSON array (or, with --decode, ids back to bytes)");
  struct Args {
    std::string model, tokenizer, text, out;
    bool add_special = false, decode = false;
  };
  auto a = std::make_shared<Args>();
  auto* model = cmd->add_option("--model", a->model, "Model directory (its tokenizer.json is used)");
  cmd->add_option("--tokenizer", a->tokenizer, "A tokenizer.json (no model needed)")->excludes(model);
  cmd->add_option("--text", a->text, "Text file (with --decode: a JSON array of ids)")->required();
  cmd->add_flag("--add-special", a->add_special, "Add the post-processor's template tokens (BOS/EOS), as the reference's default");
  cmd->add_flag("--decode", a->decode, "Read ids (JSON) and write the bytes they decode to");
  cmd->add_option("--out", a->out, "Write to this file (atomically) instead of standard output");
  return {cmd, [a] {
    if (a->model.empty() && a->tokenizer.empty()) throw Error("tokenize: give --tokenizer FILE or --model DIR");
    const Tokenizer tok = Tokenizer::load(a->tokenizer.empty() ? a->model + "/tokenizer.json" : a->tokenizer);
    const std::string input = read_text(a->text);  // an empty text is refused, as everywhere
    std::string output;
    if (a->decode) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(input);
      } catch (const nlohmann::json::exception& e) {
        throw Error(a->text + ": malformed JSON (" + e.what() + ")");
      }
      if (!j.is_array()) throw Error(a->text + ": expected a JSON array of token ids");
      std::vector<int32_t> ids;
      for (const auto& v : j) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= tok.vocab_size())
          throw Error(a->text + ": " + v.dump() + " is not a token id in [0, " + std::to_string(tok.vocab_size()) + ")");
        ids.push_back(int32_t(v.get<int64_t>()));
      }
      output = tok.decode(ids);
    } else {
      output = nlohmann::json(tok.encode(input, a->add_special)).dump() + "\n";
    }
    if (a->out.empty()) {
      std::fwrite(output.data(), 1, output.size(), stdout);
    } else {
      write_file_atomic(a->out, output);
    }
    return 0;
  }};
}

}  // namespace strata::cli
