// The browser demo's look, in one place: every colour the panels draw with, the ImGui style
// main.cpp applies, and the small drawing helpers the panels share (a heading, the colour of
// a context level, the rectangle of the last item).
#pragma once
#include "imgui.h"
#include "state.h"

namespace strata::web::style {

// ---- Colours ---------------------------------------------------------------------------
inline const ImVec4 kBackground{0.09f, 0.10f, 0.12f, 1.0f};  // behind the window (main.cpp's clear)
inline const ImVec4 kHeading{0.55f, 0.78f, 1.00f, 1.0f};
inline const ImVec4 kMuted{0.60f, 0.62f, 0.67f, 1.0f};
inline const ImVec4 kText{0.90f, 0.91f, 0.93f, 1.0f};
inline const ImVec4 kGood{0.45f, 0.85f, 0.45f, 1.0f};
inline const ImVec4 kWarn{0.95f, 0.80f, 0.35f, 1.0f};
inline const ImVec4 kBad{1.00f, 0.42f, 0.40f, 1.0f};
inline const ImVec4 kTarget{0.96f, 0.55f, 0.12f, 1.0f};      // the target token, everywhere
inline const ImVec4 kSequential{0.45f, 0.68f, 1.00f, 1.0f};  // the sequential path
inline const ImVec4 kWhite{1.0f, 1.0f, 1.0f, 1.0f};

// Chips (text panel).
inline const ImVec4 kChip{0.21f, 0.24f, 0.30f, 1.0f};       // before the target, not in this context
inline const ImVec4 kChipAfter{0.14f, 0.15f, 0.18f, 1.0f};  // after the target
inline const ImVec4 kOnTarget{0.08f, 0.06f, 0.04f, 1.0f};   // text on the target's chip
inline const ImVec4 kOnLevel = kWhite;                      // text on a chip in the context
inline const ImVec4 kTargetOutline{1.0f, 1.0f, 1.0f, 0.95f};

// Bars (step panel).
inline const ImVec4 kBar{0.36f, 0.50f, 0.70f, 1.0f};
inline const ImVec4 kBarTrack{0.18f, 0.20f, 0.24f, 1.0f};

// Plot.
inline const ImVec4 kPlotBackground{0.11f, 0.12f, 0.15f, 1.0f};
inline const ImVec4 kGrid{1.0f, 1.0f, 1.0f, 0.07f};
inline const ImVec4 kRunLine{0.97f, 0.97f, 0.97f, 1.0f};     // this run's steps
inline const ImVec4 kCursor{1.0f, 1.0f, 1.0f, 0.25f};        // the shown step's context length
inline const ImVec4 kHoverLine{1.0f, 1.0f, 1.0f, 0.15f};
inline const ImVec4 kMarkerEdge{0.0f, 0.0f, 0.0f, 0.6f};
inline const ImVec4 kCurrentRing{1.0f, 1.0f, 1.0f, 0.95f};

// The colour of context level k (tokens 1, 2, 3-4, 5-8, ... back under base 2): distinct on
// a dark background, none of them the target's orange; repeats after ten levels.
ImVec4 level_colour(int k);

// ---- Helpers ---------------------------------------------------------------------------
// c with its RGB times s and its alpha times a.
inline ImVec4 scaled(ImVec4 c, float s, float a = 1.0f) { return {c.x * s, c.y * s, c.z * s, c.w * a}; }
inline ImU32 u32(ImVec4 c) { return ImGui::ColorConvertFloat4ToU32(c); }

// ImGui's dark style with the demo's paddings (main.cpp, after ImGui::CreateContext).
void apply();

// A panel's title in the heading colour, with a rule under it.
void heading(const char* text);

// Where the last ImGui item was drawn, for the test API.
Rect item_rect();

}  // namespace strata::web::style
