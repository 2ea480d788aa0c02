// The page's test API: the state as one JSON object, and commands as JSON, exported by
// main.cpp (strata_state_json, strata_command) and called by web/index.html (strataState,
// strataCommand), the e2e test and tests/app_test.cpp. web/README.md lists every field.
#pragma once
#include <string>
#include <string_view>

#include "state.h"

namespace strata::web {

// The app's state as JSON: {ready, frame, fps, canvas, platform, text, text_box, tokens,
// truncated, target, model, run{..., budget_choices, default_budget, levels, current,
// history, reference}, controls}. An iteration (run.current) is the core's
// to_json(IterationResult); run.history keeps its numbers only.
std::string state_json(const App& app);

// The state's "ready": frames are drawn and the model has settled (loaded, or failed for
// good). From then on every command applies, in the order it arrives; before it, the
// model's arrival (model_fetched) re-tokenizes the text, moves the target and rebuilds the
// run, so what earlier commands did would be lost.
bool app_ready(const App& app);

// Applies one command {"cmd": NAME, ...} and returns {"ok": true, ...} or
// {"ok": false, "error": "..."}. The names (a table of handlers in test_api.cpp):
//   set_text {text}            select_target {index}      paste {text}
//   set_schedule {schedule: hierarchical|sequential|dilated, base?}   set_budget {budget}
//   next    prev    reset    goto {iteration}    play {on?}    finish_reference
//   bench_forward {n, reps} -> {ok, ms}
//   model_fetching {url}       model_fetched {url, dir, files: [{name, bytes}]}
//   model_fetch_failed {url, error}
// The stepping commands (next, prev, reset, goto, play) are refused without a run.
std::string command(App& app, std::string_view json);

}  // namespace strata::web
