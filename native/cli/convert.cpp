// `strata convert`: copy a model directory, storing the weights as F32, F16 or BF16 (a
// 16-bit type halves the file, e.g. F16 for the default model in assets/), in one
// model.safetensors or, with --shard-size, in Hugging Face's shards and index
// (safetensors_shards.h). The BOS/EOS files beside the weights (tokenizer_config.json,
// generation_config.json, special_tokens_map.json) come along, so the copy keeps its BOS
// policy. --out is written whole into a temporary directory and moved into place; a
// non-empty --out is replaced only with --force, and survives any failure.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "strata/error.h"
#include "strata/model_dir.h"
#include "strata/safetensors_shards.h"
#include "strata/tokenizer.h"

namespace strata::cli {

namespace {

namespace fs = std::filesystem;

// The temporary directory, removed unless the conversion finished.
struct Staging {
  std::string path;
  bool done = false;
  ~Staging() {
    std::error_code ec;
    if (!done) fs::remove_all(path, ec);
  }
};

}  // namespace

Subcommand add_convert(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert", "Copy a model directory with its weights stored as f32, f16 or bf16");
  struct Args { std::string model, out, dtype = "f16", shard_size; bool force = false; };
  auto a = std::make_shared<Args>();
  cmd->add_option("--model", a->model, "Model directory")->required();
  cmd->add_option("--out", a->out, "Output model directory (created; must not exist or be empty, unless --force)")->required();
  cmd->add_option("--dtype", a->dtype, "f32, f16 or bf16")->check(CLI::IsMember({"f32", "f16", "bf16"}))->capture_default_str();
  cmd->add_option("--shard-size", a->shard_size,
                  "Largest shard, e.g. 2GB, 500MB or 1GiB: model-0000k-of-0000N.safetensors and "
                  "model.safetensors.index.json (default: one model.safetensors)");
  cmd->add_flag("--force", a->force, "Replace a non-empty --out");
  return {cmd, [a] {
            const uint64_t shard_bytes = a->shard_size.empty() ? 0 : parse_byte_size(a->shard_size, "--shard-size");
            std::error_code ec;
            if (fs::equivalent(a->model, a->out, ec)) throw Error("convert: --out must differ from --model");
            const std::string out = checked_out_dir(a->out, a->force);
            const auto [weights, tok, checkpoint] = load_model(a->model);
            const Weights& w = *weights;
            const fs::path parent = fs::absolute(out).parent_path();
            fs::create_directories(parent, ec);
            if (ec) throw Error(parent.string() + ": cannot create directory (" + ec.message() + ")");
            Staging staging{temporary_out_dir(out)};
            fs::remove_all(staging.path, ec);
            const std::vector<std::string> files = save_model(staging.path, w, tok, parse_dtype(a->dtype), shard_bytes);
            for (const char* file : {"tokenizer_config.json", "generation_config.json", "special_tokens_map.json"}) {
              const fs::path from = fs::path(a->model) / file;
              if (!fs::exists(from, ec)) continue;
              fs::copy_file(from, fs::path(staging.path) / file, ec);
              if (ec) throw Error(from.string() + ": cannot copy (" + ec.message() + ")");
            }
            move_into_place(staging.path, out);
            staging.done = true;
            std::printf("%s: %lld parameters stored as %s in %zu file%s\n", out.c_str(), (long long)w.config.parameter_count(),
                        a->dtype.c_str(), files.size(), files.size() == 1 ? " (model.safetensors)" : "s (shards and their index)");
            return 0;
          }};
}

}  // namespace strata::cli
