// `strata generate`: a continuation of a prompt, decoded with a KV cache (generate.h) and
// printed to stdout as each token is drawn (text_stream.h releases whole characters only).
// Stops after --tokens tokens or at the model's end-of-sequence token (bos_policy.h), and
// reports the prefill and decoding rates on stderr.
#include <chrono>
#include <cstdio>

#include "commands.h"
#include "strata/bos_policy.h"
#include "strata/error.h"
#include "strata/generate.h"
#include "strata/model_dir.h"
#include "strata/text_stream.h"

namespace strata::cli {

Subcommand add_generate(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Continue a prompt, streaming the text as it is generated");
  struct Args {
    std::string model, prompt, dtype, bos = "auto";
    int tokens = 64;
    SamplingOptions sampling;
    bool quiet = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--model", a->model, "Model directory")->required();
  cmd->add_option("--prompt", a->prompt, "The text to continue")->required();
  cmd->add_option("--tokens", a->tokens, "Tokens to generate")->capture_default_str();
  cmd->add_option("--temperature", a->sampling.temperature, "Softmax temperature; 0 is greedy")->capture_default_str();
  cmd->add_option("--top-k", a->sampling.top_k, "Draw from the k most likely tokens; 0: all")->capture_default_str();
  cmd->add_option("--top-p", a->sampling.top_p, "Draw from the fewest most likely tokens whose probability reaches p, in (0, 1]")
      ->capture_default_str();
  cmd->add_option("--seed", a->sampling.seed, "Seed of the sampler's random numbers")->capture_default_str();
  add_bos_option(cmd, a->bos);
  add_dtype_option(cmd, a->dtype);
  cmd->add_flag("--quiet", a->quiet, "No rates on stderr");
  return {cmd, [a] {
            // Every option is checked before the model is read.
            if (a->prompt.empty()) throw Error("--prompt is empty: give some text to continue");
            if (a->tokens < 0) throw Error("--tokens must be >= 0, got " + std::to_string(a->tokens));
            Sampler sampler(a->sampling);
            const BosMode bos_mode = parse_bos_mode(a->bos);
            const auto [weights, tok, checkpoint] = load_model(a->model, held_dtype(a->dtype));
            const BosPolicy bos = resolve_bos_policy(a->model, tok, bos_mode);
            std::vector<int32_t> prompt;
            if (bos.add_bos) prompt.push_back(bos.bos_id);
            for (int32_t id : tok.encode(a->prompt)) prompt.push_back(id);

            Decoder decoder(weights);
            TextStream text(tok, prompt);
            using Clock = std::chrono::steady_clock;
            const auto start = Clock::now();
            auto first = start;
            int drawn = 0;
            generate(decoder, prompt, a->tokens, sampler, [&](int32_t id) {
              if (drawn++ == 0) first = Clock::now();
              if (id == bos.eos_id) return false;
              const std::string piece = text.push(id);
              std::fwrite(piece.data(), 1, piece.size(), stdout);
              std::fflush(stdout);
              return true;
            });
            const std::string rest = text.finish();
            std::fwrite(rest.data(), 1, rest.size(), stdout);
            std::fputc('\n', stdout);
            const auto seconds = [](auto from, auto to) { return std::chrono::duration<double>(to - from).count(); };
            if (!a->quiet && drawn > 0)
              std::fprintf(stderr, "strata: prompt %zu tokens in %.1f ms; %d tokens generated, %.1f tokens/s\n",
                           prompt.size(), 1e3 * seconds(start, first), drawn,
                           drawn > 1 ? (drawn - 1) / std::max(seconds(first, Clock::now()), 1e-9) : 0.0);
            return 0;
          }};
}

}  // namespace strata::cli
