// draw_app: where the panels go (see panels.h). A title line, then two columns when the
// window is wide enough (else one under the other): text, about and model on the left;
// schedule and step controls, this step and the plot on the right.
#include <algorithm>
#include <cmath>

#include "imgui.h"
#include "panels.h"
#include "style.h"

namespace strata::web {

void draw_app(App& app) {
  const ImGuiIO& io = ImGui::GetIO();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(io.DisplaySize);
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                 ImGuiWindowFlags_NoSavedSettings |
                                 ImGuiWindowFlags_NoBringToFrontOnFocus;
  ImGui::Begin("strata", nullptr, flags);
  ImGui::TextColored(style::kHeading, "strata");
  ImGui::SameLine();
  ImGui::Text("- watch a model refine one prediction as its context grows, level by level");
  if (app.model.status == ModelStatus::kError) {
    ImGui::SameLine();
    ImGui::TextColored(style::kBad, "   The model could not be loaded (details below).");
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

}  // namespace strata::web
