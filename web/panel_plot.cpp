// The plot (see panels.h): surprisal against context length n (log2 axis) for this target,
// the run's steps (a staircase for hierarchical and dilated, markers in the colour of the
// level each step reached, the current one ringed) over the sequential reference curve,
// solid up to this step's n; hover for values.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "imgui.h"
#include "panels.h"
#include "run.h"
#include "style.h"

namespace strata::web {

using namespace style;

void draw_plot_panel(App& app) {
  const Run& run = app.run;
  heading("Surprisal against context length");
  const ImVec2 size(ImGui::GetContentRegionAvail().x, std::max(160.0f, ImGui::GetContentRegionAvail().y - 4));
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton("plot", size);
  const bool hovered = ImGui::IsItemHovered();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p0, ImVec2(p0.x + size.x, p0.y + size.y), u32(kPlotBackground), 4.0f);
  if (!run.inference) {
    dl->AddText(ImVec2(p0.x + 14, p0.y + 14), u32(kMuted), "No run yet.");
    return;
  }
  const IterativeInference& inf = *run.inference;
  const auto& hist = inf.history();
  static const std::vector<IterationResult> kNone;
  const auto& ref = run.reference ? run.reference->history() : kNone;
  const int L = run.budget;
  const IterationResult* cur = shown_step(run);

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
  const ImU32 grid = u32(kGrid), axis_text = u32(kMuted);
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
  const bool staircase = app.settings.kind != ScheduleKind::kSequential;
  const ImU32 run_col = u32(kRunLine);
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
    for (float yy = a.y; yy < b.y; yy += 8) dl->AddLine(ImVec2(cx, yy), ImVec2(cx, std::min(yy + 4, b.y)), u32(kCursor));
  }
  if (staircase || run.view < 40)
    for (int k = 0; k <= run.view && k < int(hist.size()); ++k) {
      const auto& r = hist[size_t(k)];
      const ImVec2 c(X(r.context.size()), Y(r.surprisal_bits));
      const int lvl = r.levels.empty() ? 0 : r.levels.front();  // the level of its oldest token
      dl->AddCircleFilled(c, 5.0f, u32(level_colour(lvl)));
      dl->AddCircle(c, 5.0f, u32(kMarkerEdge), 0, 1.0f);
    }
  if (cur) {
    const ImVec2 c(X(n_cur), Y(cur->surprisal_bits));
    dl->AddCircle(c, 9.0f, u32(kCurrentRing), 0, 2.0f);
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
  const RunSettings& settings = app.settings;
  const std::string run_label =
      settings.kind == ScheduleKind::kSequential ? "this run"
      : settings.kind == ScheduleKind::kDilated  ? "dilated (this run)"
                                                 : "hierarchical b=" + std::to_string(settings.base) + " (this run)";
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
    dl->AddLine(ImVec2(X(n), a.y), ImVec2(X(n), b.y), u32(kHoverLine));
    ImGui::SetTooltip("%s", tip.c_str());
  }
}

}  // namespace strata::web
