// `strata convert`: copy a model directory, storing the weights as F32, F16 or BF16 (a
// 16-bit type halves the file, e.g. F16 for the default model in assets/).
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "strata/error.h"
#include "strata/model_dir.h"
#include "strata/tokenizer.h"

namespace strata::cli {

Subcommand add_convert(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert", "Copy a model directory with its weights stored as f32, f16 or bf16");
  struct Args { std::string model, out, dtype = "f16"; };
  auto a = std::make_shared<Args>();
  cmd->add_option("--model", a->model, "Model directory")->required();
  cmd->add_option("--out", a->out, "Output model directory")->required();
  cmd->add_option("--dtype", a->dtype, "f32, f16 or bf16")->check(CLI::IsMember({"f32", "f16", "bf16"}))->capture_default_str();
  return {cmd, [a] {
            const auto [weights, tok] = load_model(a->model);
            const Weights& w = *weights;
            if (std::filesystem::equivalent(a->model, a->out))
              throw Error("convert: --out must differ from --model");
            save_model(a->out, w, tok, parse_dtype(a->dtype));
            std::printf("%s: %lld parameters stored as %s\n", a->out.c_str(), (long long)w.config.parameter_count(),
                        a->dtype.c_str());
            return 0;
          }};
}

}  // namespace strata::cli
