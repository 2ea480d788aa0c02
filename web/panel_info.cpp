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
    case ModelStatus::kFetching: ImGui::TextColored(kWarn, "Reading %s ...", panel.url.c_str()); break;
    case ModelStatus::kLoaded: {
      const ModelConfig& c = *panel.config;
      int64_t bytes = 0;
      for (const ModelFile& f : panel.files) bytes += f.bytes;
      ImGui::TextColored(kGood, "Loaded");
      ImGui::SameLine();
      ImGui::TextColored(kMuted, "%s (%s, %.0f ms)", panel.url.c_str(), format::bytes(bytes).c_str(), panel.load_ms);
      ImGui::Text("%s: %d layers, hidden %d, %d heads (%d key/value, head_dim %d), vocabulary %d, context %d",
                  c.model_type.c_str(), c.num_hidden_layers, c.hidden_size, c.num_attention_heads,
                  c.num_key_value_heads, c.head_dim, c.vocab_size, c.max_position_embeddings);
      ImGui::Text("%.2fM parameters stored as %s, run in float32", c.parameter_count() / 1e6,
                  panel.dtypes.empty() ? "?" : panel.dtypes.c_str());
      if (panel.bos.add_bos)
        ImGui::Text("BOS %d before every context (%s)", panel.bos.bos_id, panel.bos.reason.c_str());
      else
        ImGui::TextColored(kMuted, "no BOS (%s)", panel.bos.reason.c_str());
      if (panel.memory)
        ImGui::TextColored(kMuted, "memory: %s of the %s a model may use here", format::bytes(int64_t(panel.memory->total())).c_str(),
                           format::bytes(int64_t(kModelMemoryLimit)).c_str());
      break;
    }
    case ModelStatus::kError:
      ImGui::TextColored(kBad, "Could not load the model:");
      ImGui::PushStyleColor(ImGuiCol_Text, kBad);
      ImGui::TextWrapped("%s", panel.error.c_str());
      ImGui::PopStyleColor();
      break;
  }
  ImGui::TextColored(kMuted, "Another model: drop its folder on the page, or \"Open a model folder\" (top right).");
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
