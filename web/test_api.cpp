// The page's test API (see test_api.h): the state as JSON, and a table of command handlers.
#include "test_api.h"

#include <algorithm>
#include <exception>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#ifdef __EMSCRIPTEN__
#include <emscripten/heap.h>
#include <malloc.h>
#endif

#include "imgui.h"
#include "run.h"
#include "strata/config.h"

namespace strata::web {

namespace {

using nlohmann::json;

json rect_json(const Rect& r) { return {r.x, r.y, r.w, r.h}; }

// The WebAssembly memory now (it only grows) and what malloc has handed out of it, to set
// against model_folder.h's estimate; natively both are 0.
json heap_json() {
#ifdef __EMSCRIPTEN__
  // mallinfo's fields are int: past 2 GB they read as negative, so take them as unsigned.
  return {{"size", uint64_t(emscripten_get_heap_size())}, {"used", uint64_t(unsigned(mallinfo().uordblks))}};
#else
  return {{"size", 0}, {"used", 0}};
#endif
}

// ---- State -----------------------------------------------------------------------------

json tokens_json(const TextPanel& t) {
  json tokens = json::array();
  for (size_t i = 0; i < t.tokens.size(); ++i) {
    const Rect rc = i < t.chip_rects.size() ? t.chip_rects[i] : Rect{};
    tokens.push_back({{"i", i}, {"id", t.tokens[i].id}, {"text", t.tokens[i].text}, {"label", t.tokens[i].label},
                      {"rect", rect_json(rc)}});
  }
  return tokens;
}

json model_json(const ModelPanel& m) {
  json files = json::array();
  for (const ModelFile& f : m.files) files.push_back({{"name", f.name}, {"bytes", f.bytes}});
  json model = {{"status", to_string(m.status)}, {"url", m.url}, {"files", files}, {"read", m.read},
                {"error", m.error}, {"config", nullptr}, {"dtypes", m.dtypes}, {"load_ms", m.load_ms},
                {"bos", m.status == ModelStatus::kLoaded ? to_json(m.bos) : json(nullptr)},
                {"memory", nullptr}, {"memory_limit", kModelMemoryLimit}, {"maximum_memory", kMaximumMemory}};
  if (m.config) {
    model["config"] = config_to_json(*m.config);
    model["parameters"] = m.config->parameter_count();
  }
  if (m.memory)
    model["memory"] = {{"weights", m.memory->weights}, {"files", m.memory->files}, {"tokenizer", m.memory->tokenizer},
                       {"activations", m.memory->activations}, {"packing", m.memory->packing},
                       {"total", m.memory->total()}};
  return model;
}

// A history entry: the numbers of the core's iteration JSON, without the context and top-k.
json compact(json iteration) {
  for (const char* key : {"positions", "position_ids", "levels", "top"}) iteration.erase(key);
  return iteration;
}

json run_json(const App& app) {
  const Run& r = app.run;
  const Tokenizer& tok = *app.model.tokenizer;
  json levels = json::array();
  for (const LevelSpan& s : r.levels) levels.push_back({{"level", s.level}, {"nearest", s.nearest}, {"farthest", s.farthest}});
  json run = {{"schedule", schedule_name(app.settings.kind)},
              {"base", app.settings.base},
              {"spec", r.spec},
              {"budget", r.budget},
              {"budget_choices", r.budget_choices},
              {"default_budget", r.default_budget},
              {"levels", levels},
              {"ready", r.inference != nullptr},
              {"message", r.message},
              {"target", r.target},
              {"iteration", r.view},
              {"iterations", r.inference ? r.inference->iterations() : 0},
              {"steps_run", r.inference ? int(r.inference->history().size()) : 0},
              {"playing", r.playing},
              {"current", nullptr},
              {"history", json::array()}};
  if (r.inference) {
    const IterativeInference& inf = *r.inference;
    run["target_token"] = inf.target_token();
    run["target_text"] = tok.token_text(inf.target_token());
    json contexts = json::array();
    for (const ContextSet& c : inf.contexts()) contexts.push_back(c.size());
    run["context_lengths"] = contexts;
    for (const IterationResult& h : inf.history()) run["history"].push_back(compact(to_json(h, tok)));
    if (const IterationResult* cur = shown_step(r)) run["current"] = to_json(*cur, tok);
  }
  json reference = {{"computed", 0}, {"of", r.budget}, {"ms", r.reference_ms}, {"surprisal_bits", json::array()}};
  if (r.reference) {
    reference["computed"] = r.reference->history().size();
    for (const IterationResult& h : r.reference->history()) reference["surprisal_bits"].push_back(h.surprisal_bits);
  }
  run["reference"] = reference;
  return run;
}

// ---- Commands --------------------------------------------------------------------------

// A command's own refusal: its message is the reply's error as it is.
struct Refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Command {
  bool needs_run;  // refused when there is no run (nothing to step)
  void (*apply)(App& app, const json& args, json& reply);
};

void set_text(App& app, const std::string& text) {
  app.text.text = text;
  retokenize(app.text, *app.model.tokenizer);
  rebuild_run(app);
}

const std::map<std::string, Command, std::less<>>& commands() {
  static const std::map<std::string, Command, std::less<>> table = {
      {"set_text", {false, [](App& app, const json& j, json&) { set_text(app, j.at("text").get<std::string>()); }}},
      {"select_target", {false, [](App& app, const json& j, json&) {
         const int i = j.at("index").get<int>();
         if (i < -1 || i >= int(app.text.tokens.size()))
           throw Refused("index " + std::to_string(i) + " out of range [-1, " + std::to_string(app.text.tokens.size()) + ")");
         app.text.target = i;
         rebuild_run(app);
       }}},
      // The page's paste event: typed into the focused text box, else replaces the text.
      {"paste", {false, [](App& app, const json& j, json&) {
         const std::string s = j.at("text").get<std::string>();
         if (ImGui::GetCurrentContext() && ImGui::GetIO().WantTextInput) ImGui::GetIO().AddInputCharactersUTF8(s.c_str());
         else set_text(app, s);
       }}},
      {"set_schedule", {false, [](App& app, const json& j, json&) {
         const std::string s = j.at("schedule").get<std::string>();
         ScheduleKind kind;
         if (s == schedule_name(ScheduleKind::kHierarchical)) kind = ScheduleKind::kHierarchical;
         else if (s == schedule_name(ScheduleKind::kSequential)) kind = ScheduleKind::kSequential;
         else if (s == schedule_name(ScheduleKind::kDilated)) kind = ScheduleKind::kDilated;
         else throw Refused("unknown schedule \"" + s + "\" (hierarchical, sequential, dilated)");
         int base = app.settings.base;
         if (j.contains("base")) {
           base = j["base"].get<int>();
           if (base < 2 || base > 8) throw Refused("base " + std::to_string(base) + " outside [2, 8]");
         }
         app.settings.kind = kind;
         app.settings.base = base;
         rebuild_run(app);
       }}},
      {"set_budget", {false, [](App& app, const json& j, json&) {
         const int L = j.at("budget").get<int>();
         const std::vector<int>& choices = app.run.budget_choices;
         if (std::find(choices.begin(), choices.end(), L) == choices.end()) {
           std::string list;
           for (int c : choices) list += (list.empty() ? "" : ", ") + std::to_string(c);
           throw Refused("budget " + std::to_string(L) + " not available here (" + (list.empty() ? "none" : list) + ")");
         }
         app.settings.budget = L;
         rebuild_run(app);
       }}},
      {"next", {true, [](App& app, const json&, json&) { step_next(app); }}},
      {"prev", {true, [](App& app, const json&, json&) { step_prev(app); }}},
      {"reset", {true, [](App& app, const json&, json&) { step_reset(app); }}},
      {"goto", {true, [](App& app, const json& j, json&) { step_goto(app, j.at("iteration").get<int>()); }}},
      {"play", {true, [](App& app, const json& j, json&) {
         set_playing(app, j.value("on", !app.run.playing), ImGui::GetCurrentContext() ? ImGui::GetTime() : 0.0);
       }}},
      {"finish_reference", {false, [](App& app, const json&, json&) { finish_reference(app); }}},
      {"bench_forward", {false, [](App& app, const json& j, json& reply) {
         const double ms = bench_forward(app, j.value("n", 256), j.value("reps", 5));
         if (ms < 0) throw Refused("no model loaded");
         reply["ms"] = ms;
       }}},
      {"model_fetching", {false, [](App& app, const json& j, json&) {
         app.model = ModelPanel{};
         app.model.status = ModelStatus::kFetching;
         app.model.url = j.value("url", "");
         rebuild_run(app);
       }}},
      {"model_fetched", {false, [](App& app, const json& j, json&) {
         app.model.url = j.value("url", app.model.url);
         app.model.dir = j.at("dir").get<std::string>();
         app.model.files.clear();
         for (const json& f : j.value("files", json::array()))
           app.model.files.push_back({f.at("name").get<std::string>(), f.value("bytes", int64_t(0))});
         apply_fetched_model(app);
       }}},
      // A picked or dropped folder: the page lists it, then writes each batch of files the
      // reply's "read" asks for into "dir" and sends folder_read, until "read" is empty.
      {"folder_picked", {false, [](App& app, const json& j, json& reply) {
         std::vector<ModelFile> files;
         for (const json& f : j.at("files")) files.push_back({f.at("name").get<std::string>(), f.value("bytes", int64_t(0))});
         reply["read"] = pick_folder(app, j.value("folder", std::string("folder")), std::move(files));
         reply["dir"] = app.model.dir;
       }}},
      {"folder_read", {false, [](App& app, const json&, json& reply) {
         reply["read"] = folder_read(app);
         reply["dir"] = app.model.dir;
       }}},
      {"model_fetch_failed", {false, [](App& app, const json& j, json&) {
         app.model.status = ModelStatus::kError;
         app.model.url = j.value("url", app.model.url);
         app.model.error = j.value("error", "the model could not be fetched");
         app.model.config.reset();
         app.model.model.reset();
         rebuild_run(app);
       }}},
  };
  return table;
}

}  // namespace

bool app_ready(const App& app) {
  const bool drawn = app.frame >= 2 && app.width > 0;
  const bool settled = app.model.status == ModelStatus::kLoaded || app.model.status == ModelStatus::kError;
  return drawn && settled;
}

std::string state_json(const App& app) {
  const TextPanel& t = app.text;
  const ControlRects& c = app.controls;
  const json j = {
      {"ready", app_ready(app)},
      {"frame", app.frame},
      {"fps", app.fps},
      {"canvas", {app.width, app.height}},
      {"platform", {{"name", app.platform.platform}, {"simd128", app.platform.simd128},
                    {"simd_target", app.platform.simd_target},
                    {"gl", app.platform.gl_version}, {"font", app.platform.font}}},
      {"text", t.text},
      {"text_box", rect_json(t.text_box)},
      {"tokens", tokens_json(t)},
      {"truncated", t.truncated},
      {"target", t.target},
      {"model", model_json(app.model)},
      {"heap", heap_json()},
      {"run", run_json(app)},
      {"controls", {{"reset", rect_json(c.reset)}, {"prev", rect_json(c.prev)}, {"play", rect_json(c.play)},
                    {"next", rect_json(c.next)}, {"slider", rect_json(c.slider)},
                    {"schedule", rect_json(c.schedule)}, {"budget", rect_json(c.budget)}}},
  };
  // Token texts are raw bytes (half a UTF-8 character, often): invalid ones become U+FFFD.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string command(App& app, std::string_view text) {
  auto fail = [](const std::string& why) { return json{{"ok", false}, {"error", why}}.dump(); };
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("cmd") || !j["cmd"].is_string())
    return fail("expected a JSON object with a \"cmd\" string");
  const std::string name = j["cmd"].get<std::string>();
  const auto& table = commands();
  const auto found = table.find(name);
  if (found == table.end()) {
    std::string names;
    for (const auto& [known, spec] : table) names += (names.empty() ? "" : ", ") + known;
    return fail("unknown cmd \"" + name + "\" (" + names + ")");
  }
  const Command& c = found->second;
  if (c.needs_run && !app.run.inference) return fail(name + ": no run (" + app.run.message + ")");
  json reply = {{"ok", true}};
  try {
    c.apply(app, j, reply);
  } catch (const Refused& e) {
    return fail(e.what());
  } catch (const std::exception& e) {
    return fail(name + ": " + e.what());
  }
  if (!app.run.message.empty() && app.run.inference) reply["warning"] = app.run.message;
  return reply.dump();
}

}  // namespace strata::web
