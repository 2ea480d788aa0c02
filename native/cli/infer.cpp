// `strata infer`: iterative inference for one target under one schedule, iteration by
// iteration, as a table or JSON. The browser demo's test compares its steps with this.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "strata/bos_policy.h"
#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/inference.h"
#include "strata/model_dir.h"
#include "strata/schedule.h"
#include "strata/tokenizer.h"

namespace strata::cli {

Subcommand add_infer(CLI::App& app) {
  auto* cmd = app.add_subcommand("infer", "Refine one target's prediction over a schedule's iterations");
  struct Args { std::string model, text, dtype, schedule = "hierarchical", bos = "auto"; int64_t target = -1; int budget = 0, top_k = 5; bool json = false; };
  auto a = std::make_shared<Args>();
  cmd->add_option("--model", a->model, "Model directory")->required();
  cmd->add_option("--text", a->text, "Text file")->required();
  auto* target = cmd->add_option("--target", a->target, "Target token position t (default: the last token)");
  cmd->add_option("--schedule", a->schedule, "sequential, hierarchical[:b], dilated, custom:<json>|@file")->capture_default_str();
  auto* budget = cmd->add_option("--budget", a->budget, "Context budget L (default: the largest the schedule accepts for the target)");
  cmd->add_option("--top-k", a->top_k, "Predictions to show per iteration")->capture_default_str();
  add_bos_option(cmd, a->bos);
  cmd->add_flag("--json", a->json, "Print JSON");
  add_dtype_option(cmd, a->dtype);
  return {cmd, [a, target, budget] {
            if (a->top_k < 1) throw Error("--top-k must be at least 1, got " + std::to_string(a->top_k));
            if (target->count() > 0 && a->target < 0)
              throw Error("--target must be a token position (0 or more), got " + std::to_string(a->target));
            const BosMode bos_mode = parse_bos_mode(a->bos);
            const auto [weights, tok, checkpoint] = load_model(a->model, held_dtype(a->dtype));
            const BosPolicy bos = resolve_bos_policy(a->model, tok, bos_mode);
            const std::string text = read_text(a->text);
            const auto tokens = tok.encode(text);
            // Given values are checked by IterativeInference (validate_budget), never replaced.
            const int64_t t = target->count() > 0 ? a->target : int64_t(tokens.size()) - 1;
            std::shared_ptr<const Schedule> schedule = make_schedule(a->schedule);
            const int positions = weights->config.max_position_embeddings - (bos.add_bos ? 1 : 0);
            const int L = budget->count() > 0 ? a->budget : schedule->default_budget(t, positions);
            Transformer model(weights);
            model.pack_weights();
            IterativeInference run(model, tokens, t, schedule, L,
                                   {.top_k = a->top_k, .bos = bos.add_bos, .bos_id = bos.bos_id});
            run.run_all();
            nlohmann::json iterations = nlohmann::json::array();
            for (const auto& r : run.history()) iterations.push_back(to_json(r, tok));
            if (a->json) {
              nlohmann::json j = {{"target", t}, {"target_token", run.target_token()},
                                  {"target_text", tok.token_text(run.target_token())}, {"schedule", a->schedule},
                                  {"budget", L}, {"bos", to_json(bos)}, {"iterations", iterations}};
              std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
            } else {
              std::printf("target t=%lld token %d, schedule %s, budget %d, %s\n", (long long)t, run.target_token(),
                          a->schedule.c_str(), L, describe(bos).c_str());
              std::printf("%4s %8s %14s %10s %6s %14s\n", "k", "|C_k|", "surprisal_bits", "p", "rank", "token_forwards");
              for (const auto& r : run.history())
                std::printf("%4d %8d %14.4f %10.4f %6d %14lld\n", r.iteration, r.context.size(), r.surprisal_bits,
                            r.target_probability, r.target_rank, (long long)r.cumulative_token_forwards);
            }
            return 0;
          }};
}

}  // namespace strata::cli
