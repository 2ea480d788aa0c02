// `strata train`: a tokenizer (trained or given), a model config from flags or JSON, then
// AdamW steps with a progress bar, validation, atomic checkpoints every N steps and on
// Ctrl-C, and --resume from the last checkpoint. The output directory is always a usable
// model directory (config.json, model.safetensors, tokenizer.json) plus checkpoint and
// loss curve; best/ is the model directory at the lowest validation loss so far.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "progress.h"
#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/model_dir.h"
#include "strata/svg_plot.h"
#include "strata/tokenizer.h"
#include "strata/trainer.h"

namespace strata::cli {

namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted = true; }

struct TrainArgs {
  std::string text, out, tokenizer, config_json, valid_text;
  int vocab = 2048;
  double val_fraction = 0.05;
  int eval_every = 100, eval_batches = 8, checkpoint_every = 100;
  bool resume = false;
  ModelConfig model;
  TrainOptions opt;
  std::string act = "silu";
  int head_dim = 0;  // 0: hidden_size / num_attention_heads
};

// Reads the rows of loss.csv up to and including `step`, so a resumed run continues the
// curve without duplicated or orphaned rows.
std::string loss_rows_until(const std::string& path, int64_t step) {
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.rfind("step,", 0) == 0) continue;
    if (std::stoll(line.substr(0, line.find(','))) <= step) kept += line + "\n";
  }
  return kept;
}

// The fields of one loss.csv row, or none for the header.
std::vector<std::string> csv_row(const std::string& line) {
  std::vector<std::string> f;
  if (line.rfind("step,", 0) == 0) return f;
  std::istringstream fields(line);
  for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
  return f;
}

// The validation losses recorded in loss.csv rows: the last one (shown by a resumed run
// until its own first evaluation) and the lowest (the model in best/). NaN / inf if none.
struct ValidationHistory {
  double last = NAN, best = INFINITY;
};
ValidationHistory validation_history(const std::string& csv) {
  ValidationHistory h;
  std::istringstream in(csv);
  for (std::string line; std::getline(in, line);) {
    const std::vector<std::string> f = csv_row(line);
    if (f.size() < 4 || f[3].empty()) continue;
    h.last = std::stod(f[3]);
    h.best = std::min(h.best, h.last);
  }
  return h;
}

// The loss curve of loss.csv as an SVG plot: training loss every step, validation loss
// at each evaluation, in nats per token.
std::string loss_plot(const std::string& csv) {
  Series train{.name = "train loss", .color = "#1f77b4"};
  Series val{.name = "validation loss", .style = SeriesStyle::kPoints, .color = "#d62728"};
  std::istringstream in(csv);
  std::string line;
  while (std::getline(in, line)) {
    const std::vector<std::string> f = csv_row(line);
    if (f.size() < 4) continue;
    train.xs.push_back(std::stod(f[0]));
    train.ys.push_back(std::stod(f[2]));
    if (!f[3].empty()) {
      val.xs.push_back(std::stod(f[0]));
      val.ys.push_back(std::stod(f[3]));
    }
  }
  SvgPlot plot;
  plot.title = "strata train: loss";
  plot.x_label = "step";
  plot.y_label = "cross-entropy (nats/token)";
  plot.add(std::move(train));
  plot.add(std::move(val));
  return plot.render();
}

int run_train(TrainArgs a) {
  namespace fs = std::filesystem;
  // Validate everything before writing anything.
  if (!(a.val_fraction >= 0 && a.val_fraction < 0.5)) throw Error("--val-fraction must be in [0, 0.5)");
  if (a.eval_every < 1 || a.checkpoint_every < 1 || a.eval_batches < 1)
    throw Error("--eval-every, --eval-batches and --checkpoint-every must be >= 1");
  const std::string text = read_file(a.text);
  if (text.empty()) throw Error(a.text + ": the text is empty");
  const std::string valid_text = a.valid_text.empty() ? std::string() : read_file(a.valid_text);
  if (!a.valid_text.empty() && valid_text.empty()) throw Error(a.valid_text + ": the validation text is empty");
  const std::string ckpt = a.out + "/checkpoint.safetensors";
  if (a.resume && !file_exists(ckpt)) throw Error(ckpt + ": no checkpoint to resume from");
  if (!a.resume && file_exists(ckpt))
    throw Error(a.out + ": already holds a training run; pass --resume to continue it or choose another --out");

  if (!a.config_json.empty()) {
    const auto j = nlohmann::json::parse(read_file(a.config_json), nullptr, false);
    if (j.is_discarded()) throw Error(a.config_json + ": malformed JSON");
    if (j.contains("model")) a.model = config_from_json(j["model"]);
    if (j.contains("train")) a.opt = train_options_from_json(j["train"]);
  }
  a.model.mlp = a.act == "gelu" ? Mlp::kGeluTanhGated : Mlp::kSiLUGated;
  if (a.head_dim > 0) a.model.head_dim = a.head_dim;
  else if (a.config_json.empty()) a.model.head_dim = a.model.hidden_size / std::max(1, a.model.num_attention_heads);
  if (a.resume) a.model = read_config(a.out + "/config.json");

  std::fprintf(stderr, "strata train: tokenizer...\n");
  Tokenizer tok = a.tokenizer.empty() ? (a.resume ? Tokenizer::load(a.out + "/tokenizer.json")
                                                  : Tokenizer::train(text, a.vocab))
                                      : Tokenizer::load(a.tokenizer);
  a.model.vocab_size = tok.vocab_size();
  a.model.validate();
  if (a.opt.seq_len > a.model.max_position_embeddings)
    throw Error("--context " + std::to_string(a.opt.seq_len) + " exceeds max_position_embeddings " +
                std::to_string(a.model.max_position_embeddings));

  std::vector<int32_t> tokens = tok.encode(text);
  std::vector<int32_t> validation;
  if (!valid_text.empty()) {
    validation = tok.encode(valid_text);
  } else {  // the tail of the text
    const size_t n_val = size_t(double(tokens.size()) * a.val_fraction);
    validation.assign(tokens.end() - std::ptrdiff_t(n_val), tokens.end());
    tokens.resize(tokens.size() - n_val);
  }

  std::fprintf(stderr, "strata train: %lld parameters, %zu training tokens, %zu validation tokens\n",
               (long long)a.model.parameter_count(), tokens.size(), validation.size());
  auto weights = std::make_shared<Weights>(a.model);
  weights->init_random(a.opt.seed);
  Trainer trainer(weights, std::move(tokens), std::move(validation), a.opt);  // checks sizes

  fs::create_directories(a.out);
  std::string csv = "step,lr,train_loss,val_loss,tokens_per_s,elapsed_s\n";
  if (a.resume) {
    trainer.resume(ckpt);
    csv += loss_rows_until(a.out + "/loss.csv", trainer.steps_done());
    std::fprintf(stderr, "strata train: resumed at step %lld\n", (long long)trainer.steps_done());
  }

  // The checkpoint is written last: it is the commit point --resume starts from, and the
  // loss curve and model written before it are never behind it.
  auto save = [&] {
    write_file_atomic(a.out + "/loss.csv", csv);
    write_file_atomic(a.out + "/loss.svg", loss_plot(csv));
    save_model(a.out, trainer.weights(), tok);
    trainer.save_checkpoint(ckpt);
  };
  std::signal(SIGINT, on_sigint);
  std::signal(SIGTERM, on_sigint);
  ProgressBar bar("train", a.opt.steps, "tok");
  bar.set_start(trainer.steps_done());
  const int64_t tokens_per_step = int64_t(a.opt.batch_size) * a.opt.seq_len;
  const int64_t first = trainer.steps_done();
  const ValidationHistory history = validation_history(csv);
  double val = history.last, best_val = history.best, loss_avg = 0;
  // On a small text the validation loss turns up long before the last step: the model at
  // the lowest validation loss so far is kept as a complete model directory in best/.
  auto save_best = [&] { save_model(a.out + "/best", trainer.weights(), tok); };
  while (trainer.steps_done() < a.opt.steps) {
    const StepStats s = trainer.step();
    loss_avg = s.step == first + 1 ? s.loss : 0.9 * loss_avg + 0.1 * s.loss;
    const bool last = s.step == a.opt.steps;
    if (s.step % a.eval_every == 0 || last) {
      val = trainer.validation_loss(a.eval_batches);
      if (val < best_val) best_val = val, save_best();
    }
    const double elapsed = bar.seconds();
    const double tps = double(s.step - first) * tokens_per_step / std::max(elapsed, 1e-9);
    std::ostringstream row;
    row << s.step << ',' << s.lr << ',' << s.loss << ',';
    if (s.step % a.eval_every == 0 || last) row << val;
    row << ',' << tps << ',' << elapsed << '\n';
    csv += row.str();
    char status[128];
    if (std::isnan(val)) std::snprintf(status, sizeof status, "loss %.3f val -", loss_avg);
    else std::snprintf(status, sizeof status, "loss %.3f val %.3f", loss_avg, val);
    bar.update(s.step, status, double(s.step - first) * tokens_per_step);
    if (s.step % a.checkpoint_every == 0 || last) save();
    if (g_interrupted) {
      save();
      std::fprintf(stderr, "\nstrata train: interrupted; checkpoint at step %lld saved, continue with --resume\n",
                   (long long)s.step);
      return 130;
    }
  }
  std::fprintf(stderr, "strata train: done, model in %s; lowest validation loss %.4f in %s/best\n", a.out.c_str(),
               best_val, a.out.c_str());
  return 0;
}

}  // namespace

Subcommand add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a model on a text file (the model at the lowest validation loss also goes to OUT/best)");
  auto a = std::make_shared<TrainArgs>();
  cmd->add_option("--text", a->text, "Training text")->required();
  cmd->add_option("--out", a->out, "Output model directory")->required();
  cmd->add_option("--tokenizer", a->tokenizer, "Use this tokenizer.json instead of training one");
  cmd->add_option("--vocab", a->vocab, "BPE vocabulary size when training a tokenizer")->capture_default_str();
  cmd->add_option("--config", a->config_json, "JSON file with {\"model\": {config.json keys}, \"train\": {...}}");
  cmd->add_option("--dim", a->model.hidden_size, "hidden_size")->capture_default_str();
  cmd->add_option("--layers", a->model.num_hidden_layers, "num_hidden_layers")->capture_default_str();
  cmd->add_option("--heads", a->model.num_attention_heads, "num_attention_heads")->capture_default_str();
  cmd->add_option("--kv-heads", a->model.num_key_value_heads, "num_key_value_heads")->capture_default_str();
  cmd->add_option("--head-dim", a->head_dim, "head_dim (default hidden_size / heads)");
  cmd->add_option("--ffn", a->model.intermediate_size, "intermediate_size")->capture_default_str();
  cmd->add_option("--max-context", a->model.max_position_embeddings, "max_position_embeddings")->capture_default_str();
  cmd->add_option("--act", a->act, "silu (SwiGLU) or gelu (GeGLU)")->check(CLI::IsMember({"silu", "gelu"}));
  cmd->add_option("--context", a->opt.seq_len, "training window length")->capture_default_str();
  cmd->add_option("--batch", a->opt.batch_size, "windows per step")->capture_default_str();
  cmd->add_option("--steps", a->opt.steps, "optimizer steps")->capture_default_str();
  cmd->add_option("--lr", a->opt.lr, "peak learning rate")->capture_default_str();
  cmd->add_option("--min-lr", a->opt.min_lr, "final learning rate")->capture_default_str();
  cmd->add_option("--warmup", a->opt.warmup, "warm-up steps")->capture_default_str();
  cmd->add_option("--weight-decay", a->opt.weight_decay, "AdamW weight decay (matrices only)")->capture_default_str();
  cmd->add_option("--clip", a->opt.clip, "gradient clipping norm (0: off)")->capture_default_str();
  cmd->add_option("--dropout", a->opt.dropout, "dropout on each residual branch's output (0: off)")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str();
  cmd->add_option("--seed", a->opt.seed, "random seed (init and batches)")->capture_default_str();
  cmd->add_option("--val-fraction", a->val_fraction, "tail of the text held out for validation")->capture_default_str();
  cmd->add_option("--valid-text", a->valid_text, "validation text (instead of the tail of --text)");
  cmd->add_option("--eval-every", a->eval_every, "validate every N steps")->capture_default_str();
  cmd->add_option("--eval-batches", a->eval_batches, "validation batches")->capture_default_str();
  cmd->add_option("--checkpoint-every", a->checkpoint_every, "checkpoint every N steps")->capture_default_str();
  cmd->add_flag("--resume", a->resume, "continue the run in --out from its checkpoint");
  return {cmd, [a] { return run_train(*a); }};
}

}  // namespace strata::cli
