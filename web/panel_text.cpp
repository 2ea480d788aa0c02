// The text panel (see panels.h): the passage in a text box, its tokens as chips laid out by
// hand, and the legend of the context levels. Levels are the core's: the shown iteration's
// IterationResult::levels, and the run's largest context (Run::largest_levels, Run::levels).
#include <algorithm>
#include <string>
#include <vector>

#include "imgui.h"
#include "imgui_stdlib.h"
#include "panels.h"
#include "run.h"
#include "style.h"

namespace strata::web {

using namespace style;

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
  const IterationResult* cur = shown_step(run);
  std::vector<int> level(panel.tokens.size(), -1);   // in the current context: its level
  std::vector<int> window(panel.tokens.size(), -1);  // in the final (largest) context: its level
  auto mark = [](std::vector<int>& out, const std::vector<int64_t>& positions, const std::vector<int>& levels) {
    for (size_t i = 0; i < positions.size() && i < levels.size(); ++i)
      if (positions[i] >= 0 && positions[i] < int64_t(out.size())) out[size_t(positions[i])] = levels[i];
  };
  if (run.inference) {
    mark(window, run.inference->contexts().back().positions, run.largest_levels);
    if (cur) mark(level, cur->context.positions, cur->levels);
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
      fg = kOnTarget;
    } else if (level[i] >= 0) {
      bg = scaled(level_colour(level[i]), 0.52f);
      fg = kOnLevel;
    }
    if (odd_piece && !is_target) bg = scaled(bg, 0.80f);  // token boundaries inside a word
    if (hovered) bg = scaled(bg, 1.3f);
    const ImDrawFlags corners = glued[i] ? (glued[i + 1] ? ImDrawFlags_RoundCornersNone : ImDrawFlags_RoundCornersRight)
                                         : (glued[i + 1] ? ImDrawFlags_RoundCornersLeft : ImDrawFlags_RoundCornersAll);
    dl->AddRectFilled(a, b, u32(bg), 4.0f, corners);
    if (is_target) dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), u32(kTargetOutline), 4.0f, 0, 2.0f);
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

  // Legend: the level colours and the tokens each level of the largest context covers.
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
  for (const LevelSpan& span : run.levels) {
    const std::string label = span.nearest == span.farthest
                                  ? std::to_string(span.farthest)
                                  : std::to_string(span.nearest) + "-" + std::to_string(span.farthest);
    if (ImGui::GetCursorScreenPos().x + ImGui::CalcTextSize(label.c_str()).x + 30 > ImGui::GetWindowPos().x + ImGui::GetWindowWidth())
      ImGui::NewLine();
    swatch(level_colour(span.level), label);
  }
  if (run.levels.empty()) ImGui::TextColored(kMuted, "(no run)");
  ImGui::NewLine();
  swatch(kTarget, "target");
  swatch(kChip, "not in this iteration's context");
  ImGui::TextColored(kMuted, "underlined: the largest context (L)");
}

}  // namespace strata::web
