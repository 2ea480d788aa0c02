// "This step" (see panels.h): the shown iteration's numbers and compute so far, next to
// what the sequential path needs for the same context length, and its top-k predictions.
#include <algorithm>
#include <cstdio>
#include <string>

#include "format.h"
#include "imgui.h"
#include "panels.h"
#include "run.h"
#include "style.h"

namespace strata::web {

using namespace style;

void draw_step_panel(App& app) {
  const Run& run = app.run;
  const Tokenizer& tok = *app.model.tokenizer;
  heading("This step");
  if (!run.message.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, run.inference ? kWarn : kMuted);
    ImGui::TextWrapped("%s", run.message.c_str());
    ImGui::PopStyleColor();
  }
  if (!run.inference) return;
  const IterativeInference& inf = *run.inference;
  const IterationResult* cur = shown_step(run);
  const std::string target_text = format::quoted_token(tok, inf.target_token());

  // Two columns: the numbers on the left, the top-k predictions on the right.
  if (!ImGui::BeginTable("step", 2, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_NoPadOuterX)) return;
  ImGui::TableSetupColumn("numbers", ImGuiTableColumnFlags_WidthStretch, 0.53f);
  ImGui::TableSetupColumn("top", ImGuiTableColumnFlags_WidthStretch, 0.47f);
  ImGui::TableNextRow();
  ImGui::TableNextColumn();
  const float col_w = ImGui::GetContentRegionAvail().x;
  ImGui::Text("Target %s at position %lld", target_text.c_str(), (long long)inf.target());
  if (!cur) {
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextColored(kMuted, "Press Next or Play: iteration 0 sees only the token just before the target; "
                               "each next one sees a larger part of the text.");
    ImGui::PopTextWrapPos();
  } else {
    const int n = cur->context.size();
    const int64_t span = cur->context.empty() ? 0 : inf.target() - cur->context.positions.front();
    ImGui::Text("k = %d of 0-%d: %d context token%s", cur->iteration, inf.iterations() - 1, n, n == 1 ? "" : "s");
    if (span != n) {
      ImGui::SameLine();
      ImGui::TextColored(kMuted, "(%lld back)", (long long)span);
    }
    ImGui::TextColored(kMuted, "surprisal");
    ImGui::SameLine();
    ImGui::TextColored(kTarget, "%.3f bits", cur->surprisal_bits);
    ImGui::Text("p = %.4f   rank %d", cur->target_probability, cur->target_rank);
    ImGui::Spacing();
    // Compute so far, next to what the sequential path needs to reach the same context length.
    if (ImGui::BeginTable("compute", 3, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg, ImVec2(col_w, 0))) {
      ImGui::TableSetupColumn("compute so far");
      ImGui::TableSetupColumn("this run");
      ImGui::TableSetupColumn("sequential");  // to the same context length
      ImGui::TableHeadersRow();
      double seq_flops = 0;
      for (int m = 1; m <= n; ++m) seq_flops += Transformer::forward_flops(app.model.model->config(), m);
      const auto* ref = run.reference ? &run.reference->history() : nullptr;
      const bool ref_ok = ref && int(ref->size()) >= n && n > 0;
      auto row = [](const char* k, const std::string& a, const std::string& b) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextColored(kMuted, "%s", k);
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(a.c_str());
        ImGui::TableNextColumn();
        ImGui::TextColored(kSequential, "%s", b.c_str());
      };
      const std::string ms = format::ms(cur->cumulative_seconds * 1e3);
      const std::string seq_ms = ref_ok ? format::ms((*ref)[size_t(n - 1)].cumulative_seconds * 1e3) : "...";
      row("forward passes", std::to_string(cur->iteration + 1), std::to_string(n));
      row("token-forwards", format::grouped(cur->cumulative_token_forwards), format::grouped(int64_t(n) * (n + 1) / 2));
      row("FLOPs", format::flops(cur->cumulative_flops), format::flops(seq_flops));
      row("time", ms, seq_ms);
      ImGui::EndTable();
    }
  }

  // Top-k predictions as bars, the target marked (and added below when outside the top-k).
  ImGui::TableNextColumn();
  ImGui::TextColored(kMuted, cur ? "Top predictions" : "");
  if (cur) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float w = ImGui::GetContentRegionAvail().x, label_w = std::min(120.0f, w * 0.38f);
    const float bar_w = w - label_w - ImGui::CalcTextSize("100.0%  #999").x - 8, h = ImGui::GetTextLineHeight() + 3;
    auto bar = [&](const std::string& label, double p, bool is_target, const char* extra) {
      const ImVec2 a = ImGui::GetCursorScreenPos();
      ImGui::Dummy(ImVec2(w, h));
      std::string shown_label = label;
      while (shown_label.size() > 4 && ImGui::CalcTextSize(shown_label.c_str()).x > label_w - 4)
        shown_label = shown_label.substr(0, shown_label.size() - 5) + "..\"";
      dl->AddText(ImVec2(a.x, a.y + 1), u32(is_target ? kTarget : kText), shown_label.c_str());
      const float x0 = a.x + label_w;
      dl->AddRectFilled(ImVec2(x0, a.y + 2), ImVec2(x0 + bar_w, a.y + h - 2), u32(kBarTrack), 2.0f);
      dl->AddRectFilled(ImVec2(x0, a.y + 2), ImVec2(x0 + std::max(1.0f, float(p) * bar_w), a.y + h - 2),
                        u32(is_target ? kTarget : kBar), 2.0f);
      char buf[48];
      std::snprintf(buf, sizeof buf, "%.1f%%%s", p * 100, extra);
      dl->AddText(ImVec2(x0 + bar_w + 6, a.y + 1), u32(is_target ? kTarget : kMuted), buf);
    };
    bool target_listed = false;
    for (const Prediction& p : cur->top) {
      const bool is_target = p.token == inf.target_token();
      target_listed |= is_target;
      bar(format::quoted_token(tok, p.token), p.probability, is_target, "");
    }
    if (!target_listed) {
      char extra[32];
      std::snprintf(extra, sizeof extra, "  #%d", cur->target_rank);
      ImGui::TextColored(kMuted, "...");
      bar(target_text, cur->target_probability, true, extra);
    }
  }
  ImGui::EndTable();
}

}  // namespace strata::web
