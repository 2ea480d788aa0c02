// `strata info` and `strata tokenize`: look inside a model directory.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
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
    std::printf("tokenizer: %d tokens (%d merges%s)\n", tok.vocab_size(), tok.merge_count(),
                tok.bos_id() >= 0 ? ", <|endoftext|>" : "");
    std::printf("simd target: %s\n", ops::simd_target());
    return 0;
  }};
}

Subcommand add_tokenize(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize", "Print a text's token ids as a JSON array");
  auto dir = std::make_shared<std::string>(), text = std::make_shared<std::string>();
  cmd->add_option("--model", *dir, "Model directory (its tokenizer.json is used)")->required();
  cmd->add_option("--text", *text, "Text file")->required();
  return {cmd, [dir, text] {
    const Tokenizer tok = Tokenizer::load(*dir + "/tokenizer.json");
    const std::string bytes = read_text(*text);  // an empty text is refused, as everywhere
    std::printf("%s\n", nlohmann::json(tok.encode(bytes)).dump().c_str());
    return 0;
  }};
}

}  // namespace strata::cli
