// The browser demo's app compiled to WASM and run under node by ctest, in three parts:
//   1. the run logic (run.h) with no ImGui context at all: tokens, model loading through the
//      core (good and bad directories, written by tests/core/fixtures.h), stepping every
//      schedule against IterativeInference run directly, budgets and levels from the core's
//      Schedule, playback, the reference;
//   2. the test API (test_api.h): commands in order, the JSON state, `ready`;
//   3. whole UI frames drawn headless (ImGui without a renderer).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "fixtures.h"
#include "imgui.h"
#include "panels.h"
#include "run.h"
#include "strata/file_util.h"
#include "strata/ops.h"
#include "strata/schedule.h"
#include "test_api.h"

using nlohmann::json;
using namespace strata::web;
namespace fixtures = strata::fixtures;

namespace {

int g_failures = 0;
#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                                  \
    }                                                                                \
  } while (0)

json state(const App& app) { return json::parse(state_json(app)); }
json cmd(App& app, const json& c) { return json::parse(command(app, c.dump())); }

std::vector<ModelFile> files_in(const std::string& dir) {
  std::vector<ModelFile> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back({e.path().filename().string(), int64_t(e.file_size())});
  return files;
}

json files_json(const std::string& dir) {
  json files = json::array();
  for (const ModelFile& f : files_in(dir)) files.push_back({{"name", f.name}, {"bytes", f.bytes}});
  return files;
}

// What model_fetched does, through the run logic only.
void fetch(App& app, const std::string& dir) {
  app.model.url = "model/";
  app.model.dir = dir;
  app.model.files = files_in(dir);
  apply_fetched_model(app);
}

std::vector<int32_t> ids_of(const App& app) {
  std::vector<int32_t> ids;
  for (const Token& t : app.text.tokens) ids.push_back(t.id);
  return ids;
}

// =======================================================================================
// 1. The run logic, without ImGui

void test_tokens() {
  CHECK(ImGui::GetCurrentContext() == nullptr);
  App app;
  init_app(app);  // no model yet: the byte-level tokenizer
  CHECK(!app.text.text.empty());
  CHECK(app.text.tokens.size() == std::min<size_t>(app.text.text.size(), 256));
  CHECK(app.text.target == int(app.text.tokens.size()) - 1);  // default: the last token
  CHECK(app.run.inference == nullptr && app.run.message == "Waiting for the model...");

  app.text.text = "a b\n\xC3\xA9\\";
  retokenize(app.text, *app.model.tokenizer);
  const std::vector<Token>& t = app.text.tokens;
  CHECK(t.size() == 7);
  CHECK(t[1].label == "\xC2\xB7");                  // a lone space
  CHECK(t[3].label == "\xC2\xB6" && t[3].line_break);  // newline
  CHECK(t[4].id == 0xC3 && t[4].text == "\\xC3");  // half a UTF-8 character: strata::printable_bytes
  CHECK(t[6].text == "\\\\");                       // a backslash, escaped as printable_bytes does
  CHECK(app.text.target == 6);

  app.text.target = 2;
  app.text.text = "ab";
  retokenize(app.text, *app.model.tokenizer);
  CHECK(app.text.target == 1);  // out of range: back to the last token
  app.text.text = "a";
  retokenize(app.text, *app.model.tokenizer);
  CHECK(app.text.target == -1);  // one token: nothing to predict it from

  app.text.max_tokens = 4;
  app.text.text = "abcdefgh";
  retokenize(app.text, *app.model.tokenizer);
  CHECK(app.text.tokens.size() == 4 && app.text.truncated);
}

void test_model_loading() {
  namespace fs = std::filesystem;
  App app;
  init_app(app);
  const strata::ModelConfig c = fixtures::write_byte_model_dir("/good", /*context=*/64);
  fetch(app, "/good");
  CHECK(app.model.status == ModelStatus::kLoaded);
  CHECK(app.model.error.empty());
  CHECK(app.model.config && app.model.config->parameter_count() == c.parameter_count());
  CHECK(app.text.max_tokens == 64 && app.text.tokens.size() == 64 && app.text.truncated);
  CHECK(app.text.target == 63);  // a new model: the last token
  CHECK(app.run.inference != nullptr);
  // The budget is the schedule's default for target 63 under a context of 64.
  CHECK(app.run.default_budget == strata::make_schedule("hierarchical")->default_budget(63, 64));
  CHECK(app.run.budget == app.run.default_budget && app.run.budget == 32);

  // A bad config: the core's error is shown, nothing throws, the old model is dropped.
  fs::create_directories("/bad");
  fs::copy("/good", "/bad", fs::copy_options::overwrite_existing | fs::copy_options::recursive);
  strata::write_file_atomic("/bad/config.json", "{ this is not json");
  fetch(app, "/bad");
  CHECK(app.model.status == ModelStatus::kError);
  CHECK(app.model.error.find("malformed JSON") != std::string::npos);
  CHECK(!app.model.config && !app.model.model);
  CHECK(app.model.tokenizer->vocab_size() == strata::Tokenizer::kByteVocabSize);
  CHECK(app.run.inference == nullptr);
  CHECK(app.run.message == "No model: it could not be loaded (see Model below).");

  // A truncated weights file.
  fs::copy("/good/config.json", "/bad/config.json", fs::copy_options::overwrite_existing);
  const std::string weights = strata::read_file("/good/model.safetensors");
  strata::write_file_atomic("/bad/model.safetensors", weights.substr(0, weights.size() / 2));
  fetch(app, "/bad");
  CHECK(app.model.status == ModelStatus::kError);
  CHECK(app.model.error.find("model.safetensors") != std::string::npos);
  std::printf("truncated weights: %s\n", app.model.error.c_str());

  // No tokenizer.json: strata::load_model names it.
  fs::remove_all("/notok");
  fs::create_directories("/notok");
  fs::copy("/good/config.json", "/notok/config.json");
  fs::copy("/good/model.safetensors", "/notok/model.safetensors");
  fetch(app, "/notok");
  CHECK(app.model.status == ModelStatus::kError);
  CHECK(app.model.error.find("tokenizer.json") != std::string::npos);

  // No files at all (a build without assets/model/).
  app.model.files.clear();
  app.model.dir = "/none";
  apply_fetched_model(app);
  CHECK(app.model.status == ModelStatus::kError);
  CHECK(app.model.error.find("no model files at model/") != std::string::npos);

  // And a good one again.
  fetch(app, "/good");
  CHECK(app.model.status == ModelStatus::kLoaded && app.run.inference != nullptr);
}

// What web/index.html does with a picked folder: folder_picked with the names and sizes,
// then each batch the reply asks for copied into its dir, and folder_read, until the reply
// asks for nothing. `sizes` overrides a file's size as the page would report it. Returns the
// names handed over, in order.
std::vector<std::string> pick(App& app, const std::string& src, const std::map<std::string, int64_t>& sizes = {}) {
  json files = files_json(src);
  for (json& f : files)
    if (sizes.count(f["name"])) f["bytes"] = sizes.at(f["name"]);
  json reply = cmd(app, {{"cmd", "folder_picked"}, {"folder", "tiny"}, {"files", files}});
  std::vector<std::string> handed;
  while (reply["ok"] == true && !reply["read"].empty()) {
    for (const json& name : reply["read"]) {
      std::filesystem::copy_file(src + "/" + name.get<std::string>(), reply["dir"].get<std::string>() + "/" + name.get<std::string>(),
                                 std::filesystem::copy_options::overwrite_existing);
      handed.push_back(name);
    }
    reply = cmd(app, {{"cmd", "folder_read"}});
  }
  CHECK(reply["ok"] == true);
  return handed;
}

void test_picked_folder() {
  namespace fs = std::filesystem;
  App app;
  init_app(app);
  const strata::ModelConfig c = fixtures::write_byte_model_dir("/pick-good", /*context=*/64);
  fs::create_directories("/pick-good/extra");  // neither read nor a problem
  strata::write_file_atomic("/pick-good/README.md", "not read");
  // Config first, then the weights and tokenizer; loaded through the core, the files removed.
  CHECK(pick(app, "/pick-good") == std::vector<std::string>({"config.json", "model.safetensors", "tokenizer.json"}));
  CHECK(app.model.status == ModelStatus::kLoaded && app.model.error.empty());
  CHECK(app.model.url == "tiny/" && app.model.dtypes == "F32");
  CHECK(app.model.config && app.model.config->parameter_count() == c.parameter_count());
  CHECK(app.run.inference != nullptr && app.text.target == int(app.text.tokens.size()) - 1);
  CHECK(!fs::exists(kPickedDir));
  json s = state(app);
  CHECK(s["model"]["memory"]["weights"] == 4 * c.parameter_count());
  CHECK(s["model"]["memory_limit"] == kMaximumMemory - kPageReserve && kMaximumMemory == (uint64_t(1) << 32));

  // Shards with an index: the index and every shard are read.
  fs::remove_all("/pick-shards");
  fs::create_directories("/pick-shards");
  fs::copy("/pick-good/config.json", "/pick-shards/config.json");
  fs::copy("/pick-good/tokenizer.json", "/pick-shards/tokenizer.json");
  fs::copy("/pick-good/model.safetensors", "/pick-shards/model-00001-of-00001.safetensors");
  json index = {{"weight_map", json::object()}};
  for (const auto& t : strata::parameter_layout(c)) index["weight_map"][t.name] = "model-00001-of-00001.safetensors";
  strata::write_file_atomic("/pick-shards/model.safetensors.index.json", index.dump());
  CHECK(pick(app, "/pick-shards") == std::vector<std::string>({"config.json", "model.safetensors.index.json",
                                                               "model-00001-of-00001.safetensors", "tokenizer.json"}));
  CHECK(app.model.status == ModelStatus::kLoaded);

  // No config.json: one line, nothing read, nothing loaded.
  fs::remove_all("/pick-noconfig");
  fs::create_directories("/pick-noconfig");
  fs::copy("/pick-good/model.safetensors", "/pick-noconfig/model.safetensors");
  CHECK(pick(app, "/pick-noconfig").empty());
  CHECK(app.model.status == ModelStatus::kError && !app.model.model && app.run.inference == nullptr);
  CHECK(app.model.error.find("no config.json") != std::string::npos && app.model.error.find('\n') == std::string::npos);

  // Too large by the files' sizes, as the page would report them: only config.json is read,
  // and the refusal names the need and the limit. Two shards of 1.9 GB: over 3.75 GB in all.
  const int64_t shard = int64_t(19) * (int64_t(1) << 30) / 10;
  fs::copy("/pick-shards/model-00001-of-00001.safetensors", "/pick-shards/model-00002-of-00002.safetensors");
  CHECK(pick(app, "/pick-shards", {{"model-00001-of-00001.safetensors", shard}, {"model-00002-of-00002.safetensors", shard}}) ==
        std::vector<std::string>({"config.json"}));
  CHECK(app.model.status == ModelStatus::kError && !app.model.model);
  CHECK(app.model.error.find("too large for the page") != std::string::npos);
  CHECK(app.model.error.find("weight files 3.80 GB") != std::string::npos);
  CHECK(app.model.error.find("3.75 GB a model may use here (4.00 GB wasm32 memory") != std::string::npos);
  std::printf("too large: %s\n", app.model.error.c_str());
  fs::remove("/pick-shards/model-00002-of-00002.safetensors");
  // One 2 GB file: wasm32 cannot read it into one buffer, whatever the total.
  CHECK(pick(app, "/pick-good", {{"model.safetensors", int64_t(2) << 30}}) == std::vector<std::string>({"config.json"}));
  CHECK(app.model.error.find("model.safetensors is 2.00 GB, and wasm32 cannot read a file of 2 GB") != std::string::npos);

  // Too large by its config (a huge declared shape over small files): refused the same way.
  strata::ModelConfig huge = c;
  huge.hidden_size = 8192;
  huge.num_attention_heads = 64;
  huge.num_key_value_heads = 8;
  huge.head_dim = 128;
  huge.intermediate_size = 28672;
  huge.num_hidden_layers = 80;
  fs::create_directories("/pick-huge");
  fs::copy("/pick-good", "/pick-huge", fs::copy_options::overwrite_existing | fs::copy_options::recursive);
  strata::write_config(huge, "/pick-huge/config.json");
  CHECK(pick(app, "/pick-huge") == std::vector<std::string>({"config.json"}));
  CHECK(app.model.error.find("too large for the page") != std::string::npos);
  CHECK(app.model.memory && app.model.memory->weights == 4 * uint64_t(huge.parameter_count()));
  // Float32 weights of 2 GB or more are one allocation wasm32 cannot make: just over 2^29
  // parameters are refused so, though their total need (2.0 GB + files) is under the limit.
  huge = c;
  huge.vocab_size = 1 << 20;
  huge.hidden_size = 512;
  huge.num_hidden_layers = 1;
  huge.num_attention_heads = 8;
  huge.num_key_value_heads = 8;
  huge.head_dim = 64;
  huge.intermediate_size = 1;
  huge.tie_word_embeddings = true;
  strata::write_config(huge, "/pick-huge/config.json");
  const int64_t over = huge.parameter_count() - (int64_t(1) << 29);  // the layer's and norm's parameters
  CHECK(over > 0);
  CHECK(pick(app, "/pick-huge") == std::vector<std::string>({"config.json"}));
  CHECK(app.model.error.find("wasm32 cannot allocate 2 GB or more at once (at most 536870911 float32 parameters)") != std::string::npos);

  // The estimate's parts, and the limit as a parameter.
  // F32 files (4 bytes a parameter): the loader copies every tensor; 16-bit files: only the
  // vectors are widened, the matrices stay in the files' bytes.
  const uint64_t params = uint64_t(c.parameter_count());
  const ModelMemory m = model_memory(c, 4 * params, 10);
  CHECK(m.weights == 4 * params && m.weights_16 == 0 && m.files == 4 * params && m.tokenizer == 160);
  const ModelMemory m16 = model_memory(c, 2 * params, 10);
  CHECK(m16.weights_16 == 0 && m16.weights > 0 && m16.weights < params / 4);
  CHECK(m.total() == m.weights + m.files + m.tokenizer + m.activations + m.packing && m.activations > 0);
  CHECK(weight_reads("/pick-good", files_in("/pick-good"), nullptr).size() == 2);
  bool refused = false;
  try {
    weight_reads("/pick-good", files_in("/pick-good"), nullptr, /*limit=*/1000);
  } catch (const strata::Error&) {
    refused = true;
  }
  CHECK(refused);

  // A config the core refuses: its message.
  strata::write_file_atomic("/pick-huge/config.json", R"({"model_type": "bert"})");
  CHECK(pick(app, "/pick-huge") == std::vector<std::string>({"config.json"}));
  CHECK(app.model.error.find("bert") != std::string::npos);
  // folder_read with no folder picked is an error in the panel, not a crash.
  CHECK(cmd(app, {{"cmd", "folder_read"}})["read"].empty());
  CHECK(app.model.status == ModelStatus::kError);

  // And a good one again after all that.
  pick(app, "/pick-good");
  CHECK(app.model.status == ModelStatus::kLoaded && app.run.inference != nullptr);
}

// Stepping through the app gives exactly what the core's step API gives; budgets and levels
// are the core Schedule's.
void test_stepping() {
  CHECK(ImGui::GetCurrentContext() == nullptr);
  App app;
  init_app(app);
  fixtures::write_byte_model_dir("/step", /*context=*/64);
  fetch(app, "/step");
  app.text.text = "It was a dark and stormy night; the rain fell in torrents.";
  retokenize(app.text, *app.model.tokenizer);
  app.text.target = 40;
  rebuild_run(app);
  const Run& r = app.run;
  const auto hierarchical = strata::make_schedule("hierarchical");
  CHECK(r.inference != nullptr && r.message.empty());
  CHECK(r.budget_choices == hierarchical->budget_choices(40, 64));
  CHECK(r.budget_choices == std::vector<int>({1, 2, 4, 8, 16, 32}));
  CHECK(r.default_budget == 32 && r.budget == 32);
  CHECK(r.inference->iterations() == 6 && r.view == -1 && shown_step(r) == nullptr);
  // The legend: the levels of the largest context, 1, 2, 3-4, ..., 17-32 tokens back.
  CHECK(r.levels.size() == 6);
  CHECK(r.levels[0].level == 0 && r.levels[0].nearest == 1 && r.levels[0].farthest == 1);
  CHECK(r.levels[5].level == 5 && r.levels[5].nearest == 17 && r.levels[5].farthest == 32);
  CHECK(r.largest_levels.size() == 32);
  for (size_t i = 0; i < r.largest_levels.size(); ++i)
    CHECK(r.largest_levels[i] == hierarchical->level_of_offset(40 - r.inference->contexts().back().positions[i], 32));

  // The same run straight through the core.
  strata::IterativeInference direct(*app.model.model, ids_of(app), 40, strata::make_schedule("hierarchical"), 32,
                                    {.top_k = 8});
  direct.run_all();
  for (int k = 0; k < 6; ++k) {
    step_next(app);
    const strata::IterationResult* cur = shown_step(r);
    const strata::IterationResult& want = direct.history()[size_t(k)];
    CHECK(r.view == k && cur != nullptr);
    if (!cur) continue;
    CHECK(cur->context.size() == (1 << k));
    CHECK(cur->context.positions == want.context.positions);
    CHECK(cur->levels == want.levels);  // IterationResult::levels, filled by the core
    CHECK(cur->levels.front() == k && cur->levels.back() == 0);
    CHECK(std::abs(cur->surprisal_bits - want.surprisal_bits) < 1e-9);
    CHECK(cur->target_rank == want.target_rank);
    CHECK(cur->top.size() == 8);
  }
  step_next(app);  // past the end: stays
  CHECK(r.view == 5);
  step_prev(app);
  CHECK(r.view == 4);
  CHECK(r.inference->history().size() == 6);  // going back recomputes nothing
  step_reset(app);
  CHECK(r.view == -1 && r.inference->history().empty());
  step_goto(app, 3);
  CHECK(r.view == 3 && r.inference->history().size() == 4);

  // The sequential reference: the last point equals the hierarchical last level.
  finish_reference(app);
  CHECK(r.reference && r.reference->history().size() == 32);
  CHECK(std::abs(r.reference->history().back().surprisal_bits - direct.history()[5].surprisal_bits) < 1e-6);

  // Other schedules and budgets: the choices and the default follow the schedule.
  app.settings.base = 3;
  rebuild_run(app);
  CHECK(r.spec == "hierarchical:3");
  CHECK(r.budget_choices == strata::make_schedule("hierarchical:3")->budget_choices(40, 64));
  CHECK(r.budget == 27 && r.levels.size() == 4 && r.levels[3].nearest == 10 && r.levels[3].farthest == 27);
  app.settings.budget = 9;
  rebuild_run(app);
  CHECK(r.budget == 9 && r.inference->iterations() == 3);
  app.settings.budget = 8;  // not a power of 3: the default instead
  rebuild_run(app);
  CHECK(r.budget == 27);

  app.settings.kind = ScheduleKind::kDilated;
  rebuild_run(app);
  CHECK(r.spec == "dilated" && r.budget == 32);
  step_goto(app, 2);
  CHECK(shown_step(r)->context.positions == std::vector<int64_t>({36, 38, 39}));
  CHECK(shown_step(r)->levels == std::vector<int>({2, 1, 0}));
  // Its legend lists the offsets the levels really hold: 1, 2, 4, ..., 32.
  CHECK(r.levels.size() == 6 && r.levels[2].nearest == 4 && r.levels[2].farthest == 4);

  app.settings.kind = ScheduleKind::kSequential;
  rebuild_run(app);
  CHECK(r.spec == "sequential" && r.inference->iterations() == 32);
  step_goto(app, 4);  // 5 tokens: the doubling bands of Schedule::level_of_offset
  CHECK(shown_step(r)->levels == std::vector<int>({3, 2, 2, 1, 0}));
  CHECK(r.levels.size() == 6);

  // A target without history.
  app.settings.kind = ScheduleKind::kHierarchical;
  app.settings.base = 2;
  app.text.target = 0;
  rebuild_run(app);
  CHECK(r.inference == nullptr && !r.message.empty() && r.budget_choices.empty());
  app.text.target = 40;
  rebuild_run(app);

  // Playback steps on update_app's clock.
  set_playing(app, true, 100.0);
  update_app(app, 100.0);
  CHECK(r.view == 0);
  update_app(app, 100.1);
  CHECK(r.view == 0);
  update_app(app, 101.0);
  CHECK(r.view == 1);
  set_playing(app, false, 101.0);

  // The reference, a little per frame: after enough frames, all of it.
  for (int i = 0; i < 200 && !r.reference->done(); ++i) update_app(app, 102.0 + i);
  CHECK(r.reference->done());

  const double ms = bench_forward(app, 64, 2);
  CHECK(ms > 0);
  std::printf("tiny model, 64 tokens: %.3f ms per forward\n", ms);
  CHECK(ImGui::GetCurrentContext() == nullptr);  // all of the above without ImGui
}

// =======================================================================================
// 2. The test API

void test_commands() {
  App app;
  init_app(app);
  CHECK(cmd(app, {{"cmd", "set_text"}, {"text", "a b\n\xC3\xA9"}})["ok"] == true);
  json s = state(app);
  CHECK(s["tokens"].size() == 6);
  CHECK(s["tokens"][4]["label"] == "\\xC3");
  CHECK(s["target"] == 5);
  CHECK(cmd(app, {{"cmd", "select_target"}, {"index", 2}})["ok"] == true);
  CHECK(state(app)["target"] == 2);
  CHECK(cmd(app, {{"cmd", "select_target"}, {"index", 6}})["error"] == "index 6 out of range [-1, 6)");
  CHECK(state(app)["run"]["ready"] == false);  // no model
  CHECK(cmd(app, {{"cmd", "nonsense"}})["ok"] == false);
  CHECK(json::parse(command(app, "{not json"))["ok"] == false);
  CHECK(cmd(app, {{"cmd", "set_text"}})["ok"] == false);  // missing field

  app = App{};  // afresh: a model over the short text above would leave its default budget
                // (4) in the settings, and rebuild_run keeps a budget the schedule offers
  init_app(app);
  fixtures::write_byte_model_dir("/api", /*context=*/64);
  CHECK(cmd(app, {{"cmd", "model_fetching"}, {"url", "model/"}})["ok"] == true);
  CHECK(state(app)["model"]["status"] == "fetching");
  CHECK(cmd(app, {{"cmd", "model_fetched"}, {"url", "model/"}, {"dir", "/api"}, {"files", files_json("/api")}})["ok"] == true);
  CHECK(cmd(app, {{"cmd", "set_text"}, {"text", "It was a dark and stormy night; the rain fell in torrents."}})["ok"] == true);
  CHECK(cmd(app, {{"cmd", "select_target"}, {"index", 40}})["ok"] == true);
  s = state(app);
  CHECK(s["model"]["status"] == "loaded");
  CHECK(s["model"]["config"]["max_position_embeddings"] == 64);
  const json& run = s["run"];
  CHECK(run["budget_choices"] == json({1, 2, 4, 8, 16, 32}));
  CHECK(run["default_budget"] == 32 && run["budget"] == 32);
  CHECK(run["levels"].size() == 6 && run["levels"][5] == json({{"level", 5}, {"nearest", 17}, {"farthest", 32}}));
  CHECK(run["iterations"] == 6 && run["iteration"] == -1 && run["current"].is_null());

  // Commands apply in order, each on what the one before left.
  for (const json& c : {json{{"cmd", "next"}}, json{{"cmd", "next"}}, json{{"cmd", "next"}}, json{{"cmd", "prev"}}})
    CHECK(cmd(app, c) == json({{"ok", true}}));
  s = state(app);
  CHECK(s["run"]["iteration"] == 1 && s["run"]["steps_run"] == 3);
  // run.current is the core's to_json(IterationResult); the history keeps its numbers.
  const strata::IterationResult& h1 = app.run.inference->history()[1];
  CHECK(s["run"]["current"] == json::parse(to_json(h1, *app.model.tokenizer).dump(-1, ' ', false, json::error_handler_t::replace)));
  CHECK(s["run"]["current"]["levels"] == json({1, 0}));
  const json& e = s["run"]["history"][1];
  CHECK(!e.contains("positions") && !e.contains("levels") && !e.contains("top"));
  CHECK(e["surprisal_bits"] == s["run"]["current"]["surprisal_bits"] && e["forward_passes"] == 2);

  CHECK(cmd(app, {{"cmd", "set_schedule"}, {"schedule", "hierarchical"}, {"base", 3}})["ok"] == true);
  CHECK(state(app)["run"]["budget_choices"] == json({1, 3, 9, 27}));
  CHECK(cmd(app, {{"cmd", "set_budget"}, {"budget", 9}})["ok"] == true);
  CHECK(state(app)["run"]["iterations"] == 3);
  CHECK(cmd(app, {{"cmd", "set_budget"}, {"budget", 8}})["error"] == "budget 8 not available here (1, 3, 9, 27)");
  CHECK(cmd(app, {{"cmd", "set_schedule"}, {"schedule", "spiral"}})["ok"] == false);
  CHECK(cmd(app, {{"cmd", "set_schedule"}, {"schedule", "sequential"}, {"base", 9}})["ok"] == false);
  CHECK(state(app)["run"]["spec"] == "hierarchical:3");  // a refused command changes nothing
  CHECK(cmd(app, {{"cmd", "set_schedule"}, {"schedule", "dilated"}})["ok"] == true);
  CHECK(cmd(app, {{"cmd", "goto"}, {"iteration", 2}})["ok"] == true);
  CHECK(state(app)["run"]["current"]["positions"] == json({36, 38, 39}));
  CHECK(cmd(app, {{"cmd", "finish_reference"}})["ok"] == true);
  CHECK(state(app)["run"]["reference"]["computed"] == 32);
  const json b = cmd(app, {{"cmd", "bench_forward"}, {"n", 16}, {"reps", 1}});
  CHECK(b["ok"] == true && b["ms"].get<double>() > 0);
  CHECK(cmd(app, {{"cmd", "model_fetch_failed"}, {"error", "HTTP 404"}})["ok"] == true);
  CHECK(state(app)["model"]["error"] == "HTTP 404");
  CHECK(cmd(app, {{"cmd", "bench_forward"}})["error"] == "no model loaded");
}

// Issue 10: "ready" waits for the model, so that commands sent the moment it is true apply
// (before, it was true while the model was still being fetched: five `next` did nothing,
// replied ok, and the model's arrival rebuilt the run).
void test_ready_waits_for_the_model() {
  App app;
  init_app(app);
  fixtures::write_byte_model_dir("/ready", /*context=*/64);
  CHECK(cmd(app, {{"cmd", "model_fetching"}, {"url", "model/"}})["ok"] == true);
  app.frame = 3;  // as main.cpp counts drawn frames
  app.width = 1280;
  CHECK(state(app)["ready"] == false);               // drawn, but the model is on its way
  CHECK(cmd(app, {{"cmd", "next"}})["ok"] == false);  // refused, not silently dropped
  CHECK(cmd(app, {{"cmd", "model_fetched"}, {"dir", "/ready"}, {"files", files_json("/ready")}})["ok"] == true);
  CHECK(state(app)["ready"] == true);
  for (int i = 0; i < 5; ++i) CHECK(cmd(app, {{"cmd", "next"}})["ok"] == true);
  const json s = state(app);
  CHECK(s["run"]["steps_run"] == 5 && s["run"]["iteration"] == 4 && s["run"]["history"].size() == 5);
  // A model that cannot be loaded is settled too: the page is ready, with nothing to run.
  CHECK(cmd(app, {{"cmd", "model_fetch_failed"}, {"error", "HTTP 404"}})["ok"] == true);
  CHECK(state(app)["ready"] == true);
  CHECK(cmd(app, {{"cmd", "next"}})["ok"] == false);
}

// =======================================================================================
// 3. Frames, headless

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

void test_frames() {
  App app;
  init_app(app);
  fixtures::write_byte_model_dir("/frames", /*context=*/64);
  fetch(app, "/frames");
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

  // Steps drawn with their plot, top-k and compute, under every schedule.
  for (const char* schedule : {"sequential", "dilated", "hierarchical"}) {
    CHECK(cmd(app, {{"cmd", "set_schedule"}, {"schedule", schedule}})["ok"] == true);
    CHECK(cmd(app, {{"cmd", "goto"}, {"iteration", 2}})["ok"] == true);
    draw_frames(app, 2);
  }
  // update_app runs in draw_frames (after a long reference iteration it rests a few frames).
  for (int i = 0; i < 30 && app.run.reference->history().empty(); ++i) draw_frames(app, 1);
  CHECK(state(app)["run"]["reference"]["computed"].get<int>() > 0);

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
  test_tokens();
  test_model_loading();
  test_picked_folder();
  test_stepping();
  test_commands();
  test_ready_waits_for_the_model();
  test_frames();
  if (g_failures) {
    std::fprintf(stderr, "%d check(s) failed\n", g_failures);
    return 1;
  }
  std::printf("web app tests: all checks passed\n");
  return 0;
}
