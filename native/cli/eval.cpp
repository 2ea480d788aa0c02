// `strata eval`: held-out bits per byte and per token of a text (or of token ids) under a model.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.h"
#include "progress.h"
#include "strata/error.h"
#include "strata/evaluate.h"
#include "strata/file_util.h"
#include "strata/model_dir.h"

namespace strata::cli {

Subcommand add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Held-out bits per byte and bits per token of a text");
  struct Args { std::string model, text, ids, dtype; int context = 0; bool json = false; };
  auto a = std::make_shared<Args>();
  cmd->add_option("--model", a->model, "Model directory")->required();
  auto* text = cmd->add_option("--text", a->text, "Text file to score");
  cmd->add_option("--ids", a->ids, "A JSON array of token ids to score instead of a text (no tokenizer needed)")
      ->excludes(text);
  cmd->add_option("--context", a->context, "Window length (default: the model's context)");
  cmd->add_flag("--json", a->json, "Print the result as JSON");
  add_dtype_option(cmd, a->dtype);
  return {cmd, [a] {
            const std::optional<DType> dtype = held_dtype(a->dtype);
            if (a->text.empty() == a->ids.empty()) throw Error("eval: give --text FILE or --ids FILE");
            // Ids need no tokenizer; bits per byte are then reported only if the model has one.
            std::shared_ptr<Weights> weights;
            std::optional<Tokenizer> tok;
            std::vector<int32_t> tokens;
            if (a->ids.empty()) {
              auto m = load_model(a->model, dtype);
              weights = m.weights;
              tok = std::move(m.tokenizer);
              tokens = tok->encode(read_text(a->text));
            } else {
              weights = std::make_shared<Weights>(load_weights(a->model, nullptr, dtype));
              tok = load_tokenizer(a->model, weights->config, /*required=*/false);
              tokens = read_ids(a->ids, weights->config.vocab_size);
            }
            Transformer model(weights);
            const int context = a->context > 0 ? a->context : weights->config.max_position_embeddings;
            ProgressBar bar("eval", int64_t(tokens.size()) - 1, "tok");
            const EvalResult r = evaluate(model, tok ? &*tok : nullptr, tokens, context,
                                          [&](int64_t done, int64_t) { bar.update(done); });
            const std::string& input = a->ids.empty() ? a->text : a->ids;
            const bool bytes = r.bytes_scored > 0;
            if (a->json) {
              nlohmann::json j = {{a->ids.empty() ? "text" : "ids", input},
                                  {"bits_per_byte", bytes ? nlohmann::json(r.bits_per_byte()) : nlohmann::json()},
                                  {"bits_per_token", r.bits_per_token()},
                                  {"tokens_scored", r.tokens_scored},
                                  {"bytes_scored", r.bytes_scored},
                                  {"context", r.context},
                                  {"stride", r.stride},
                                  {"seconds", bar.seconds()}};
              std::printf("%s\n", j.dump(2).c_str());
            } else {
              if (bytes)
                std::printf("%s: %.4f bits/byte, %.4f bits/token (%lld tokens, %lld bytes; context %d, stride %d)\n",
                            input.c_str(), r.bits_per_byte(), r.bits_per_token(), (long long)r.tokens_scored,
                            (long long)r.bytes_scored, r.context, r.stride);
              else
                std::printf("%s: %.4f bits/token (%lld tokens; context %d, stride %d)\n", input.c_str(),
                            r.bits_per_token(), (long long)r.tokens_scored, r.context, r.stride);
            }
            return 0;
          }};
}

}  // namespace strata::cli
