// The browser demo's run logic (see run.h). No ImGui here.
#include "run.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <map>

#include "strata/error.h"
#include "strata/model_dir.h"
#include "strata/schedule.h"
#include "strata/utf8.h"

namespace strata::web {

namespace {

// The default passage, in the manner of the stories (written for this demo). It ends on
// the target: the full stop after "closed his eyes", which the model predicts better and
// better as it sees more of the text.
const char* kDefaultText =
    "     It was upon a raw and foggy evening in November that our visitor\n"
    "     was shown up to the sitting-room in Baker Street. She was a young\n"
    "     woman, plainly but neatly dressed, with a pale, anxious face, and\n"
    "     she gave her name as Miss Edith Marlowe, of Kensington.\n"
    "\n"
    "     \"Pray take the basket-chair by the fire,\" said Holmes. \"You have\n"
    "     come a long way this morning, I perceive, and in some haste.\"\n"
    "\n"
    "     \"I have indeed, Mr. Holmes. My brother has vanished, and the\n"
    "     police will do nothing at all.\"\n"
    "\n"
    "     Holmes leaned back in his chair and closed his eyes.";

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A chip: the token's printable text and how it sits among its neighbours.
Token make_token(const Tokenizer& tok, int32_t id) {
  Token t;
  t.id = id;
  try {
    t.text = printable_bytes(tok.token_text(id), /*keep_newlines=*/true);
  } catch (const std::exception&) {
    t.text = "<id " + std::to_string(id) + ">";
  }
  const bool all_space = t.text.find_first_not_of(" \n") == std::string::npos;
  if (t.text.find('\n') != std::string::npos) {
    // A newline (possibly with the next line's indentation): ¶ per newline, then a line break.
    for (char c : t.text)
      if (c == '\n') t.label += "\xC2\xB6";
    if (!all_space) {  // rare: newline inside other text
      t.label.clear();
      for (char c : t.text) t.label += c == '\n' ? std::string("\xC2\xB6") : std::string(1, c);
    }
    t.line_break = t.text.back() == '\n' || all_space;
  } else if (all_space) {
    for (size_t i = 0; i < t.text.size(); ++i) t.label += "\xC2\xB7";  // middle dot per space
  } else if (t.text[0] == ' ') {
    t.space_before = true;
    t.label = t.text.substr(1);
  } else {
    t.label = t.text;
  }
  if (t.label.empty()) t.label = "\xC2\xB7";
  return t;
}

// The legend: the levels of the largest context, each with the offsets it covers.
std::vector<LevelSpan> level_spans(const ContextSet& largest, const std::vector<int>& levels, int64_t target) {
  std::map<int, LevelSpan> by_level;
  for (size_t i = 0; i < largest.positions.size(); ++i) {
    if (levels[i] < 0) continue;
    const int64_t d = target - largest.positions[i];
    auto [it, fresh] = by_level.try_emplace(levels[i], LevelSpan{levels[i], d, d});
    if (!fresh) {
      it->second.nearest = std::min(it->second.nearest, d);
      it->second.farthest = std::max(it->second.farthest, d);
    }
  }
  std::vector<LevelSpan> out;
  for (const auto& [k, span] : by_level) out.push_back(span);
  return out;
}

}  // namespace

void init_app(App& app) {
  app.text = TextPanel{};
  app.text.text = kDefaultText;
  app.model = ModelPanel{};
  app.settings = RunSettings{};
  retokenize(app.text, *app.model.tokenizer);
  rebuild_run(app);
}

// =======================================================================================
// Text and tokens

void retokenize(TextPanel& panel, const Tokenizer& tok) {
  const std::vector<int32_t> ids = tok.encode(panel.text);
  const size_t n = std::min(ids.size(), size_t(std::max(panel.max_tokens, 0)));
  panel.tokens.clear();
  panel.tokens.reserve(n);
  for (size_t i = 0; i < n; ++i) panel.tokens.push_back(make_token(tok, ids[i]));
  panel.truncated = ids.size() > n;
  // Keep the target while it is in range; else the default, the last token.
  if (panel.target < 0 || panel.target >= int(panel.tokens.size())) panel.target = int(panel.tokens.size()) - 1;
  if (panel.tokens.size() < 2) panel.target = -1;
  panel.chip_rects.assign(panel.tokens.size(), Rect{});
}

// =======================================================================================
// The model

const char* to_string(ModelStatus s) {
  switch (s) {
    case ModelStatus::kNone: return "none";
    case ModelStatus::kFetching: return "fetching";
    case ModelStatus::kLoaded: return "loaded";
    case ModelStatus::kError: return "error";
  }
  return "?";
}

void load_fetched_model(ModelPanel& panel) {
  panel.config.reset();
  panel.error.clear();
  panel.model.reset();
  panel.tokenizer = std::make_shared<Tokenizer>();
  panel.bos = {};
  const double start = now_ms();
  try {
    if (panel.files.empty())
      throw Error("no model files at " + panel.url + " (assets/model/ was empty when the page was built)");
    LoadedModel loaded = strata::load_model(panel.dir);
    panel.model = std::make_shared<Transformer>(loaded.weights);
    panel.model->pack_weights();  // within the memory model_memory counted
    panel.tokenizer = std::make_shared<const Tokenizer>(std::move(loaded.tokenizer));
    panel.config = loaded.weights->config;
    panel.dtypes = loaded.checkpoint.dtypes;
    panel.bos = resolve_bos_policy(panel.dir, *panel.tokenizer, BosMode::kAuto);
    panel.status = ModelStatus::kLoaded;
  } catch (const std::exception& e) {
    panel.status = ModelStatus::kError;
    panel.error = e.what();
    panel.config.reset();
    panel.model.reset();
    panel.tokenizer = std::make_shared<Tokenizer>();
  }
  panel.load_ms = now_ms() - start;
}

void apply_fetched_model(App& app) {
  load_fetched_model(app.model);
  if (app.model.config) app.text.max_tokens = std::min(app.model.config->max_position_embeddings, kMaxPageTokens);
  retokenize(app.text, *app.model.tokenizer);
  if (app.model.status == ModelStatus::kLoaded) app.text.target = int(app.text.tokens.size()) - 1;
  rebuild_run(app);
}

namespace {

// The folder's state after a refusal: the error shown, nothing loaded, the files removed.
void refuse_folder(App& app, const std::string& why) {
  ModelPanel& m = app.model;
  m.status = ModelStatus::kError;
  m.error = why;
  m.folder = FolderStep::kNone;
  std::error_code ec;
  std::filesystem::remove_all(m.dir, ec);
  retokenize(app.text, *m.tokenizer);
  rebuild_run(app);
}

}  // namespace

std::vector<std::string> pick_folder(App& app, const std::string& folder, std::vector<ModelFile> files) {
  // The run refers to the model: both go first, so that their memory is free for the new one.
  app.run.inference.reset();
  app.run.reference.reset();
  app.model = ModelPanel{};
  ModelPanel& m = app.model;
  m.status = ModelStatus::kFetching;
  m.url = folder + "/";
  m.dir = kPickedDir;
  m.files = std::move(files);
  try {
    std::error_code ec;
    std::filesystem::remove_all(m.dir, ec);
    std::filesystem::create_directories(m.dir, ec);
    if (ec) throw Error(m.dir + ": cannot create (" + ec.message() + ")");
    std::vector<std::string> reads = first_reads(m.files);
    m.folder = FolderStep::kConfig;
    m.read.insert(m.read.end(), reads.begin(), reads.end());
    rebuild_run(app);
    return reads;
  } catch (const std::exception& e) {
    refuse_folder(app, e.what());
    return {};
  }
}

std::vector<std::string> folder_read(App& app) {
  ModelPanel& m = app.model;
  ModelMemory need;  // filled by the size check, also when it refuses
  try {
    if (m.folder == FolderStep::kConfig) {
      std::vector<std::string> reads = weight_reads(m.dir, m.files, &need);
      m.memory = need;
      m.folder = FolderStep::kWeights;
      m.read.insert(m.read.end(), reads.begin(), reads.end());
      return reads;
    }
    if (m.folder != FolderStep::kWeights) throw Error("no folder is being read (pick one first)");
  } catch (const std::exception& e) {
    if (need.total() > 0) m.memory = need;
    refuse_folder(app, e.what());
    return {};
  }
  m.folder = FolderStep::kNone;
  apply_fetched_model(app);
  // The loaded model is in memory now: the files' copies in the file system can go.
  std::error_code ec;
  std::filesystem::remove_all(m.dir, ec);
  return {};
}

// =======================================================================================
// The run

const char* schedule_name(ScheduleKind k) {
  switch (k) {
    case ScheduleKind::kHierarchical: return "hierarchical";
    case ScheduleKind::kSequential: return "sequential";
    case ScheduleKind::kDilated: return "dilated";
  }
  return "?";
}

std::string schedule_spec(const RunSettings& s) {
  if (s.kind == ScheduleKind::kHierarchical && s.base != 2) return "hierarchical:" + std::to_string(s.base);
  return schedule_name(s.kind);
}

void rebuild_run(App& app) {
  Run& r = app.run;
  r.inference.reset();
  r.reference.reset();
  r.view = -1;
  r.playing = false;
  r.message.clear();
  r.reference_ms = 0;
  r.spec = schedule_spec(app.settings);
  r.target = app.text.target;
  r.budget = 0;
  r.budget_choices.clear();
  r.default_budget = 0;
  r.largest_levels.clear();
  r.levels.clear();
  if (app.model.status != ModelStatus::kLoaded || !app.model.model) {
    r.message = app.model.status == ModelStatus::kError ? "No model: it could not be loaded (see Model below)."
                                                        : "Waiting for the model...";
    return;
  }
  if (r.target < 0) {
    r.message = "Click a token to make it the target.";
    return;
  }
  if (r.target < 1) {
    r.message = "The first token has nothing before it: pick a later target.";
    return;
  }
  try {
    std::shared_ptr<const Schedule> schedule = make_schedule(r.spec);
    // With BOS on, position 0 holds it: the windows have one position less (as strata infer).
    const BosPolicy& bos = app.model.bos;
    const int context = app.model.model->config().max_position_embeddings - (bos.add_bos ? 1 : 0);
    r.budget_choices = schedule->budget_choices(r.target, context);
    r.default_budget = schedule->default_budget(r.target, context);  // throws when none fits
    if (std::find(r.budget_choices.begin(), r.budget_choices.end(), app.settings.budget) == r.budget_choices.end())
      app.settings.budget = r.default_budget;
    r.budget = app.settings.budget;

    std::vector<int32_t> ids;
    ids.reserve(app.text.tokens.size());
    for (const Token& t : app.text.tokens) ids.push_back(t.id);
    InferenceOptions opts;
    opts.top_k = app.settings.top_k;
    opts.bos = bos.add_bos;
    opts.bos_id = bos.bos_id;
    r.inference = std::make_unique<IterativeInference>(*app.model.model, ids, r.target, schedule, r.budget, opts);
    opts.top_k = 1;
    r.reference = std::make_unique<IterativeInference>(*app.model.model, ids, r.target,
                                                       std::make_shared<SequentialSchedule>(), r.budget, opts);
    const ContextSet& largest = r.inference->contexts().back();
    for (int64_t p : largest.positions) r.largest_levels.push_back(schedule->level_of_offset(r.target - p, r.budget));
    r.levels = level_spans(largest, r.largest_levels, r.target);
  } catch (const std::exception& e) {
    r.inference.reset();
    r.reference.reset();
    r.largest_levels.clear();
    r.levels.clear();
    r.message = e.what();
  }
}

const IterationResult* shown_step(const Run& r) {
  if (!r.inference || r.view < 0 || r.view >= int(r.inference->history().size())) return nullptr;
  return &r.inference->history()[size_t(r.view)];
}

void step_next(App& app) {
  Run& r = app.run;
  if (!r.inference) return;
  const auto& h = r.inference->history();
  if (r.view + 1 < int(h.size())) {
    ++r.view;
    return;
  }
  if (r.inference->done()) return;
  try {
    r.inference->step();
    r.view = int(h.size()) - 1;
  } catch (const std::exception& e) {
    r.message = e.what();
    r.playing = false;
  }
}

void step_prev(App& app) {
  if (app.run.view > 0) --app.run.view;
}

void step_reset(App& app) {
  Run& r = app.run;
  if (r.inference) r.inference->reset();
  r.view = -1;
  r.playing = false;
}

void step_goto(App& app, int k) {
  Run& r = app.run;
  if (!r.inference) return;
  k = std::clamp(k, -1, r.inference->iterations() - 1);
  while (int(r.inference->history().size()) <= k) {
    r.view = int(r.inference->history().size()) - 1;
    step_next(app);
    if (!r.message.empty()) return;
  }
  r.view = k;
}

void set_playing(App& app, bool on, double now) {
  Run& r = app.run;
  if (!r.inference) on = false;
  if (on && r.view >= r.inference->iterations() - 1) step_reset(app);  // play again from the start
  r.playing = on;
  r.next_play_at = now;
}

void update_app(App& app, double now) {
  Run& r = app.run;
  if (r.playing && r.inference && now >= r.next_play_at) {
    if (r.view >= r.inference->iterations() - 1) {
      r.playing = false;
    } else {
      step_next(app);
      r.next_play_at = now + r.play_interval;
    }
  }
  if (r.reference && !r.reference->done() && now >= r.reference_idle_until) {
    const double start = now_ms();
    try {
      do r.reference->step();
      while (!r.reference->done() && now_ms() - start < app.reference_budget_ms);
    } catch (const std::exception& e) {
      r.message = std::string("sequential reference: ") + e.what();
      r.reference.reset();
    }
    const double spent = now_ms() - start;
    r.reference_ms += spent;
    if (spent > app.reference_budget_ms) r.reference_idle_until = now + spent / 1e3;
  }
}

void finish_reference(App& app) {
  Run& r = app.run;
  if (!r.reference) return;
  const double start = now_ms();
  try {
    r.reference->run_all();
  } catch (const std::exception& e) {
    r.message = std::string("sequential reference: ") + e.what();
    r.reference.reset();
  }
  r.reference_ms += now_ms() - start;
}

double bench_forward(App& app, int n, int reps) {
  if (!app.model.model) return -1;
  Transformer& m = *app.model.model;
  n = std::clamp(n, 1, m.config().max_position_embeddings);
  reps = std::max(reps, 1);
  std::vector<int32_t> ids(static_cast<size_t>(n)), pos(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    ids[size_t(i)] = app.text.tokens.empty() ? i % m.config().vocab_size
                                             : app.text.tokens[size_t(i) % app.text.tokens.size()].id;
    pos[size_t(i)] = i;
  }
  const std::vector<int> rows = {n - 1};
  m.forward(ids, pos, 1, n, rows);  // warm-up: buffers grow once
  const double start = now_ms();
  for (int i = 0; i < reps; ++i) m.forward(ids, pos, 1, n, rows);
  return (now_ms() - start) / reps;
}

}  // namespace strata::web
