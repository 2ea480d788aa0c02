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

namespace {

// One line naming each architectural choice of the typed config.
std::string architecture_summary(const ModelConfig& c) {
  std::string s = c.model_type + ": ";
  s += c.norm == NormKind::kLayerNorm ? "LayerNorm" : c.norm == NormKind::kRMSNormPlusOne ? "RMSNorm(1+w)" : "RMSNorm";
  if (c.position == PositionEncoding::kLearned) {
    s += ", learned positions";
  } else {
    s += ", RoPE";
    if (c.rope.scaling == RopeScaling::kLinear) s += " (linear x" + std::to_string(c.rope.factor) + ")";
    if (c.rope.scaling == RopeScaling::kLlama3) s += " (llama3 x" + std::to_string(c.rope.factor) + ")";
  }
  s += c.mlp == Mlp::kSiLUGated ? ", SwiGLU" : c.mlp == Mlp::kGeluTanhGated ? ", GeGLU (tanh)" : ", gelu_new MLP";
  s += ", " + std::to_string(c.num_attention_heads) + " heads / " + std::to_string(c.num_key_value_heads) + " kv of " +
       std::to_string(c.head_dim);
  const AttentionConfig& a = c.attention;
  if (a.qkv_bias) s += ", qkv bias";
  if (a.o_bias) s += ", o bias";
  if (c.mlp_bias) s += ", mlp bias";
  if (a.sliding != SlidingLayers::kNone)
    s += ", sliding window " + std::to_string(a.sliding_window) +
         (a.sliding == SlidingLayers::kEven ? " (even layers)" : a.sliding == SlidingLayers::kFrom ? " (from layer " + std::to_string(a.sliding_from_layer) + ")" : "");
  if (a.logit_softcap > 0) s += ", attention soft-cap";
  if (c.final_logit_softcap > 0) s += ", logit soft-cap";
  if (c.post_norms) s += ", post-norms";
  if (c.scale_embeddings) s += ", embeddings x sqrt(d)";
  if (c.tie_word_embeddings) s += ", tied head";
  return s;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

Subcommand add_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print a model's architecture, config, files, memory and tokenizer size");
  auto dir = std::make_shared<std::string>(), dtype = std::make_shared<std::string>();
  cmd->add_option("--model", *dir, "Model directory")->required();
  add_dtype_option(cmd, *dtype);
  return {cmd, [dir, dtype] {
    // The tokenizer is optional here: a checkpoint's weights can be inspected without it.
    CheckpointInfo checkpoint;
    const Weights w = load_weights(*dir, &checkpoint, held_dtype(*dtype));

    const ModelConfig& c = w.config;
    std::printf("%s\n", config_to_json(c).dump(2).c_str());
    std::printf("architecture: %s\n", architecture_summary(c).c_str());
    std::printf("parameters: %lld\n", (long long)c.parameter_count());
    std::printf("stored: %s in %zu file%s (%s, %.1f MiB)\n", checkpoint.dtypes.c_str(), checkpoint.files.size(),
                checkpoint.files.size() == 1 ? "" : "s", join_names(checkpoint.files).c_str(),
                double(checkpoint.file_bytes) / (1 << 20));
    std::printf("memory: matrices held in %s; %.1f MiB mapped from the files, %.1f MiB owned\n",
                w.matrix_dtypes().c_str(), double(w.mapped_bytes()) / (1 << 20), double(w.owned_bytes()) / (1 << 20));
    if (const auto tok = load_tokenizer(*dir, c, /*required=*/false)) {
      const std::string bos = tok->bos_id() >= 0 ? ", BOS " + tok->token_text(tok->bos_id()) : "";
      std::printf("tokenizer: %d tokens (%d merges%s)\n", tok->vocab_size(), tok->merge_count(), bos.c_str());
    } else {
      std::printf("tokenizer: none (no tokenizer.json)\n");
    }
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
      output = tok.decode(read_ids(a->text, tok.vocab_size()));
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
