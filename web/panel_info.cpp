// The model and "What this shows" panels (see panels.h): what was loaded (or, in red, why
// not) and on which platform; two or three sentences on what the page shows.
#include <cstdio>

#include "format.h"
#include "imgui.h"
#include "panels.h"
#include "style.h"

namespace strata::web {

using namespace style;

void draw_model_panel(const ModelPanel& panel, const PlatformInfo& platform) {
  heading("Model");
  switch (panel.status) {
    case ModelStatus::kNone: ImGui::TextColored(kMuted, "No model requested."); break;
    case ModelStatus::kFetching: ImGui::TextColored(kWarn, "Fetching %s ...", panel.url.c_str()); break;
    case ModelStatus::kLoaded: {
      const ModelConfig& c = *panel.config;
      int64_t bytes = 0;
      for (const ModelFile& f : panel.files) bytes += f.bytes;
      ImGui::TextColored(kGood, "Loaded");
      ImGui::SameLine();
      ImGui::TextColored(kMuted, "%s (%s, %.0f ms)", panel.url.c_str(), format::bytes(bytes).c_str(), panel.load_ms);
      ImGui::Text("%s: %d layers, d %d, %d heads, vocabulary %d, context %d, %.2fM parameters",
                  c.model_type.c_str(), c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.vocab_size,
                  c.max_position_embeddings, c.parameter_count() / 1e6);
      break;
    }
    case ModelStatus::kError:
      ImGui::TextColored(kBad, "Could not load the model:");
      ImGui::PushStyleColor(ImGuiCol_Text, kBad);
      ImGui::TextWrapped("%s", panel.error.c_str());
      ImGui::PopStyleColor();
      break;
  }
  ImGui::TextColored(kMuted, "%s, SIMD128 %s, kernels %s, %.0f frames/s", platform.platform.c_str(),
                     platform.simd128 ? "on" : "off", platform.simd_target.c_str(), ImGui::GetIO().Framerate);
}

void draw_about_panel(const App& app) {
  heading("What this shows");
  // The base of the hierarchy the text describes: the one chosen, or 2 (the doubling the
  // sequential and dilated runs are compared with).
  const int b = app.settings.kind == ScheduleKind::kHierarchical ? app.settings.base : 2;
  char text[900];
  std::snprintf(text, sizeof text,
                "One model predicts one target token (orange) again and again, each time from a different "
                "part of the text before it. Hierarchical access multiplies the context by b = %d per level "
                "(a colour per level), so the surprisal -log2 p falls in steps, for a fraction of the "
                "compute of the sequential path (blue), which adds one token per iteration. At L tokens "
                "both see the same context and agree.",
                b);
  ImGui::TextWrapped("%s", text);
}

}  // namespace strata::web
