#include "strata/bos_policy.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "strata/error.h"
#include "strata/file_util.h"

namespace strata {
namespace {

using Json = nlohmann::json;

std::optional<Json> read_json(const std::string& path) {
  if (!file_exists(path)) return std::nullopt;
  try {
    Json j = Json::parse(read_file(path));
    if (!j.is_object()) throw Error(path + ": expected a JSON object");
    return j;
  } catch (const Json::exception& e) {
    throw Error(path + ": malformed JSON (" + e.what() + ")");
  }
}

// A token named by tokenizer_config.json: "<s>", {"content": "<s>", ...} or null.
// Without a tokenizer (token ids scored on their own) a name cannot be looked up: skipped.
std::optional<int32_t> named_token(const std::optional<Json>& config, const char* key, const std::string& path,
                                   const Tokenizer* tok) {
  if (!tok || !config || !config->contains(key) || (*config)[key].is_null()) return std::nullopt;
  const Json& v = (*config)[key];
  std::string name;
  if (v.is_string()) {
    name = v.get<std::string>();
  } else if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    name = v["content"].get<std::string>();
  } else {
    throw Error(path + ": \"" + key + "\" must be a token string or an AddedToken object, not " + v.dump());
  }
  const int id = tok->token_to_id(name);
  if (id < 0) throw Error(path + ": \"" + key + "\" " + Json(name).dump() + " is not a token of tokenizer.json");
  return id;
}

// An id key of config.json / generation_config.json: an integer, or a list (its first).
std::optional<int32_t> id_key(const std::optional<Json>& config, const char* key, const std::string& path,
                              int vocab_size) {
  if (!config || !config->contains(key) || (*config)[key].is_null()) return std::nullopt;
  const Json* v = &(*config)[key];
  if (v->is_array()) {
    if (v->empty()) return std::nullopt;
    v = &(*v)[0];
  }
  if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() >= vocab_size)
    throw Error(path + ": \"" + key + "\" " + v->dump() + " is not a token id in [0, " +
                std::to_string(vocab_size) + ")");
  return int32_t(v->get<int64_t>());
}

}  // namespace

BosMode parse_bos_mode(std::string_view name) {
  if (name == "auto") return BosMode::kAuto;
  if (name == "always") return BosMode::kAlways;
  if (name == "never") return BosMode::kNever;
  throw Error("--bos must be auto, always or never, not \"" + std::string(name) + "\"");
}

const char* bos_mode_name(BosMode mode) {
  switch (mode) {
    case BosMode::kAlways: return "always";
    case BosMode::kNever: return "never";
    default: return "auto";
  }
}

BosPolicy resolve_bos_policy(const std::string& dir, const Tokenizer& tok, BosMode mode) {
  return resolve_bos_policy(dir, &tok, tok.vocab_size(), mode);
}

BosPolicy resolve_bos_policy(const std::string& dir, const Tokenizer* tok, int vocab_size, BosMode mode) {
  const std::string tc_path = dir + "/tokenizer_config.json", gc_path = dir + "/generation_config.json",
                    c_path = dir + "/config.json";
  const std::optional<Json> tc = read_json(tc_path), gc = read_json(gc_path), c = read_json(c_path);
  BosPolicy p;
  p.mode = mode;
  if (auto id = named_token(tc, "bos_token", tc_path, tok)) p.bos_id = *id;
  else if (auto id = id_key(gc, "bos_token_id", gc_path, vocab_size)) p.bos_id = *id;
  else if (auto id = id_key(c, "bos_token_id", c_path, vocab_size)) p.bos_id = *id;
  else if (tok) p.bos_id = tok->bos_id();
  if (auto id = named_token(tc, "eos_token", tc_path, tok)) p.eos_id = *id;
  else if (auto id = id_key(gc, "eos_token_id", gc_path, vocab_size)) p.eos_id = *id;
  else if (auto id = id_key(c, "eos_token_id", c_path, vocab_size)) p.eos_id = *id;

  if (mode == BosMode::kAlways) {
    if (p.bos_id < 0) throw Error(dir + ": --bos always, but no file names a BOS token");
    p.add_bos = true;
    p.reason = "--bos always";
  } else if (mode == BosMode::kNever) {
    p.add_bos = false;
    p.reason = "--bos never";
  } else if (tc && tc->contains("add_bos_token") && !(*tc)["add_bos_token"].is_null()) {
    if (!(*tc)["add_bos_token"].is_boolean())
      throw Error(tc_path + ": \"add_bos_token\" must be true or false, not " + (*tc)["add_bos_token"].dump());
    p.add_bos = (*tc)["add_bos_token"].get<bool>() && p.bos_id >= 0;
    p.reason = "tokenizer_config.json add_bos_token";
  } else {
    const std::vector<int32_t> prefix = tok ? tok->special_prefix() : std::vector<int32_t>{};
    p.add_bos = !prefix.empty() && prefix.front() == p.bos_id;
    p.reason = p.add_bos ? "tokenizer.json post-processor template" : "no file asks for a BOS";
  }
  return p;
}

nlohmann::json to_json(const BosPolicy& p) {
  return {{"before_every_context", p.add_bos}, {"id", p.add_bos ? Json(p.bos_id) : Json()}, {"decided_by", p.reason}};
}

}  // namespace strata
