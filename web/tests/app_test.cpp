// The browser demo's app layer (web/app.h) compiled to WASM and run under node by ctest:
// tokens, commands, the JSON state, model loading through the core (good and bad files),
// and whole UI frames drawn headless (ImGui without a renderer).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "app.h"
#include "imgui.h"
#include "strata/config.h"
#include "strata/file_util.h"
#include "strata/model_dir.h"
#include "strata/schedule.h"
#include "strata/tokenizer.h"
#include "strata/ops.h"

using nlohmann::json;
using namespace strata::web;

namespace {

int g_failures = 0;
#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                        \
    }                                                                      \
  } while (0)

json state(const App& app) { return json::parse(state_json(app)); }
json cmd(App& app, const json& c) { return json::parse(command(app, c.dump())); }

void draw_frames(App& app, int n) {
  ImGuiIO& io = ImGui::GetIO();
  for (int i = 0; i < n; ++i) {
    io.DisplaySize = ImVec2(1280, 800);
    io.DeltaTime = 1.0f / 60.0f;
    update_app(app, ImGui::GetTime());
    ImGui::NewFrame();
    draw_app(app);
    ImGui::Render();
    app.width = 1280;
    app.height = 800;
    ++app.frame;
  }
}

// A small random model with the byte-level tokenizer, written by the core itself.
strata::ModelConfig write_tiny_model(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  strata::ModelConfig c;  // vocab 256, d 64, 2 layers, context 256
  c.max_position_embeddings = 64;
  strata::Weights w(c);
  w.init_random(7);
  strata::save_weights(w, dir);
  strata::Tokenizer().save(dir + "/tokenizer.json");
  return c;
}

json files_of(const std::string& dir) {
  json files = json::array();
  for (const auto& e : std::filesystem::directory_iterator(dir))
    files.push_back({{"name", e.path().filename().string()}, {"bytes", int64_t(e.file_size())}});
  return files;
}

void test_tokens_and_target() {
  App app;
  init_app(app);  // no model yet: the byte-level tokenizer
  CHECK(!app.text.text.empty());
  CHECK(app.text.tokens.size() == std::min<size_t>(app.text.text.size(), 256));
  CHECK(app.text.target == int(app.text.tokens.size()) - 1);  // default: the last token

  CHECK(cmd(app, {{"cmd", "set_text"}, {"text", "a b\n\xC3\xA9"}})["ok"] == true);
  json s = state(app);
  CHECK(s["tokens"].size() == 6);
  CHECK(s["tokens"][1]["label"] == "\xC2\xB7");  // a lone space
  CHECK(s["tokens"][3]["label"] == "\xC2\xB6");  // newline
  CHECK(s["tokens"][4]["label"] == "<C3>");       // half a UTF-8 character
  CHECK(s["tokens"][4]["id"] == 0xC3);
  CHECK(s["target"] == 5);

  CHECK(cmd(app, {{"cmd", "select_target"}, {"index", 2}})["ok"] == true);
  CHECK(state(app)["target"] == 2);
  CHECK(cmd(app, {{"cmd", "select_target"}, {"index", 6}})["ok"] == false);
  CHECK(cmd(app, {{"cmd", "set_text"}, {"text", "ab"}})["ok"] == true);
  CHECK(state(app)["target"] == 1);  // kept in range: the last token

  app.text.max_tokens = 4;
  CHECK(cmd(app, {{"cmd", "set_text"}, {"text", "abcdefgh"}})["ok"] == true);
  CHECK(state(app)["tokens"].size() == 4);
  CHECK(state(app)["truncated"] == true);
  CHECK(state(app)["run"]["ready"] == false);  // no model

  CHECK(cmd(app, {{"cmd", "nonsense"}})["ok"] == false);
  CHECK(json::parse(command(app, "{not json"))["ok"] == false);
  CHECK(cmd(app, {{"cmd", "set_text"}})["ok"] == false);  // missing field

  CHECK(display_text("a\xE2\x96\xB6\xE2") == "a\xE2\x96\xB6<E2>");  // valid kept, cut one escaped
  CHECK(level_of_offset(1, 2) == 0 && level_of_offset(2, 2) == 1 && level_of_offset(3, 2) == 2 &&
        level_of_offset(4, 2) == 2 && level_of_offset(5, 2) == 3 && level_of_offset(9, 3) == 2 &&
        level_of_offset(10, 3) == 3);
}

void test_model_loading() {
  namespace fs = std::filesystem;
  App app;
  init_app(app);
  const strata::ModelConfig c = write_tiny_model("/good");
  CHECK(cmd(app, {{"cmd", "model_fetching"}, {"url", "model/"}})["ok"] == true);
  CHECK(state(app)["model"]["status"] == "fetching");
  CHECK(cmd(app, {{"cmd", "model_fetched"}, {"url", "model/"}, {"dir", "/good"}, {"files", files_of("/good")}})["ok"] == true);
  json s = state(app);
  CHECK(s["model"]["status"] == "loaded");
  CHECK(s["model"]["config"]["max_position_embeddings"] == 64);
  CHECK(s["model"]["parameters"] == c.parameter_count());
  CHECK(app.text.max_tokens == 64);
  CHECK(s["tokens"].size() == 64);
  CHECK(s["run"]["ready"] == true);
  CHECK(s["run"]["budget"] == 32);  // the largest power of 2 below the last token (63)

  // A bad config: the core's error is shown, nothing throws, the old model is dropped.
  fs::create_directories("/bad");
  fs::copy("/good", "/bad", fs::copy_options::overwrite_existing | fs::copy_options::recursive);
  strata::write_file_atomic("/bad/config.json", "{ this is not json");
  CHECK(cmd(app, {{"cmd", "model_fetched"}, {"dir", "/bad"}, {"files", files_of("/bad")}})["ok"] == true);
  s = state(app);
  CHECK(s["model"]["status"] == "error");
  CHECK(s["model"]["error"].get<std::string>().find("malformed JSON") != std::string::npos);
  CHECK(s["model"]["config"].is_null());
  CHECK(s["run"]["ready"] == false);

  // A truncated weights file.
  fs::copy("/good/config.json", "/bad/config.json", fs::copy_options::overwrite_existing);
  const std::string weights = strata::read_file("/good/model.safetensors");
  strata::write_file_atomic("/bad/model.safetensors", weights.substr(0, weights.size() / 2));
  CHECK(cmd(app, {{"cmd", "model_fetched"}, {"dir", "/bad"}, {"files", files_of("/bad")}})["ok"] == true);
  s = state(app);
  CHECK(s["model"]["status"] == "error");
  CHECK(s["model"]["error"].get<std::string>().find("model.safetensors") != std::string::npos);
  std::printf("truncated weights: %s\n", s["model"]["error"].get<std::string>().c_str());

  // No files at all (a build without assets/model/).
  CHECK(cmd(app, {{"cmd", "model_fetched"}, {"dir", "/none"}, {"files", json::array()}})["ok"] == true);
  CHECK(state(app)["model"]["status"] == "error");

  CHECK(cmd(app, {{"cmd", "model_fetch_failed"}, {"error", "HTTP 404"}})["ok"] == true);
  CHECK(state(app)["model"]["error"] == "HTTP 404");
}

// Stepping through the app gives exactly what the core's step API gives.
void test_stepping() {
  App app;
  init_app(app);
  write_tiny_model("/step");
  CHECK(cmd(app, {{"cmd", "model_fetched"}, {"dir", "/step"}, {"files", files_of("/step")}})["ok"] == true);
  CHECK(cmd(app, {{"cmd", "set_text"}, {"text", "It was a dark and stormy night; the rain fell in torrents."}})["ok"] == true);
  CHECK(cmd(app, {{"cmd", "select_target"}, {"index", 40}})["ok"] == true);
  json s = state(app);
  CHECK(s["run"]["budget"] == 32);
  CHECK(s["run"]["budget_options"] == json({1, 2, 4, 8, 16, 32}));
  CHECK(s["run"]["iterations"] == 6);
  CHECK(s["run"]["iteration"] == -1);
  CHECK(s["run"]["current"].is_null());

  // The same run straight through the core.
  std::vector<int32_t> ids;
  for (const Token& t : app.text.tokens) ids.push_back(t.id);
  strata::IterativeInference direct(*app.model.model, ids, 40, strata::make_schedule("hierarchical"), 32, {.top_k = 8});
  direct.run_all();

  for (int k = 0; k < 6; ++k) {
    CHECK(cmd(app, {{"cmd", "next"}})["ok"] == true);
    s = state(app);
    const json& cur = s["run"]["current"];
    CHECK(s["run"]["iteration"] == k);
    CHECK(cur["context_len"] == (1 << k));
    CHECK(std::abs(cur["surprisal_bits"].get<double>() - direct.history()[k].surprisal_bits) < 1e-9);
    CHECK(cur["rank"] == direct.history()[k].target_rank);
    CHECK(cur["positions"].size() == size_t(1 << k));
    CHECK(cur["positions"].back() == 39);
    CHECK(cur["levels"].back() == 0);
    CHECK(cur["top"].size() == 8);
    CHECK(cur["forward_passes"] == k + 1);
  }
  CHECK(cmd(app, {{"cmd", "next"}})["ok"] == true);  // past the end: stays
  CHECK(state(app)["run"]["iteration"] == 5);
  CHECK(cmd(app, {{"cmd", "prev"}})["ok"] == true);
  CHECK(state(app)["run"]["iteration"] == 4);
  CHECK(state(app)["run"]["steps_run"] == 6);  // going back recomputes nothing
  CHECK(cmd(app, {{"cmd", "reset"}})["ok"] == true);
  CHECK(state(app)["run"]["steps_run"] == 0);
  CHECK(cmd(app, {{"cmd", "goto"}, {"iteration", 3}})["ok"] == true);
  CHECK(state(app)["run"]["iteration"] == 3);

  // The sequential reference: the last point equals the hierarchical last level.
  CHECK(cmd(app, {{"cmd", "finish_reference"}})["ok"] == true);
  s = state(app);
  CHECK(s["run"]["reference"]["computed"] == 32);
  CHECK(std::abs(s["run"]["reference"]["surprisal_bits"][31].get<double>() - direct.history()[5].surprisal_bits) < 1e-6);

  // Other schedules and budgets.
  CHECK(cmd(app, {{"cmd", "set_schedule"}, {"schedule", "hierarchical"}, {"base", 3}})["ok"] == true);
  s = state(app);
  CHECK(s["run"]["spec"] == "hierarchical:3");
  CHECK(s["run"]["budget"] == 27);
  CHECK(cmd(app, {{"cmd", "set_budget"}, {"budget", 9}})["ok"] == true);
  CHECK(state(app)["run"]["iterations"] == 3);
  CHECK(cmd(app, {{"cmd", "set_budget"}, {"budget", 8}})["ok"] == false);
  CHECK(cmd(app, {{"cmd", "set_schedule"}, {"schedule", "dilated"}})["ok"] == true);
  CHECK(cmd(app, {{"cmd", "goto"}, {"iteration", 2}})["ok"] == true);
  s = state(app);
  CHECK(s["run"]["current"]["positions"] == json({36, 38, 39}));
  CHECK(s["run"]["current"]["levels"] == json({2, 1, 0}));
  CHECK(cmd(app, {{"cmd", "set_schedule"}, {"schedule", "sequential"}})["ok"] == true);
  CHECK(state(app)["run"]["iterations"] == 32);
  CHECK(cmd(app, {{"cmd", "set_schedule"}, {"schedule", "spiral"}})["ok"] == false);

  // Playback steps on update_app's clock.
  CHECK(cmd(app, {{"cmd", "set_schedule"}, {"schedule", "hierarchical"}, {"base", 2}})["ok"] == true);
  set_playing(app, true, 100.0);
  update_app(app, 100.0);
  CHECK(app.run.view == 0);
  update_app(app, 100.1);
  CHECK(app.run.view == 0);
  update_app(app, 101.0);
  CHECK(app.run.view == 1);

  // The benchmark hook.
  const json b = cmd(app, {{"cmd", "bench_forward"}, {"n", 64}, {"reps", 2}});
  CHECK(b["ok"] == true && b["ms"].get<double>() > 0);
  std::printf("tiny model, 64 tokens: %.3f ms per forward\n", b["ms"].get<double>());
}

// Issue 10: "ready" waits for the model, so that commands sent the moment it is true apply
// (before, it was true while the model was still being fetched: five `next` did nothing,
// replied ok, and the model's arrival rebuilt the run).
void test_ready_waits_for_the_model() {
  App app;
  init_app(app);
  write_tiny_model("/ready");
  CHECK(cmd(app, {{"cmd", "model_fetching"}, {"url", "model/"}})["ok"] == true);
  app.frame = 3;  // as main.cpp counts drawn frames
  app.width = 1280;
  CHECK(state(app)["ready"] == false);               // drawn, but the model is on its way
  CHECK(cmd(app, {{"cmd", "next"}})["ok"] == false);  // refused, not silently dropped
  CHECK(cmd(app, {{"cmd", "model_fetched"}, {"dir", "/ready"}, {"files", files_of("/ready")}})["ok"] == true);
  CHECK(state(app)["ready"] == true);
  for (int i = 0; i < 5; ++i) CHECK(cmd(app, {{"cmd", "next"}})["ok"] == true);
  const json s = state(app);
  CHECK(s["run"]["steps_run"] == 5 && s["run"]["iteration"] == 4 && s["run"]["history"].size() == 5);
  // A model that cannot be loaded is settled too: the page is ready, with nothing to run.
  CHECK(cmd(app, {{"cmd", "model_fetch_failed"}, {"error", "HTTP 404"}})["ok"] == true);
  CHECK(state(app)["ready"] == true);
  CHECK(cmd(app, {{"cmd", "next"}})["ok"] == false);
}

void test_frames() {
  App app;
  init_app(app);
  write_tiny_model("/frames");
  CHECK(cmd(app, {{"cmd", "model_fetched"}, {"dir", "/frames"}, {"files", files_of("/frames")}})["ok"] == true);
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;
  unsigned char* pixels = nullptr;
  int w = 0, h = 0;
  ImGui::GetIO().Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);  // no renderer: build the atlas here
  draw_frames(app, 3);
  json s = state(app);
  CHECK(s["ready"] == true);
  CHECK(s["frame"] == 3);
  // Every chip was laid out inside the window, left to right then down.
  bool inside = true;
  for (const json& t : s["tokens"]) {
    const float x = t["rect"][0], y = t["rect"][1], cw = t["rect"][2], ch = t["rect"][3];
    inside = inside && cw > 0 && ch > 0 && x >= 0 && x + cw <= 1280 && y >= 0;
  }
  CHECK(inside);
  CHECK(s["text_box"][2].get<float>() > 100);
  CHECK(s["controls"]["next"][2].get<float>() > 10);

  // Steps drawn with their plot, top-k and compute.
  CHECK(cmd(app, {{"cmd", "goto"}, {"iteration", 2}})["ok"] == true);
  draw_frames(app, 2);
  CHECK(state(app)["run"]["reference"]["computed"].get<int>() > 0);  // update_app ran in draw_frames

  // The paste command types into a focused text box, else replaces the text.
  CHECK(cmd(app, {{"cmd", "paste"}, {"text", "pasted"}})["ok"] == true);
  CHECK(app.text.text == "pasted");
  draw_frames(app, 1);
  CHECK(app.text.chip_rects.size() == 6);
  ImGui::DestroyContext();
}

// The core's kernels run on the one static Highway target this build was compiled for.
void test_simd_target() {
  const std::string target = strata::ops::simd_target();
#ifdef __wasm_simd128__
  CHECK(target == "WASM");
#else
  CHECK(target == "EMU128" || target == "SCALAR");
#endif
  std::printf("kernels: %s\n", target.c_str());
}

}  // namespace

int main() {
  test_simd_target();
  test_tokens_and_target();
  test_model_loading();
  test_stepping();
  test_ready_waits_for_the_model();
  test_frames();
  if (g_failures) {
    std::fprintf(stderr, "%d check(s) failed\n", g_failures);
    return 1;
  }
  std::printf("web app tests: all checks passed\n");
  return 0;
}
