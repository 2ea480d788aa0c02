// The schedule and step controls (see panels.h). The budgets offered are the run's Schedule's
// (Run::budget_choices); a change of schedule, base or budget rebuilds the run.
#include <algorithm>
#include <cstdio>
#include <string>

#include "imgui.h"
#include "panels.h"
#include "run.h"
#include "style.h"

namespace strata::web {

using namespace style;

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
  const char* kinds[] = {schedule_name(ScheduleKind::kHierarchical), schedule_name(ScheduleKind::kSequential),
                         schedule_name(ScheduleKind::kDilated)};
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
  const std::string preview = run.budget > 0 ? std::to_string(run.budget) : "-";
  ImGui::BeginDisabled(run.budget_choices.empty());
  if (ImGui::BeginCombo("##budget", preview.c_str())) {
    for (int L : run.budget_choices) {
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

}  // namespace strata::web
