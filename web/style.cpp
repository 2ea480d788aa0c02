// The browser demo's look (see style.h).
#include "style.h"

namespace strata::web::style {

namespace {

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

}  // namespace

ImVec4 level_colour(int k) { return kLevels[((k % kLevelColours) + kLevelColours) % kLevelColours]; }

void apply() {
  ImGui::StyleColorsDark();
  ImGui::GetStyle().WindowPadding = ImVec2(12, 10);
  ImGui::GetStyle().FramePadding = ImVec2(6, 4);
}

void heading(const char* text) {
  ImGui::TextColored(kHeading, "%s", text);
  ImGui::Separator();
}

Rect item_rect() {
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  return {a.x, a.y, b.x - a.x, b.y - a.y};
}

}  // namespace strata::web::style
