// `strata eval`: held-out bits per byte and per token of a text (or of token ids) under a model.
// --bos auto|always|never: with a BOS every window starts with it and the first token is
// scored too (tokens_scored is then every token, not every token after the first).
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
  struct Args { std::string model, text, ids, dtype, bos = "auto"; int context = 0; bool json = false; };
  auto a = std::make_shared<Args>();
  cmd->add_option("--model", a->model, "Model directory")->required();
  auto* text = cmd->add_option("--text", a->text, "Text file to score");
  cmd->add_option("--ids", a->ids, "A JSON array of token ids to score instead of a text (no tokenizer needed)")
      ->excludes(text);
  auto* context = cmd->add_option("--context", a->context, "Window length, the BOS included (default: the model's context)");
  add_bos_option(cmd, a->bos);
  cmd->add_flag("--json", a->json, "Print the result as JSON");
  add_dtype_option(cmd, a->dtype);
  return {cmd, [a, context] {
            const std::optional<DType> dtype = held_dtype(a->dtype);
            if (a->text.empty() == a->ids.empty()) throw Error("eval: give --text FILE or --ids FILE");
            const BosMode bos_mode = parse_bos_mode(a->bos);
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
            const BosPolicy bos = tok ? resolve_bos_policy(a->model, *tok, bos_mode)
                                      : resolve_bos_policy(a->model, nullptr, weights->config.vocab_size, bos_mode);
            Transformer model(weights);
            model.pack_weights();
            // A given --context is checked by evaluate (in [2, the model's context]), never replaced.
            const int T = context->count() > 0 ? a->context : weights->config.max_position_embeddings;
            ProgressBar bar("eval", int64_t(tokens.size()) - (bos.add_bos ? 0 : 1), "tok");
            const EvalResult r = evaluate(model, tok ? &*tok : nullptr, tokens, T, bos.add_bos ? bos.bos_id : -1,
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
                                  {"bos", to_json(bos)},
                                  {"first_token_scored", r.bos_id >= 0},
                                  {"seconds", bar.seconds()}};
              std::printf("%s\n", j.dump(2).c_str());
            } else {
              const std::string policy = describe(bos) + (r.bos_id >= 0 ? ", the first token scored" : "");
              if (bytes)
                std::printf("%s: %.4f bits/byte, %.4f bits/token (%lld tokens, %lld bytes; context %d, stride %d; %s)\n",
                            input.c_str(), r.bits_per_byte(), r.bits_per_token(), (long long)r.tokens_scored,
                            (long long)r.bytes_scored, r.context, r.stride, policy.c_str());
              else
                std::printf("%s: %.4f bits/token (%lld tokens; context %d, stride %d; %s)\n", input.c_str(),
                            r.bits_per_token(), (long long)r.tokens_scored, r.context, r.stride, policy.c_str());
            }
            return 0;
          }};
}

}  // namespace strata::cli
