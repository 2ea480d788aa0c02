// The browser demo's panels, run logic and test API (see app.h).
#include "app.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>

#include "imgui.h"
#include "imgui_stdlib.h"
#include "strata/error.h"
#include "strata/model_dir.h"
#include "strata/schedule.h"

namespace strata::web {

namespace {

// ---- Colours of the UI, in one place ---------------------------------------------------
const ImVec4 kHeading{0.55f, 0.78f, 1.00f, 1.0f};
const ImVec4 kMuted{0.60f, 0.62f, 0.67f, 1.0f};
const ImVec4 kText{0.90f, 0.91f, 0.93f, 1.0f};
const ImVec4 kGood{0.45f, 0.85f, 0.45f, 1.0f};
const ImVec4 kWarn{0.95f, 0.80f, 0.35f, 1.0f};
const ImVec4 kBad{1.00f, 0.42f, 0.40f, 1.0f};
const ImVec4 kChip{0.21f, 0.24f, 0.30f, 1.0f};       // before the target, not in this context
const ImVec4 kChipAfter{0.14f, 0.15f, 0.18f, 1.0f};  // after the target
const ImVec4 kTarget{0.96f, 0.55f, 0.12f, 1.0f};
const ImVec4 kSequential{0.45f, 0.68f, 1.00f, 1.0f};

// One colour per context level (tokens 1, 2, 3-4, 5-8, ... back): distinct on a dark
// background, none of them the target's orange.
const ImVec4 kLevels[] = {
    {0.30f, 0.78f, 0.98f, 1.0f},  // 0  sky
    {0.42f, 0.86f, 0.50f, 1.0f},  // 1  green
    {0.98f, 0.86f, 0.32f, 1.0f},  // 2  yellow
    {0.86f, 0.50f, 0.96f, 1.0f},  // 3  violet
    {0.98f, 0.45f, 0.55f, 1.0f},  // 4  rose
    {0.62f, 0.52f, 0.98f, 1.0f},  // 5  indigo
    {0.72f, 0.92f, 0.30f, 1.0f},  // 6  lime
    {0.98f, 0.62f, 0.88f, 1.0f},  // 7  pink
    {0.40f, 0.92f, 0.84f, 1.0f},  // 8  teal
    {0.84f, 0.72f, 0.54f, 1.0f},  // 9  tan
};
constexpr int kLevelColours = int(sizeof kLevels / sizeof kLevels[0]);

ImVec4 level_colour(int k) { return kLevels[((k % kLevelColours) + kLevelColours) % kLevelColours]; }
ImVec4 scaled(ImVec4 c, float s, float a = 1.0f) { return {c.x * s, c.y * s, c.z * s, c.w * a}; }
ImU32 u32(ImVec4 c) { return ImGui::ColorConvertFloat4ToU32(c); }

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

Rect item_rect() {
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  return {a.x, a.y, b.x - a.x, b.y - a.y};
}

void heading(const char* text) {
  ImGui::TextColored(kHeading, "%s", text);
  ImGui::Separator();
}

std::string human_bytes(int64_t n) {
  char buf[32];
  if (n < 1024) std::snprintf(buf, sizeof buf, "%lld B", (long long)n);
  else if (n < 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f KB", n / 1024.0);
  else std::snprintf(buf, sizeof buf, "%.1f MB", n / (1024.0 * 1024.0));
  return buf;
}

std::string human_flops(double f) {
  char buf[32];
  if (f >= 1e9) std::snprintf(buf, sizeof buf, "%.2f G", f / 1e9);
  else if (f >= 1e6) std::snprintf(buf, sizeof buf, "%.1f M", f / 1e6);
  else std::snprintf(buf, sizeof buf, "%.0f k", f / 1e3);
  return buf;
}

std::string human_ms(double ms) {
  char buf[32];
  if (ms >= 1000) std::snprintf(buf, sizeof buf, "%.2f s", ms / 1e3);
  else std::snprintf(buf, sizeof buf, "%.1f ms", ms);
  return buf;
}

std::string grouped(int64_t n) {  // 12345 -> "12,345"
  std::string s = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return n < 0 ? "-" + out : out;
}

// A prediction's text for bars and tooltips: quoted, newline as ¶.
std::string quoted(const Tokenizer& tok, int32_t id) {
  std::string s;
  try {
    s = display_text(tok.token_text(id));
  } catch (const std::exception&) {
    return "<id " + std::to_string(id) + ">";
  }
  if (s.find_first_not_of(" \n") == std::string::npos) {  // whitespace: as the chips show it
    std::string out;
    for (char c : s) out += c == '\n' ? "\xC2\xB6" : (s.find('\n') == std::string::npos ? "\xC2\xB7" : "");
    return out;
  }
  std::string out = "\"";
  for (char c : s) out += c == '\n' ? std::string("\xC2\xB6") : std::string(1, c);
  return out + "\"";
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int step_of(const RunSettings& s) { return s.kind == ScheduleKind::kHierarchical ? s.base : 2; }

const char* kind_name(ScheduleKind k) {
  switch (k) {
    case ScheduleKind::kHierarchical: return "hierarchical";
    case ScheduleKind::kSequential: return "sequential";
    case ScheduleKind::kDilated: return "dilated";
  }
  return "?";
}

// The history entry shown, or null before the first step.
const IterationResult* shown(const Run& r) {
  if (!r.inference || r.view < 0 || r.view >= int(r.inference->history().size())) return nullptr;
  return &r.inference->history()[size_t(r.view)];
}

}  // namespace

// =======================================================================================
// Text and tokens

std::string display_text(std::string_view s) {
  std::string out;
  char hex[8];
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + size_t(len) <= s.size();
    for (int j = 1; ok && j < len; ++j) ok = (static_cast<unsigned char>(s[i + size_t(j)]) & 0xC0) == 0x80;
    if (ok && len == 1 && b < 0x20 && b != '\n') {
      if (b == '\t') out += "\\t";
      else if (b == '\r') out += "\\r";
      else {
        std::snprintf(hex, sizeof hex, "<%02X>", b);
        out += hex;
      }
      ++i;
    } else if (ok) {
      out.append(s.substr(i, size_t(len)));
      i += size_t(len);
    } else {
      std::snprintf(hex, sizeof hex, "<%02X>", b);
      out += hex;
      ++i;
    }
  }
  return out;
}

namespace {

Token make_token(const Tokenizer& tok, int32_t id) {
  Token t;
  t.id = id;
  try {
    t.text = display_text(tok.token_text(id));
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

}  // namespace

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
// Model

const char* to_string(ModelStatus s) {
  switch (s) {
    case ModelStatus::kNone: return "none";
    case ModelStatus::kFetching: return "fetching";
    case ModelStatus::kLoaded: return "loaded";
    case ModelStatus::kError: return "error";
  }
  return "?";
}

void load_model(ModelPanel& panel) {
  panel.config.reset();
  panel.error.clear();
  panel.model.reset();
  panel.tokenizer = std::make_shared<Tokenizer>();
  const double start = now_ms();
  try {
    if (panel.files.empty())
      throw Error("no model files at " + panel.url + " (assets/model/ was empty when the page was built)");
    auto weights = std::make_shared<const Weights>(load_weights(panel.dir));
    auto tok = std::make_shared<const Tokenizer>(Tokenizer::load(panel.dir + "/tokenizer.json"));
    if (tok->vocab_size() > weights->config.vocab_size)
      throw Error(panel.dir + "/tokenizer.json: " + std::to_string(tok->vocab_size()) +
                  " tokens, more than the model's vocabulary of " + std::to_string(weights->config.vocab_size));
    panel.model = std::make_shared<Transformer>(weights);
    panel.tokenizer = std::move(tok);
    panel.config = weights->config;
    panel.status = ModelStatus::kLoaded;
  } catch (const std::exception& e) {
    panel.status = ModelStatus::kError;
    panel.error = e.what();
    panel.model.reset();
    panel.tokenizer = std::make_shared<Tokenizer>();
  }
  panel.load_ms = now_ms() - start;
}

// =======================================================================================
// Runs

std::string schedule_spec(const RunSettings& s) {
  if (s.kind == ScheduleKind::kHierarchical)
    return s.base == 2 ? "hierarchical" : "hierarchical:" + std::to_string(s.base);
  return kind_name(s.kind);
}

int level_of_offset(int64_t d, int step) {
  int k = 0;
  for (int64_t w = 1; w < d; w *= step) ++k;
  return k;
}

std::vector<int> budget_options(const RunSettings& s, int64_t history, int context) {
  std::vector<int> out;
  const int step = step_of(s);
  const int64_t limit = std::min<int64_t>(history, context);
  for (int64_t L = 1; L <= limit; L *= step) out.push_back(int(L));
  return out;
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
  r.step = step_of(app.settings);
  r.target = app.text.target;
  r.budget = 0;
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
  const std::vector<int> options =
      budget_options(app.settings, r.target, app.model.model->config().max_position_embeddings);
  if (options.empty()) {
    r.message = "No budget fits this target.";
    return;
  }
  if (std::find(options.begin(), options.end(), app.settings.budget) == options.end())
    app.settings.budget = options.back();
  r.budget = app.settings.budget;
  try {
    std::vector<int32_t> ids;
    ids.reserve(app.text.tokens.size());
    for (const Token& t : app.text.tokens) ids.push_back(t.id);
    std::shared_ptr<const Schedule> schedule = make_schedule(r.spec);
    InferenceOptions opts;
    opts.top_k = app.settings.top_k;
    r.inference = std::make_unique<IterativeInference>(*app.model.model, ids, r.target, schedule, r.budget, opts);
    opts.top_k = 1;
    r.reference = std::make_unique<IterativeInference>(*app.model.model, ids, r.target,
                                                       std::make_shared<SequentialSchedule>(), r.budget, opts);
  } catch (const std::exception& e) {
    r.inference.reset();
    r.reference.reset();
    r.message = e.what();
  }
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

// =======================================================================================
// Panels

void draw_text_panel(App& app) {
  TextPanel& panel = app.text;
  const Run& run = app.run;
  heading("Text");
  const float box_h = ImGui::GetTextLineHeight() * 3 + ImGui::GetStyle().FramePadding.y * 2;
  if (ImGui::InputTextMultiline("##text", &panel.text, ImVec2(-1, box_h))) {
    retokenize(panel, *app.model.tokenizer);
    rebuild_run(app);
  }
  panel.text_box = item_rect();

  ImGui::TextColored(kMuted, "%zu tokens", panel.tokens.size());
  if (panel.truncated) {
    ImGui::SameLine();
    ImGui::TextColored(kWarn, "(cut at the model's context of %d)", panel.max_tokens);
  }
  ImGui::SameLine();
  ImGui::TextColored(kMuted, "- click a token to make it the target");

  // Which chips are in this iteration's context, and at which level.
  const IterationResult* cur = shown(run);
  std::vector<int> level(panel.tokens.size(), -1);  // in the current context: its level
  std::vector<int> window(panel.tokens.size(), -1);  // in the final (largest) context: its level
  if (run.inference && run.target >= 0) {
    for (int64_t p : run.inference->contexts().back().positions)
      if (p >= 0 && p < int64_t(window.size())) window[size_t(p)] = level_of_offset(run.target - p, run.step);
    if (cur)
      for (int64_t p : cur->context.positions)
        if (p >= 0 && p < int64_t(level.size())) level[size_t(p)] = level_of_offset(run.target - p, run.step);
  }

  // Chips, laid out by hand: word pieces glued together, a gap before a token that starts
  // with a space, a new line after a newline; wrapped to the panel's width.
  const float legend_h = ImGui::GetTextLineHeightWithSpacing() * 2 + ImGui::GetStyle().ItemSpacing.y * 2;
  ImGui::BeginChild("chips", ImVec2(0, std::max(120.0f, ImGui::GetContentRegionAvail().y - legend_h)), true);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float left = origin.x, right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
  const float pad = 5, tight = 2, chip_h = ImGui::GetTextLineHeight() + 5, row_h = chip_h + 4;
  const size_t count = panel.tokens.size();
  // A piece is glued to the one before it when it continues a word (no leading space, and
  // the one before is not whitespace); glued pieces share one rounded block.
  std::vector<char> glued(count + 1, 0);
  std::vector<float> width(count);
  for (size_t i = 1; i < count; ++i) {
    const Token& prev = panel.tokens[i - 1];
    glued[i] = !panel.tokens[i].space_before && !prev.line_break &&
               prev.text.find_first_not_of(' ') != std::string::npos;
  }
  for (size_t i = 0; i < count; ++i)
    width[i] = ImGui::CalcTextSize(panel.tokens[i].label.c_str()).x + (glued[i] ? tight : pad) + (glued[i + 1] ? tight : pad);
  float x = left, y = origin.y;
  bool odd_piece = false;
  panel.chip_rects.resize(count);
  for (size_t i = 0; i < count; ++i) {
    const Token& t = panel.tokens[i];
    const float w = width[i];
    if (!glued[i]) {
      if (i > 0) x += 7.0f;
      float word = 0;  // wrap whole words
      for (size_t j = i; j < count && (j == i || glued[j]); ++j) word += width[j];
      if (x + std::min(word, right - left) > right && x > left) {
        x = left;
        y += row_h;
      }
      odd_piece = false;
    } else {
      odd_piece = !odd_piece;
      if (x + w > right && x > left) {
        x = left;
        y += row_h;
      }
    }
    const ImVec2 a(x, y), b(x + w, y + chip_h);
    ImGui::SetCursorScreenPos(a);
    ImGui::PushID(int(i));
    if (ImGui::InvisibleButton("chip", ImVec2(w, chip_h)) && int(i) != panel.target) {
      panel.target = int(i);
      panel.scrolled_to = int(i);  // clicked: already in view
      rebuild_run(app);
    }
    const bool hovered = ImGui::IsItemHovered();
    ImGui::PopID();
    panel.chip_rects[i] = {a.x, a.y, w, chip_h};
    if (int(i) == panel.target && panel.scrolled_to != panel.target) {
      const float top = ImGui::GetWindowPos().y, bottom = top + ImGui::GetWindowHeight();
      if (a.y < top || b.y > bottom) ImGui::SetScrollHereY(0.5f);
      panel.scrolled_to = panel.target;
    }

    const bool is_target = int(i) == panel.target;
    const bool after = panel.target >= 0 && int(i) > panel.target;
    ImVec4 bg = after ? kChipAfter : kChip, fg = after ? kMuted : kText;
    if (is_target) {
      bg = kTarget;
      fg = {0.08f, 0.06f, 0.04f, 1.0f};
    } else if (level[i] >= 0) {
      bg = scaled(level_colour(level[i]), 0.52f);
      fg = {1, 1, 1, 1};
    }
    if (odd_piece && !is_target) bg = scaled(bg, 0.80f);  // token boundaries inside a word
    if (hovered) bg = scaled(bg, 1.3f);
    const ImDrawFlags corners = glued[i] ? (glued[i + 1] ? ImDrawFlags_RoundCornersNone : ImDrawFlags_RoundCornersRight)
                                         : (glued[i + 1] ? ImDrawFlags_RoundCornersLeft : ImDrawFlags_RoundCornersAll);
    dl->AddRectFilled(a, b, u32(bg), 4.0f, corners);
    if (is_target) dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), u32({1, 1, 1, 0.95f}), 4.0f, 0, 2.0f);
    if (window[i] >= 0)  // the largest context's spans, underlined by level
      dl->AddRectFilled(ImVec2(a.x + (glued[i] ? 0 : 2), b.y - 2.5f), ImVec2(b.x - (glued[i + 1] ? 0 : 2), b.y),
                        u32(level_colour(window[i])));
    dl->AddText(ImVec2(a.x + (glued[i] ? tight : pad), a.y + 2), u32(fg), t.label.c_str());
    if (hovered) {
      std::string tip = "token " + std::to_string(i) + ", id " + std::to_string(t.id) + ": \"" + t.text + "\"";
      if (is_target) tip += "\nthe target";
      else if (run.target > int64_t(i))
        tip += "\n" + std::to_string(run.target - int64_t(i)) + " tokens before the target";
      if (level[i] >= 0) tip += ", level " + std::to_string(level[i]) + " of this iteration's context";
      ImGui::SetTooltip("%s", tip.c_str());
    }
    x += w;
    if (t.line_break) {
      x = left;
      y += row_h;
    }
  }
  ImGui::SetCursorScreenPos(ImVec2(left, y + row_h));
  ImGui::Dummy(ImVec2(1, 1));
  ImGui::EndChild();

  // Legend: the level colours and what they cover.
  const int levels = run.budget > 0 ? level_of_offset(run.budget, run.step) + 1 : 0;
  ImDrawList* wdl = ImGui::GetWindowDrawList();
  auto swatch = [&](ImVec4 c, const std::string& label) {
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float s = ImGui::GetTextLineHeight() - 4;
    wdl->AddRectFilled(ImVec2(p.x, p.y + 3), ImVec2(p.x + s, p.y + 3 + s), u32(c), 2.0f);
    ImGui::Dummy(ImVec2(s, s));
    ImGui::SameLine(0, 4);
    ImGui::TextUnformatted(label.c_str());
    ImGui::SameLine(0, 12);
  };
  ImGui::TextColored(kMuted, "Levels (tokens back):");
  ImGui::SameLine(0, 10);
  for (int k = 0; k < levels; ++k) {
    const int64_t lo = k == 0 ? 1 : int64_t(std::pow(run.step, k - 1)) + 1, hi = int64_t(std::pow(run.step, k));
    const std::string label = lo == hi ? std::to_string(hi) : std::to_string(lo) + "-" + std::to_string(hi);
    if (ImGui::GetCursorScreenPos().x + ImGui::CalcTextSize(label.c_str()).x + 30 > ImGui::GetWindowPos().x + ImGui::GetWindowWidth())
      ImGui::NewLine();
    swatch(level_colour(k), label);
  }
  if (levels == 0) ImGui::TextColored(kMuted, "(no run)");
  ImGui::NewLine();
  swatch(kTarget, "target");
  swatch(kChip, "not in this iteration's context");
  ImGui::TextColored(kMuted, "underlined: the largest context (L)");
}

void draw_controls_panel(App& app) {
  Run& run = app.run;
  RunSettings& s = app.settings;
  heading("Schedule");
  bool changed = false;

  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted("access");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(140);
  int kind = int(s.kind);
  const char* kinds[] = {"hierarchical", "sequential", "dilated"};
  if (ImGui::Combo("##schedule", &kind, kinds, 3)) {
    s.kind = ScheduleKind(kind);
    changed = true;
  }
  app.controls.schedule = item_rect();
  if (s.kind == ScheduleKind::kHierarchical) {
    ImGui::SameLine(0, 14);
    ImGui::TextUnformatted("base b");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(90);
    int b = s.base;
    if (ImGui::InputInt("##base", &b, 1, 1)) {
      b = std::clamp(b, 2, 8);
      if (b != s.base) {
        s.base = b;
        changed = true;
      }
    }
  }
  ImGui::SameLine(0, 14);
  ImGui::TextUnformatted("budget L");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(80);
  const int context = app.model.config ? app.model.config->max_position_embeddings : 0;
  const std::vector<int> options = run.target > 0 ? budget_options(s, run.target, context) : std::vector<int>{};
  const std::string preview = run.budget > 0 ? std::to_string(run.budget) : "-";
  ImGui::BeginDisabled(options.empty());
  if (ImGui::BeginCombo("##budget", preview.c_str())) {
    for (int L : options) {
      if (ImGui::Selectable(std::to_string(L).c_str(), L == run.budget)) {
        s.budget = L;
        changed = true;
      }
    }
    ImGui::EndCombo();
  }
  ImGui::EndDisabled();
  app.controls.budget = item_rect();
  if (changed) rebuild_run(app);

  // Step controls.
  const bool have = run.inference != nullptr;
  const int iterations = have ? run.inference->iterations() : 0;
  ImGui::BeginDisabled(!have);
  if (ImGui::Button("Reset")) step_reset(app);
  app.controls.reset = item_rect();
  ImGui::SameLine();
  ImGui::BeginDisabled(run.view <= 0);
  if (ImGui::Button("\xE2\x97\x80 Prev")) step_prev(app);  // ◀
  ImGui::EndDisabled();
  app.controls.prev = item_rect();
  ImGui::SameLine();
  if (ImGui::Button(run.playing ? "\xE2\x9D\x9A\xE2\x9D\x9A Pause###play" : "\xE2\x96\xB6 Play###play", ImVec2(86, 0)))
    set_playing(app, !run.playing, ImGui::GetTime());
  app.controls.play = item_rect();
  ImGui::SameLine();
  ImGui::BeginDisabled(run.view >= iterations - 1);
  if (ImGui::Button("Next \xE2\x96\xB6")) {  // ▶
    run.playing = false;
    step_next(app);
  }
  ImGui::EndDisabled();
  app.controls.next = item_rect();
  ImGui::SameLine(0, 14);
  ImGui::SetNextItemWidth(-1);
  int v = std::max(run.view, 0);
  char fmt[64];
  if (!have) std::snprintf(fmt, sizeof fmt, "no run");
  else if (run.view < 0) std::snprintf(fmt, sizeof fmt, "not started (k = 0-%d)", iterations - 1);
  else std::snprintf(fmt, sizeof fmt, "iteration k = %%d of 0-%d", iterations - 1);
  if (ImGui::SliderInt("##iteration", &v, 0, std::max(iterations - 1, 0), fmt) && have) {
    run.playing = false;
    step_goto(app, v);
  }
  app.controls.slider = item_rect();
  ImGui::EndDisabled();
}

void draw_step_panel(App& app) {
  const Run& run = app.run;
  const Tokenizer& tok = *app.model.tokenizer;
  heading("This step");
  if (!run.message.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, run.inference ? kWarn : kMuted);
    ImGui::TextWrapped("%s", run.message.c_str());
    ImGui::PopStyleColor();
  }
  if (!run.inference) return;
  const IterativeInference& inf = *run.inference;
  const IterationResult* cur = shown(run);
  const std::string target_text = quoted(tok, inf.target_token());

  // Two columns: the numbers on the left, the top-k predictions on the right.
  if (!ImGui::BeginTable("step", 2, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_NoPadOuterX)) return;
  ImGui::TableSetupColumn("numbers", ImGuiTableColumnFlags_WidthStretch, 0.53f);
  ImGui::TableSetupColumn("top", ImGuiTableColumnFlags_WidthStretch, 0.47f);
  ImGui::TableNextRow();
  ImGui::TableNextColumn();
  const float col_w = ImGui::GetContentRegionAvail().x;
  ImGui::Text("Target %s at position %lld", target_text.c_str(), (long long)inf.target());
  if (!cur) {
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextColored(kMuted, "Press Next or Play: iteration 0 sees only the token just before the target; "
                               "each next one sees a larger part of the text.");
    ImGui::PopTextWrapPos();
  } else {
    const int n = cur->context.size();
    const int64_t span = cur->context.empty() ? 0 : inf.target() - cur->context.positions.front();
    ImGui::Text("k = %d of 0-%d: %d context token%s", cur->iteration, inf.iterations() - 1, n, n == 1 ? "" : "s");
    if (span != n) {
      ImGui::SameLine();
      ImGui::TextColored(kMuted, "(%lld back)", (long long)span);
    }
    ImGui::TextColored(kMuted, "surprisal");
    ImGui::SameLine();
    ImGui::TextColored(kTarget, "%.3f bits", cur->surprisal_bits);
    ImGui::Text("p = %.4f   rank %d", cur->target_probability, cur->target_rank);
    ImGui::Spacing();
    // Compute so far, next to what the sequential path needs to reach the same context length.
    if (ImGui::BeginTable("compute", 3, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg, ImVec2(col_w, 0))) {
      ImGui::TableSetupColumn("compute so far");
      ImGui::TableSetupColumn("this run");
      ImGui::TableSetupColumn("sequential");  // to the same context length
      ImGui::TableHeadersRow();
      double seq_flops = 0;
      for (int m = 1; m <= n; ++m) seq_flops += Transformer::forward_flops(app.model.model->config(), m);
      const auto* ref = run.reference ? &run.reference->history() : nullptr;
      const bool ref_ok = ref && int(ref->size()) >= n && n > 0;
      auto row = [](const char* k, const std::string& a, const std::string& b) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextColored(kMuted, "%s", k);
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(a.c_str());
        ImGui::TableNextColumn();
        ImGui::TextColored(kSequential, "%s", b.c_str());
      };
      const std::string ms = human_ms(cur->cumulative_seconds * 1e3);
      const std::string seq_ms = ref_ok ? human_ms((*ref)[size_t(n - 1)].cumulative_seconds * 1e3) : "...";
      row("forward passes", std::to_string(cur->iteration + 1), std::to_string(n));
      row("token-forwards", grouped(cur->cumulative_token_forwards), grouped(int64_t(n) * (n + 1) / 2));
      row("FLOPs", human_flops(cur->cumulative_flops), human_flops(seq_flops));
      row("time", ms, seq_ms);
      ImGui::EndTable();
    }
  }

  // Top-k predictions as bars, the target marked (and added below when outside the top-k).
  ImGui::TableNextColumn();
  ImGui::TextColored(kMuted, cur ? "Top predictions" : "");
  if (cur) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float w = ImGui::GetContentRegionAvail().x, label_w = std::min(120.0f, w * 0.38f);
    const float bar_w = w - label_w - ImGui::CalcTextSize("100.0%  #999").x - 8, h = ImGui::GetTextLineHeight() + 3;
    auto bar = [&](const std::string& label, double p, bool is_target, const char* extra) {
      const ImVec2 a = ImGui::GetCursorScreenPos();
      ImGui::Dummy(ImVec2(w, h));
      const ImVec4 c = is_target ? kTarget : ImVec4(0.36f, 0.50f, 0.70f, 1.0f);
      std::string shown_label = label;
      while (shown_label.size() > 4 && ImGui::CalcTextSize(shown_label.c_str()).x > label_w - 4)
        shown_label = shown_label.substr(0, shown_label.size() - 5) + "..\"";
      dl->AddText(ImVec2(a.x, a.y + 1), u32(is_target ? kTarget : kText), shown_label.c_str());
      const float x0 = a.x + label_w;
      dl->AddRectFilled(ImVec2(x0, a.y + 2), ImVec2(x0 + bar_w, a.y + h - 2), u32({0.18f, 0.20f, 0.24f, 1}), 2.0f);
      dl->AddRectFilled(ImVec2(x0, a.y + 2), ImVec2(x0 + std::max(1.0f, float(p) * bar_w), a.y + h - 2), u32(c), 2.0f);
      char buf[48];
      std::snprintf(buf, sizeof buf, "%.1f%%%s", p * 100, extra);
      dl->AddText(ImVec2(x0 + bar_w + 6, a.y + 1), u32(is_target ? kTarget : kMuted), buf);
    };
    bool target_listed = false;
    for (const Prediction& p : cur->top) {
      const bool is_target = p.token == inf.target_token();
      target_listed |= is_target;
      bar(quoted(tok, p.token), p.probability, is_target, "");
    }
    if (!target_listed) {
      char extra[32];
      std::snprintf(extra, sizeof extra, "  #%d", cur->target_rank);
      ImGui::TextColored(kMuted, "...");
      bar(target_text, cur->target_probability, true, extra);
    }
  }
  ImGui::EndTable();
}

void draw_plot_panel(App& app) {
  const Run& run = app.run;
  heading("Surprisal against context length");
  const ImVec2 size(ImGui::GetContentRegionAvail().x, std::max(160.0f, ImGui::GetContentRegionAvail().y - 4));
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton("plot", size);
  const bool hovered = ImGui::IsItemHovered();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p0, ImVec2(p0.x + size.x, p0.y + size.y), u32({0.11f, 0.12f, 0.15f, 1}), 4.0f);
  if (!run.inference) {
    dl->AddText(ImVec2(p0.x + 14, p0.y + 14), u32(kMuted), "No run yet.");
    return;
  }
  const IterativeInference& inf = *run.inference;
  const auto& hist = inf.history();
  static const std::vector<IterationResult> kNone;
  const auto& ref = run.reference ? run.reference->history() : kNone;
  const int L = run.budget;
  const IterationResult* cur = shown(run);

  // Axes: x = log2 n over [1, L], y = surprisal in bits from 0.
  double ymax = 1;
  for (const auto& r : ref) ymax = std::max(ymax, r.surprisal_bits);
  for (int k = 0; k <= run.view && k < int(hist.size()); ++k) ymax = std::max(ymax, hist[size_t(k)].surprisal_bits);
  const double ystep = ymax > 12 ? 4 : ymax > 6 ? 2 : 1;
  ymax = std::ceil(ymax / ystep + 0.05) * ystep;
  const float ml = 40, mr = 16, mt = 30, mb = 40;
  const ImVec2 a(p0.x + ml, p0.y + mt), b(p0.x + size.x - mr, p0.y + size.y - mb);
  const double xmax = std::max(1.0, std::log2(double(L)));
  auto X = [&](double n) { return a.x + float(std::log2(std::max(n, 1.0)) / xmax) * (b.x - a.x); };
  auto Y = [&](double s) { return b.y - float(s / ymax) * (b.y - a.y); };
  const ImU32 grid = u32({1, 1, 1, 0.07f}), axis_text = u32(kMuted);
  char buf[64];
  for (double s = 0; s <= ymax + 1e-9; s += ystep) {
    dl->AddLine(ImVec2(a.x, Y(s)), ImVec2(b.x, Y(s)), grid);
    std::snprintf(buf, sizeof buf, "%g", s);
    dl->AddText(ImVec2(a.x - 8 - ImGui::CalcTextSize(buf).x, Y(s) - 8), axis_text, buf);
  }
  for (int64_t n = 1; n <= L; n *= 2) {
    dl->AddLine(ImVec2(X(double(n)), a.y), ImVec2(X(double(n)), b.y), grid);
    std::snprintf(buf, sizeof buf, "%lld", (long long)n);
    dl->AddText(ImVec2(X(double(n)) - ImGui::CalcTextSize(buf).x / 2, b.y + 4), axis_text, buf);
  }
  if ((L & (L - 1)) != 0) {  // L is a power of another base: label the axis' end too
    std::snprintf(buf, sizeof buf, "%d", L);
    dl->AddText(ImVec2(X(double(L)) - ImGui::CalcTextSize(buf).x / 2, b.y + 4), axis_text, buf);
  }
  dl->AddText(ImVec2(p0.x + 6, p0.y + 6), axis_text, "bits");
  const char* xlabel = "tokens in the context (log scale)";
  dl->AddText(ImVec2((a.x + b.x - ImGui::CalcTextSize(xlabel).x) / 2, b.y + 21), axis_text, xlabel);
  dl->PushClipRect(ImVec2(a.x - 10, a.y - 10), ImVec2(b.x + 10, b.y + 10), true);

  // The sequential curve: solid up to this step's context length, faint beyond.
  const int n_cur = cur ? cur->context.size() : 0;
  std::vector<ImVec2> pts;
  auto flush = [&](ImU32 col, float thick) {
    if (pts.size() >= 2) dl->AddPolyline(pts.data(), int(pts.size()), col, 0, thick);
    pts.clear();
  };
  for (size_t i = 0; i < ref.size(); ++i) {
    pts.emplace_back(X(ref[i].context.size()), Y(ref[i].surprisal_bits));
    if (int(i) + 1 == n_cur) {
      flush(u32(kSequential), 2.0f);
      pts.emplace_back(X(ref[i].context.size()), Y(ref[i].surprisal_bits));
    }
  }
  flush(u32(scaled(kSequential, 1.0f, n_cur > 0 ? 0.30f : 0.55f)), 1.5f);

  // This run: steps (hierarchical, dilated) or a line (sequential), up to the step shown.
  const bool staircase = run.spec != "sequential";
  const ImU32 run_col = u32({0.97f, 0.97f, 0.97f, 1});
  for (int k = 1; k <= run.view && k < int(hist.size()); ++k) {
    const auto& p = hist[size_t(k - 1)];
    const auto& q = hist[size_t(k)];
    const ImVec2 pa(X(p.context.size()), Y(p.surprisal_bits)), qa(X(q.context.size()), Y(q.surprisal_bits));
    if (staircase) {
      dl->AddLine(pa, ImVec2(qa.x, pa.y), run_col, 2.5f);
      dl->AddLine(ImVec2(qa.x, pa.y), qa, run_col, 2.5f);
    } else {
      dl->AddLine(pa, qa, run_col, 2.0f);
    }
  }
  if (cur) {
    const float cx = X(n_cur);
    for (float yy = a.y; yy < b.y; yy += 8) dl->AddLine(ImVec2(cx, yy), ImVec2(cx, std::min(yy + 4, b.y)), u32({1, 1, 1, 0.25f}));
  }
  if (staircase || run.view < 40)
    for (int k = 0; k <= run.view && k < int(hist.size()); ++k) {
      const auto& r = hist[size_t(k)];
      const ImVec2 c(X(r.context.size()), Y(r.surprisal_bits));
      const int lvl = r.context.empty() ? 0 : level_of_offset(inf.target() - r.context.positions.front(), run.step);
      dl->AddCircleFilled(c, 5.0f, u32(level_colour(lvl)));
      dl->AddCircle(c, 5.0f, u32({0, 0, 0, 0.6f}), 0, 1.0f);
    }
  if (cur) {
    const ImVec2 c(X(n_cur), Y(cur->surprisal_bits));
    dl->AddCircle(c, 9.0f, u32({1, 1, 1, 0.95f}), 0, 2.0f);
  }
  dl->PopClipRect();

  // Legend.
  float lx = a.x + 8;
  const float ly = p0.y + 10;
  auto legend = [&](ImU32 col, float thick, const std::string& label) {
    dl->AddLine(ImVec2(lx, ly + 8), ImVec2(lx + 22, ly + 8), col, thick);
    dl->AddText(ImVec2(lx + 28, ly), u32(kText), label.c_str());
    lx += 28 + ImGui::CalcTextSize(label.c_str()).x + 18;
  };
  const std::string run_label =
      run.spec == "sequential" ? "this run" : (run.spec == "dilated" ? "dilated (this run)" : "hierarchical b=" + std::to_string(run.step) + " (this run)");
  legend(run_col, 2.5f, run_label);
  std::snprintf(buf, sizeof buf, "sequential (%zu of %d computed)", ref.size(), L);
  legend(u32(kSequential), 2.0f, ref.size() >= size_t(L) ? std::string("sequential, +1 token per iteration") : std::string(buf));

  // Hover: the values at the nearest context length.
  if (hovered && L >= 1) {
    const float mx = ImGui::GetIO().MousePos.x;
    const double frac = std::clamp(double((mx - a.x) / (b.x - a.x)), 0.0, 1.0);
    const int n = std::clamp(int(std::lround(std::pow(2.0, frac * xmax))), 1, L);
    std::string tip = "n = " + std::to_string(n) + " tokens";
    if (n <= int(ref.size())) {
      std::snprintf(buf, sizeof buf, "\nsequential: %.3f bits", ref[size_t(n - 1)].surprisal_bits);
      tip += buf;
    }
    for (int k = 0; k <= run.view && k < int(hist.size()); ++k)
      if (hist[size_t(k)].context.size() == n) {
        std::snprintf(buf, sizeof buf, "\n%s, iteration %d: %.3f bits", run.spec.c_str(), k, hist[size_t(k)].surprisal_bits);
        tip += buf;
      }
    dl->AddLine(ImVec2(X(n), a.y), ImVec2(X(n), b.y), u32({1, 1, 1, 0.15f}));
    ImGui::SetTooltip("%s", tip.c_str());
  }
}

void draw_model_panel(const ModelPanel& panel, const PlatformInfo& platform) {
  heading("Model");
  switch (panel.status) {
    case ModelStatus::kNone: ImGui::TextColored(kMuted, "No model requested."); break;
    case ModelStatus::kFetching: ImGui::TextColored(kWarn, "Fetching %s ...", panel.url.c_str()); break;
    case ModelStatus::kLoaded: {
      const ModelConfig& c = *panel.config;
      int64_t bytes = 0;
      for (const ModelFile& f : panel.files) bytes += f.bytes;
      ImGui::TextColored(kGood, "Loaded");
      ImGui::SameLine();
      ImGui::TextColored(kMuted, "%s (%s, %.0f ms)", panel.url.c_str(), human_bytes(bytes).c_str(), panel.load_ms);
      ImGui::Text("%s: %d layers, d %d, %d heads, vocabulary %d, context %d, %.2fM parameters",
                  c.model_type.c_str(), c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.vocab_size,
                  c.max_position_embeddings, c.parameter_count() / 1e6);
      break;
    }
    case ModelStatus::kError:
      ImGui::TextColored(kBad, "Could not load the model:");
      ImGui::PushStyleColor(ImGuiCol_Text, kBad);
      ImGui::TextWrapped("%s", panel.error.c_str());
      ImGui::PopStyleColor();
      break;
  }
  ImGui::TextColored(kMuted, "%s, SIMD128 %s, kernels %s, %.0f frames/s", platform.platform.c_str(),
                     platform.simd128 ? "on" : "off", platform.simd_target.c_str(), ImGui::GetIO().Framerate);
}

void draw_about_panel(const App& app) {
  heading("What this shows");
  const int b = app.run.step;
  char text[900];
  std::snprintf(text, sizeof text,
                "One model predicts one target token (orange) again and again, each time from a different "
                "part of the text before it. Hierarchical access multiplies the context by b = %d per level "
                "(a colour per level), so the surprisal -log2 p falls in steps, for a fraction of the "
                "compute of the sequential path (blue), which adds one token per iteration. At L tokens "
                "both see the same context and agree.",
                b);
  ImGui::TextWrapped("%s", text);
}

// =======================================================================================
// The app

void init_app(App& app) {
  app.text = TextPanel{};
  app.text.text = kDefaultText;
  app.model = ModelPanel{};
  app.settings = RunSettings{};
  retokenize(app.text, *app.model.tokenizer);
  rebuild_run(app);
}

void draw_app(App& app) {
  const ImGuiIO& io = ImGui::GetIO();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(io.DisplaySize);
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                 ImGuiWindowFlags_NoSavedSettings |
                                 ImGuiWindowFlags_NoBringToFrontOnFocus;
  ImGui::Begin("strata", nullptr, flags);
  ImGui::TextColored(kHeading, "strata");
  ImGui::SameLine();
  ImGui::Text("- watch a model refine one prediction as its context grows, level by level");
  if (app.model.status == ModelStatus::kError) {
    ImGui::SameLine();
    ImGui::TextColored(kBad, "   The model could not be loaded (details below).");
  }

  const float gap = ImGui::GetStyle().ItemSpacing.x * 2;
  const float avail = ImGui::GetContentRegionAvail().x;
  const bool wide = avail >= 900;
  const float left_w = wide ? std::floor(avail * 0.52f) : avail;
  ImGui::BeginChild("left", ImVec2(left_w, wide ? 0.0f : 560.0f));
  // The text takes what the panels below it leave (their height as drawn last frame).
  const float bottom_h = app.bottom_h > 0 ? app.bottom_h : ImGui::GetTextLineHeightWithSpacing() * 10;
  ImGui::BeginChild("text", ImVec2(0, std::max(200.0f, ImGui::GetContentRegionAvail().y - bottom_h)));
  draw_text_panel(app);
  ImGui::EndChild();
  const float y0 = ImGui::GetCursorPosY();
  draw_about_panel(app);
  ImGui::Spacing();
  draw_model_panel(app.model, app.platform);
  app.bottom_h = ImGui::GetCursorPosY() - y0 + ImGui::GetStyle().ItemSpacing.y;
  ImGui::EndChild();
  if (wide) ImGui::SameLine(0, gap);
  ImGui::BeginChild("right", ImVec2(0, 0));
  draw_controls_panel(app);
  ImGui::Spacing();
  draw_step_panel(app);
  ImGui::Spacing();
  draw_plot_panel(app);
  ImGui::EndChild();
  ImGui::End();
}

// =======================================================================================
// Test API

namespace {

nlohmann::json rect_json(const Rect& r) { return {r.x, r.y, r.w, r.h}; }

nlohmann::json result_json(const IterationResult& r, const Tokenizer& tok, int64_t target, int step, bool full) {
  nlohmann::json j = {{"iteration", r.iteration},
                      {"context_len", r.context.size()},
                      {"surprisal_bits", r.surprisal_bits},
                      {"probability", r.target_probability},
                      {"rank", r.target_rank},
                      {"forward_passes", r.iteration + 1},
                      {"token_forwards", r.cumulative_token_forwards},
                      {"flops", r.cumulative_flops},
                      {"ms", r.cumulative_seconds * 1e3}};
  if (full) {
    nlohmann::json levels = nlohmann::json::array(), top = nlohmann::json::array();
    for (int64_t p : r.context.positions) levels.push_back(level_of_offset(target - p, step));
    for (const Prediction& p : r.top) {
      std::string text;
      try {
        text = tok.token_text(p.token);
      } catch (const std::exception&) {
      }
      top.push_back({{"token", p.token}, {"text", text}, {"p", p.probability}});
    }
    j["positions"] = r.context.positions;
    j["position_ids"] = r.context.position_ids;
    j["levels"] = levels;
    j["top"] = top;
  }
  return j;
}

}  // namespace

std::string state_json(const App& app) {
  using nlohmann::json;
  const TextPanel& t = app.text;
  const Run& r = app.run;
  const Tokenizer& tok = *app.model.tokenizer;
  json tokens = json::array();
  for (size_t i = 0; i < t.tokens.size(); ++i) {
    const Rect rc = i < t.chip_rects.size() ? t.chip_rects[i] : Rect{};
    tokens.push_back({{"i", i}, {"id", t.tokens[i].id}, {"text", t.tokens[i].text}, {"label", t.tokens[i].label},
                      {"rect", rect_json(rc)}});
  }
  json files = json::array();
  for (const ModelFile& f : app.model.files) files.push_back({{"name", f.name}, {"bytes", f.bytes}});
  json model = {{"status", to_string(app.model.status)}, {"url", app.model.url}, {"files", files},
                {"error", app.model.error}, {"config", nullptr}, {"load_ms", app.model.load_ms}};
  if (app.model.config) {
    model["config"] = config_to_json(*app.model.config);
    model["parameters"] = app.model.config->parameter_count();
  }
  const int context = app.model.config ? app.model.config->max_position_embeddings : 0;
  json run = {{"schedule", kind_name(app.settings.kind)},
              {"base", app.settings.base},
              {"spec", r.spec},
              {"budget", r.budget},
              {"budget_options", r.target > 0 ? budget_options(app.settings, r.target, context) : std::vector<int>{}},
              {"ready", r.inference != nullptr},
              {"message", r.message},
              {"target", r.target},
              {"iteration", r.view},
              {"iterations", r.inference ? r.inference->iterations() : 0},
              {"steps_run", r.inference ? int(r.inference->history().size()) : 0},
              {"playing", r.playing},
              {"current", nullptr},
              {"history", json::array()}};
  if (r.inference) {
    const IterativeInference& inf = *r.inference;
    run["target_token"] = inf.target_token();
    run["target_text"] = tok.token_text(inf.target_token());
    json contexts = json::array();
    for (const ContextSet& c : inf.contexts()) contexts.push_back(c.size());
    run["context_lengths"] = contexts;
    for (const IterationResult& h : inf.history()) run["history"].push_back(result_json(h, tok, r.target, r.step, false));
    if (const IterationResult* cur = shown(r)) run["current"] = result_json(*cur, tok, r.target, r.step, true);
  }
  json reference = {{"computed", 0}, {"of", r.budget}, {"ms", r.reference_ms}, {"surprisal_bits", json::array()}};
  if (r.reference) {
    reference["computed"] = r.reference->history().size();
    for (const IterationResult& h : r.reference->history()) reference["surprisal_bits"].push_back(h.surprisal_bits);
  }
  run["reference"] = reference;
  const ControlRects& c = app.controls;
  const json j = {
      {"ready", app_ready(app)},
      {"frame", app.frame},
      {"fps", app.fps},
      {"canvas", {app.width, app.height}},
      {"platform", {{"name", app.platform.platform}, {"simd128", app.platform.simd128},
                    {"simd_target", app.platform.simd_target},
                    {"gl", app.platform.gl_version}, {"font", app.platform.font}}},
      {"text", t.text},
      {"text_box", rect_json(t.text_box)},
      {"tokens", tokens},
      {"truncated", t.truncated},
      {"target", t.target},
      {"model", model},
      {"run", run},
      {"controls", {{"reset", rect_json(c.reset)}, {"prev", rect_json(c.prev)}, {"play", rect_json(c.play)},
                    {"next", rect_json(c.next)}, {"slider", rect_json(c.slider)},
                    {"schedule", rect_json(c.schedule)}, {"budget", rect_json(c.budget)}}},
  };
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool app_ready(const App& app) {
  const bool drawn = app.frame >= 2 && app.width > 0;
  const bool settled = app.model.status == ModelStatus::kLoaded || app.model.status == ModelStatus::kError;
  return drawn && settled;
}

std::string command(App& app, std::string_view text) {
  using nlohmann::json;
  auto fail = [](const std::string& why) { return json{{"ok", false}, {"error", why}}.dump(); };
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("cmd") || !j["cmd"].is_string())
    return fail("expected a JSON object with a \"cmd\" string");
  const std::string cmd = j["cmd"].get<std::string>();
  json reply = {{"ok", true}};
  // Stepping needs a run: without one the command is refused, not silently dropped.
  static const char* const kNeedRun[] = {"next", "prev", "reset", "goto", "play"};
  if (!app.run.inference && std::find(std::begin(kNeedRun), std::end(kNeedRun), cmd) != std::end(kNeedRun))
    return fail(cmd + ": no run (" + app.run.message + ")");
  try {
    if (cmd == "set_text") {
      app.text.text = j.at("text").get<std::string>();
      retokenize(app.text, *app.model.tokenizer);
      rebuild_run(app);
    } else if (cmd == "select_target") {
      const int i = j.at("index").get<int>();
      if (i < -1 || i >= int(app.text.tokens.size()))
        return fail("index " + std::to_string(i) + " out of range [-1, " +
                    std::to_string(app.text.tokens.size()) + ")");
      app.text.target = i;
      rebuild_run(app);
    } else if (cmd == "paste") {
      // The page's paste event: typed into the focused text box, else replaces the text.
      const std::string s = j.at("text").get<std::string>();
      if (ImGui::GetCurrentContext() && ImGui::GetIO().WantTextInput) {
        ImGui::GetIO().AddInputCharactersUTF8(s.c_str());
      } else {
        app.text.text = s;
        retokenize(app.text, *app.model.tokenizer);
        rebuild_run(app);
      }
    } else if (cmd == "set_schedule") {
      const std::string s = j.at("schedule").get<std::string>();
      if (s == "hierarchical") app.settings.kind = ScheduleKind::kHierarchical;
      else if (s == "sequential") app.settings.kind = ScheduleKind::kSequential;
      else if (s == "dilated") app.settings.kind = ScheduleKind::kDilated;
      else return fail("unknown schedule \"" + s + "\" (hierarchical, sequential, dilated)");
      if (j.contains("base")) {
        const int b = j["base"].get<int>();
        if (b < 2 || b > 8) return fail("base " + std::to_string(b) + " outside [2, 8]");
        app.settings.base = b;
      }
      rebuild_run(app);
    } else if (cmd == "set_budget") {
      const int L = j.at("budget").get<int>();
      const int context = app.model.config ? app.model.config->max_position_embeddings : 0;
      const auto options = budget_options(app.settings, app.run.target, context);
      if (std::find(options.begin(), options.end(), L) == options.end()) {
        std::string list;
        for (int o : options) list += (list.empty() ? "" : ", ") + std::to_string(o);
        return fail("budget " + std::to_string(L) + " not available here (" + (list.empty() ? "none" : list) + ")");
      }
      app.settings.budget = L;
      rebuild_run(app);
    } else if (cmd == "next") {
      step_next(app);
    } else if (cmd == "prev") {
      step_prev(app);
    } else if (cmd == "reset") {
      step_reset(app);
    } else if (cmd == "goto") {
      step_goto(app, j.at("iteration").get<int>());
    } else if (cmd == "play") {
      set_playing(app, j.value("on", !app.run.playing), ImGui::GetCurrentContext() ? ImGui::GetTime() : 0.0);
    } else if (cmd == "finish_reference") {
      finish_reference(app);
    } else if (cmd == "bench_forward") {
      const double ms = bench_forward(app, j.value("n", 256), j.value("reps", 5));
      if (ms < 0) return fail("no model loaded");
      reply["ms"] = ms;
    } else if (cmd == "model_fetching") {
      app.model = ModelPanel{};
      app.model.status = ModelStatus::kFetching;
      app.model.url = j.value("url", "");
      rebuild_run(app);
    } else if (cmd == "model_fetched") {
      app.model.url = j.value("url", app.model.url);
      app.model.dir = j.at("dir").get<std::string>();
      app.model.files.clear();
      for (const json& f : j.value("files", json::array()))
        app.model.files.push_back({f.at("name").get<std::string>(), f.value("bytes", int64_t(0))});
      load_model(app.model);
      if (app.model.config) app.text.max_tokens = app.model.config->max_position_embeddings;
      retokenize(app.text, *app.model.tokenizer);
      if (app.model.status == ModelStatus::kLoaded) app.text.target = int(app.text.tokens.size()) - 1;
      rebuild_run(app);
    } else if (cmd == "model_fetch_failed") {
      app.model.status = ModelStatus::kError;
      app.model.url = j.value("url", app.model.url);
      app.model.error = j.value("error", "the model could not be fetched");
      app.model.config.reset();
      app.model.model.reset();
      rebuild_run(app);
    } else {
      return fail("unknown cmd \"" + cmd + "\"");
    }
  } catch (const json::exception& e) {
    return fail(cmd + ": " + e.what());
  } catch (const std::exception& e) {
    return fail(cmd + ": " + e.what());
  }
  if (!app.run.message.empty() && app.run.inference) reply["warning"] = app.run.message;
  return reply.dump();
}

}  // namespace strata::web
