// `strata eval`: held-out bits per byte and per token of a text under a model.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "progress.h"
#include "strata/error.h"
#include "strata/evaluate.h"
#include "strata/file_util.h"
#include "strata/model_dir.h"

namespace strata::cli {

Subcommand add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Held-out bits per byte and bits per token of a text");
  struct Args { std::string model, text; int context = 0; bool json = false; };
  auto a = std::make_shared<Args>();
  cmd->add_option("--model", a->model, "Model directory")->required();
  cmd->add_option("--text", a->text, "Text file to score")->required();
  cmd->add_option("--context", a->context, "Window length (default: the model's context)");
  cmd->add_flag("--json", a->json, "Print the result as JSON");
  return {cmd, [a] {
            const auto [weights, tok] = load_model(a->model);
            const std::string text = read_text(a->text);
            const auto tokens = tok.encode(text);
            Transformer model(weights);
            const int context = a->context > 0 ? a->context : weights->config.max_position_embeddings;
            ProgressBar bar("eval", int64_t(tokens.size()) - 1, "tok");
            const EvalResult r = evaluate(model, tok, tokens, context,
                                          [&](int64_t done, int64_t) { bar.update(done); });
            if (a->json) {
              nlohmann::json j = {{"text", a->text},
                                  {"bits_per_byte", r.bits_per_byte()},
                                  {"bits_per_token", r.bits_per_token()},
                                  {"tokens_scored", r.tokens_scored},
                                  {"bytes_scored", r.bytes_scored},
                                  {"context", r.context},
                                  {"stride", r.stride},
                                  {"seconds", bar.seconds()}};
              std::printf("%s\n", j.dump(2).c_str());
            } else {
              std::printf("%s: %.4f bits/byte, %.4f bits/token (%lld tokens, %lld bytes; context %d, stride %d)\n",
                          a->text.c_str(), r.bits_per_byte(), r.bits_per_token(), (long long)r.tokens_scored,
                          (long long)r.bytes_scored, r.context, r.stride);
            }
            return 0;
          }};
}

}  // namespace strata::cli
