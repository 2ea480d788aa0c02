// The browser demo's UI as code: plain state structs, one draw function per panel, and the
// JSON test API the page exports (strata_state_json / strata_command in main.cpp).
//
// Nothing here knows about GL, GLFW or Emscripten: main.cpp owns the window and the frame
// loop and calls update_app() and draw_app() between ImGui::NewFrame() and ImGui::Render().
// So the same code runs in the page, natively, and headless in tests/app_test.cpp.
//
// The model and the schedules stay out of UI code: a run is a strata::IterativeInference
// (the core's step API) and everything drawn is read from its history. The panels only
// choose what to run (text, target, schedule, budget) and which step to show.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/config.h"
#include "strata/inference.h"
#include "strata/model.h"
#include "strata/tokenizer.h"
#include "strata/weights.h"

namespace strata::web {

// A screen rectangle in CSS pixels (ImGui's coordinates; the canvas is 1:1), for tests that
// click what the UI drew.
struct Rect {
  float x = 0, y = 0, w = 0, h = 0;
};

// ---------------------------------------------------------------------------------------
// Text and tokens
struct Token {
  int32_t id = 0;
  std::string text;          // the token's bytes as valid UTF-8 (invalid bytes as <E2>)
  std::string label;         // what the chip shows: text without a leading space, ¶ for \n
  bool space_before = false;  // the token starts with a space: a gap before its chip
  bool line_break = false;    // the token ends with a newline: the next chip starts a line
};

struct TextPanel {
  std::string text;            // the passage, UTF-8
  std::vector<Token> tokens;   // tokens of text, at most max_tokens
  bool truncated = false;      // text had more tokens than max_tokens
  int max_tokens = 256;        // the model's context (max_position_embeddings)
  int target = -1;             // index into tokens, or -1
  int scrolled_to = -2;        // the target the chips were last scrolled to
  // Filled by draw_text_panel: where the text box and each chip were drawn last frame.
  Rect text_box;
  std::vector<Rect> chip_rects;  // (tokens.size()) once drawn
};

// Re-tokenizes panel.text with tok; keeps the target if it is still in range.
void retokenize(TextPanel& panel, const Tokenizer& tok);

// The display form of a token's bytes (valid UTF-8; other bytes as <XX>).
std::string display_text(std::string_view bytes);

// ---------------------------------------------------------------------------------------
// The model the page fetched (web/index.html fetches model/manifest.json and its files
// into the in-memory file system, then sends "model_fetched").
enum class ModelStatus { kNone, kFetching, kLoaded, kError };
const char* to_string(ModelStatus s);

struct ModelFile {
  std::string name;
  int64_t bytes = 0;
};

struct ModelPanel {
  ModelStatus status = ModelStatus::kNone;
  std::string url;                    // where the page fetched it from, e.g. "model/"
  std::string dir;                    // where the files are in the file system, e.g. "/model"
  std::vector<ModelFile> files;
  std::string error;                  // one line, shown in red, when status == kError
  std::optional<ModelConfig> config;  // when status == kLoaded
  double load_ms = 0;
  // The loaded model (status kLoaded) and its tokenizer. Without a model the tokenizer is
  // the byte-level one, so that the chips still show the text.
  std::shared_ptr<Transformer> model;
  std::shared_ptr<const Tokenizer> tokenizer = std::make_shared<Tokenizer>();
};

// Loads config.json, model.safetensors and tokenizer.json from panel.dir through the core.
// Never throws: a bad model sets status kError with the core's message, drops any model
// loaded before, and the app keeps running.
void load_model(ModelPanel& panel);

// ---------------------------------------------------------------------------------------
// What to run: the schedule and the budget.
enum class ScheduleKind { kHierarchical, kSequential, kDilated };

struct RunSettings {
  ScheduleKind kind = ScheduleKind::kHierarchical;
  int base = 2;     // hierarchical only, 2..8
  int budget = 0;   // L; 0 = the largest the target allows (chosen at the next rebuild)
  int top_k = 8;
};

std::string schedule_spec(const RunSettings& s);  // make_schedule text: "hierarchical:3", ...
// The level whose window first reaches offset d >= 1 (the tokens that level added):
// the smallest k with step^k >= d, step = the base (2 for sequential and dilated).
int level_of_offset(int64_t d, int step);
// The budgets the schedule accepts for a target with `history` tokens before it: powers of
// the step (base, or 2) up to min(history, context), ascending.
std::vector<int> budget_options(const RunSettings& s, int64_t history, int context);

// One target under one schedule, stepped through; plus the sequential reference curve for
// the plot, computed a few iterations per frame (update_app).
struct Run {
  std::unique_ptr<IterativeInference> inference;  // null when there is nothing to run
  std::unique_ptr<IterativeInference> reference;  // sequential, same target and budget
  std::string spec;    // schedule_spec of the run
  int budget = 0;
  int step = 2;        // the level base (2 for sequential and dilated)
  int64_t target = -1;
  std::string message;  // why there is no run (no model, no target, ...)
  int view = -1;        // the iteration shown, -1 before the first step
  bool playing = false;
  double next_play_at = 0;  // seconds (update_app's clock)
  double play_interval = 0.9;
  double reference_ms = 0;  // time spent on the reference so far
  double reference_idle_until = 0;  // update_app's clock: the reference waits until then
};

// ---------------------------------------------------------------------------------------
// Facts about this build and page, filled by main.cpp.
struct PlatformInfo {
  std::string platform = "native";  // "wasm" in the browser
  bool simd128 = false;             // compiled with -msimd128
  std::string simd_target;          // the core's kernels: strata::ops::simd_target(), e.g. "WASM"
  std::string gl_version;           // e.g. "OpenGL ES 3.0 (WebGL 2.0 (OpenGL ES 3.0 Chromium))"
  std::string font;                 // "DejaVuSans 16px" or "ImGui default"
};

// Where the step controls were drawn last frame (for tests that click them).
struct ControlRects {
  Rect reset, prev, play, next, slider, schedule, budget;
};

struct App {
  TextPanel text;
  ModelPanel model;
  RunSettings settings;
  Run run;
  PlatformInfo platform;
  ControlRects controls;
  int64_t frame = 0;          // frames rendered so far
  float fps = 0;
  int width = 0, height = 0;  // canvas size in CSS pixels
  double reference_budget_ms = 12;  // time per frame for the sequential reference
  float bottom_h = 0;               // height of the left column's bottom panels, last frame
};

// Default passage, tokens and panels; platform info is left to the caller.
void init_app(App& app);

// Rebuilds the run from text, target and settings (after any of them changed): a new
// IterativeInference at iteration -1, and a new reference. Picks the largest budget when
// settings.budget is 0 or no longer valid. Never throws; problems go to run.message.
void rebuild_run(App& app);
// Stepping. next: shows the next iteration, running it if it has not run yet.
void step_next(App& app);
void step_prev(App& app);
void step_reset(App& app);          // back to before the first iteration (history cleared)
void step_goto(App& app, int k);    // shows iteration k, running the ones before it
void set_playing(App& app, bool on, double now);

// Per-frame work outside drawing: playback, and up to reference_budget_ms of the sequential
// reference curve (one iteration at least; after an iteration that took longer, the
// reference rests as long as it ran, so the UI keeps at least half the time). now: seconds
// on any monotonic clock.
void update_app(App& app, double now);
// Runs the whole reference now (tests, benchmarks).
void finish_reference(App& app);

// The whole UI for one frame, a full-window layout of the panels below.
void draw_app(App& app);
void draw_text_panel(App& app);
void draw_controls_panel(App& app);
void draw_step_panel(App& app);
void draw_plot_panel(App& app);
void draw_model_panel(const ModelPanel& panel, const PlatformInfo& platform);
void draw_about_panel(const App& app);

// Mean milliseconds of one forward pass over n tokens (logits at the last row) with the
// loaded model, after one warm-up pass; -1 without a model.
double bench_forward(App& app, int n, int reps);

// ---------------------------------------------------------------------------------------
// Test API. state_json: the app's state as one JSON object (web/README.md lists the
// fields). command: applies one JSON command {"cmd": ..., ...} and returns {"ok": true, ...}
// or {"ok": false, "error": "..."}:
//   set_text {text}            select_target {index}      paste {text}
//   set_schedule {schedule: hierarchical|sequential|dilated, base?}   set_budget {budget}
//   next    prev    reset    goto {iteration}    play {on?}    finish_reference
//   bench_forward {n, reps} -> {ok, ms}
//   model_fetching {url}       model_fetched {url, dir, files: [{name, bytes}]}
//   model_fetch_failed {url, error}
std::string state_json(const App& app);
// The state's "ready": frames are drawn and the model has settled (loaded, or failed for
// good). From then on every command applies, in the order it arrives; before it, the
// model's arrival (model_fetched) re-tokenizes the text, moves the target and rebuilds the
// run, so what earlier commands did would be lost.
bool app_ready(const App& app);
std::string command(App& app, std::string_view json);

}  // namespace strata::web
