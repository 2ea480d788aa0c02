// The browser demo's run logic: tokens, the fetched model, the run and its stepping, and the
// per-frame work (playback, the sequential reference). No ImGui: the library this builds
// (strata_web_run) does not even see its headers, so tests/app_test.cpp drives all of it
// without a GL or ImGui context.
//
// The model and the schedules stay in the core: a run is a strata::IterativeInference (the
// constructor validates, step(), history(), contexts(), reset()); budgets and levels are
// its Schedule's (budget_choices, default_budget, level_of_offset); the panels only choose
// what to run (text, target, schedule, budget) and which step to show.
#pragma once
#include <string>
#include <vector>

#include "state.h"

namespace strata::web {

// The default passage, tokens and panels; platform info is left to the caller.
void init_app(App& app);

// ---- Text and tokens -------------------------------------------------------------------
// Re-tokenizes panel.text with tok; keeps the target if it is still in range (else the
// last token; -1 with fewer than 2 tokens).
void retokenize(TextPanel& panel, const Tokenizer& tok);

// ---- The model -------------------------------------------------------------------------
const char* to_string(ModelStatus s);
// Loads panel.dir (config.json, model.safetensors, tokenizer.json) through strata::load_model.
// Never throws: a bad model sets status kError with the core's message, drops any model
// loaded before, and the app keeps running with the byte-level tokenizer.
void load_fetched_model(ModelPanel& panel);
// After model_fetched: load it, then re-tokenize the text for its context and vocabulary,
// target its last token, and rebuild the run.
void apply_fetched_model(App& app);

// A folder the person picked or dropped (model_folder.h's steps). pick_folder drops the
// model and run shown so far, empties kPickedDir and returns the files the page is to write
// there next (config.json); folder_read, after the page wrote them, returns the next ones
// (the weights and tokenizer, once the size check passed) or, when all are there, loads the
// model (apply_fetched_model) and removes the files again. Both return {} once the folder
// has settled: loaded, or refused with its one-line error in the model panel. Never throw.
std::vector<std::string> pick_folder(App& app, const std::string& folder, std::vector<ModelFile> files);
std::vector<std::string> folder_read(App& app);

// ---- The run ---------------------------------------------------------------------------
std::string schedule_spec(const RunSettings& s);  // make_schedule text: "hierarchical:3", ...
const char* schedule_name(ScheduleKind k);        // "hierarchical", "sequential", "dilated"

// Rebuilds the run from text, target and settings (after any of them changed): a new
// IterativeInference at iteration -1, and a new reference. Takes settings.budget when the
// schedule offers it here, else the schedule's default budget (and stores it in settings).
// Never throws; problems go to run.message.
void rebuild_run(App& app);

// The history entry shown, or null before the first step (or without a run).
const IterationResult* shown_step(const Run& run);

// Stepping. next: shows the next iteration, running it if it has not run yet.
void step_next(App& app);
void step_prev(App& app);
void step_reset(App& app);        // back to before the first iteration (history cleared)
void step_goto(App& app, int k);  // shows iteration k, running the ones before it
void set_playing(App& app, bool on, double now);

// Per-frame work outside drawing: playback, and up to reference_budget_ms of the sequential
// reference curve (one iteration at least; after an iteration that took longer, the
// reference rests as long as it ran, so the UI keeps at least half the time). now: seconds
// on any monotonic clock.
void update_app(App& app, double now);
// Runs the whole reference now (tests, benchmarks).
void finish_reference(App& app);

// Mean milliseconds of one forward pass over n tokens (logits at the last row) with the
// loaded model, after one warm-up pass; -1 without a model.
double bench_forward(App& app, int n, int reps);

}  // namespace strata::web
