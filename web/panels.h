// The browser demo's panels: one draw function each, in the manner of Dear ImGui's examples.
// Each frame they draw from the state (state.h); what a click changes goes through the run
// logic (run.h). main.cpp calls draw_app() between ImGui::NewFrame() and ImGui::Render();
// tests/app_test.cpp draws whole frames headless (ImGui without a renderer).
#pragma once
#include "state.h"

namespace strata::web {

// layout.cpp: the whole UI for one frame, a full-window layout of the panels below.
void draw_app(App& app);

// panel_text.cpp: the text box, the token chips (click one: the target) coloured by the
// shown iteration's context levels, and the level legend.
void draw_text_panel(App& app);
// panel_controls.cpp: schedule, base and budget; Reset, Prev, Play, Next and the slider.
void draw_controls_panel(App& app);
// panel_step.cpp: the shown step's surprisal, probability, rank and compute (next to the
// sequential path's), and the top predictions as bars.
void draw_step_panel(App& app);
// panel_plot.cpp: surprisal against context length, this run over the sequential curve.
void draw_plot_panel(App& app);
// panel_info.cpp: what was loaded (or why not) and on which platform; what the page shows.
void draw_model_panel(const ModelPanel& panel, const PlatformInfo& platform);
void draw_about_panel(const App& app);

}  // namespace strata::web
