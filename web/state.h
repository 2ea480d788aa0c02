// The browser demo's state: plain structs, nothing else. Each frame the panels (panels.h)
// draw from it, the run logic (run.h) changes it, and the test API (test_api.h) reads it as
// JSON. No ImGui, GL or Emscripten types, so the run logic can be tested headless.
//
// What is computed about a schedule (budgets, levels, contexts) comes from the core's
// strata::Schedule and strata::IterativeInference, never from rules kept here.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model_folder.h"
#include "strata/bos_policy.h"
#include "strata/config.h"
#include "strata/inference.h"
#include "strata/model.h"
#include "strata/tokenizer.h"

namespace strata::web {

// A screen rectangle in CSS pixels (ImGui's coordinates; the canvas is 1:1), for tests that
// click what the UI drew.
struct Rect {
  float x = 0, y = 0, w = 0, h = 0;
};

// ---- Text and tokens -------------------------------------------------------------------
struct Token {
  int32_t id = 0;
  std::string text;           // the token's bytes shown printable (strata::printable_bytes, newlines kept)
  std::string label;          // what the chip shows: text without a leading space, ¶ for \n
  bool space_before = false;  // the token starts with a space: a gap before its chip
  bool line_break = false;    // the token ends with a newline: the next chip starts a line
};

struct TextPanel {
  std::string text;           // the passage, UTF-8
  std::vector<Token> tokens;  // tokens of text, at most max_tokens
  bool truncated = false;     // text had more tokens than max_tokens
  int max_tokens = 256;       // the model's context (max_position_embeddings)
  int target = -1;            // index into tokens, or -1
  int scrolled_to = -2;       // the target the chips were last scrolled to
  // Filled by draw_text_panel: where the text box and each chip were drawn last frame.
  Rect text_box;
  std::vector<Rect> chip_rects;  // (tokens.size()) once drawn
};

// ---- The model the page fetched, or the folder the person picked -----------------------
// web/index.html fetches model/manifest.json and its files into the in-memory file system,
// then sends "model_fetched"; or, for a picked or dropped folder, hands over the files
// model_folder.h asks for ("folder_picked", then "folder_read" after each batch).
enum class ModelStatus { kNone, kFetching, kLoaded, kError };
// Where a picked folder is (model_folder.h's steps): nothing picked, config.json asked for,
// the weights and tokenizer asked for.
enum class FolderStep { kNone, kConfig, kWeights };

struct ModelPanel {
  ModelStatus status = ModelStatus::kNone;
  std::string url;                    // where the page fetched it from, e.g. "model/", or "folder/" picked
  std::string dir;                    // where the files are in the file system, e.g. "/model"
  std::vector<ModelFile> files;       // fetched, or every file of the picked folder
  FolderStep folder = FolderStep::kNone;
  std::vector<std::string> read;      // a picked folder's files handed over so far
  std::optional<ModelMemory> memory;  // a picked folder's need (model_folder.h), once its config was read
  std::string dtypes;                 // the stored dtypes of the loaded weights, e.g. "BF16"
  std::string error;                  // one line, shown in red, when status == kError
  std::optional<ModelConfig> config;  // when status == kLoaded
  double load_ms = 0;
  // The loaded model (status kLoaded) and its tokenizer. Without a model the tokenizer is
  // the byte-level one, so that the chips still show the text.
  std::shared_ptr<Transformer> model;
  std::shared_ptr<const Tokenizer> tokenizer = std::make_shared<Tokenizer>();
  // The folder's BOS policy as `strata infer --bos auto` resolves it (bos_policy.h), so the
  // page's contexts are the CLI's: BOS at position 0 before each window when it is on.
  BosPolicy bos;
};

// ---- What to run -----------------------------------------------------------------------
// The UI's choice of schedule; run.h's schedule_spec() turns it into make_schedule text.
enum class ScheduleKind { kHierarchical, kSequential, kDilated };

struct RunSettings {
  ScheduleKind kind = ScheduleKind::kHierarchical;
  int base = 2;    // hierarchical only, 2..8
  int budget = 0;  // L; 0 (or one the schedule does not offer here) = its default budget
  int top_k = 8;
};

// The tokens one level of the largest context covers, in tokens back from the target
// (offsets d, nearest..farthest), for the legend. From Schedule::level_of_offset.
struct LevelSpan {
  int level = 0;
  int64_t nearest = 0, farthest = 0;
};

// One target under one schedule, stepped through; plus the sequential reference curve for
// the plot, computed a few iterations per frame (update_app).
struct Run {
  std::unique_ptr<IterativeInference> inference;  // null when there is nothing to run
  std::unique_ptr<IterativeInference> reference;  // sequential, same target and budget
  std::string spec;    // schedule_spec of the run
  int budget = 0;
  int64_t target = -1;
  // From the run's Schedule for this target and the model's context (empty without a run).
  std::vector<int> budget_choices;  // Schedule::budget_choices, ascending
  int default_budget = 0;           // Schedule::default_budget
  std::vector<int> largest_levels;  // the level of each position of contexts().back()
  std::vector<LevelSpan> levels;    // the legend: one span per level of the largest context
  std::string message;  // why there is no run (no model, no target, ...)
  int view = -1;        // the iteration shown, -1 before the first step
  bool playing = false;
  double next_play_at = 0;  // seconds (update_app's clock)
  double play_interval = 0.9;
  double reference_ms = 0;          // time spent on the reference so far
  double reference_idle_until = 0;  // update_app's clock: the reference waits until then
};

// ---- The page --------------------------------------------------------------------------
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
  int64_t frame = 0;          // frames rendered so far (main.cpp counts them)
  float fps = 0;
  int width = 0, height = 0;  // canvas size in CSS pixels
  double reference_budget_ms = 12;  // time per frame for the sequential reference
  float bottom_h = 0;               // height of the left column's bottom panels, last frame
};

}  // namespace strata::web
