// Typed reads of tokenizer.json fields that throw strata::Error naming the component path
// ("pre_tokenizer.pretokenizers[0] (Split): ..."), never a JSON library exception.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "strata/error.h"
#include "strata/json_fields.h"

namespace strata::tok {

using Json = nlohmann::json;

// A component's place in the file and its type, for messages.
struct Where {
  std::string path;  // e.g. "normalizer.normalizers[1]"
  std::string type;  // e.g. "Replace"; empty before the type is known
  std::string name() const { return type.empty() ? path : path + " (" + type + ")"; }
  Error error(const std::string& what) const { return Error(name() + ": " + what); }
  Where child(const std::string& key) const { return {path + "." + key, ""}; }
  Where item(const std::string& key, size_t i) const { return {path + "." + key + "[" + std::to_string(i) + "]", ""}; }
};

inline const Json& require(const Json& j, const char* key, const Where& w) {
  if (!j.is_object()) throw w.error("expected a JSON object");
  const auto it = j.find(key);
  if (it == j.end()) throw w.error(std::string("missing \"") + key + "\"");
  return *it;
}

inline std::string get_string(const Json& j, const char* key, const Where& w) {
  const Json& v = require(j, key, w);
  if (!v.is_string()) throw w.error(std::string("\"") + key + "\" must be a string, not " + v.dump());
  return v.get<std::string>();
}

// The typed reads themselves are strata::json_fields' (one home for reading users' JSON);
// these name the component in the message.
inline std::string get_string_or(const Json& j, const char* key, const std::string& fallback, const Where& w) {
  return json_fields::string_or(j, key, fallback, w.name());
}

inline bool get_bool_or(const Json& j, const char* key, bool fallback, const Where& w) {
  return json_fields::boolean_or(j, key, fallback, w.name());
}

// An integer in [lo, hi], never read through a float; `what` names it (e.g. an array item).
inline int64_t get_int(const Json& v, int64_t lo, int64_t hi, const std::string& what, const Where& w) {
  return json_fields::integer_value(v, what, lo, hi, w.name());
}

inline int64_t get_int_or(const Json& j, const char* key, int64_t fallback, int64_t lo, int64_t hi, const Where& w) {
  return json_fields::integer_or(j, key, fallback, lo, hi, w.name());
}

// A component object's "type".
inline std::string component_type(const Json& j, Where& w) {
  if (!j.is_object()) throw w.error("expected a component object, not " + j.dump().substr(0, 80));
  w.type = get_string(j, "type", w);
  return w.type;
}

// {"String": "x"} or {"Regex": "x"}: a literal or a regular expression.
struct PatternSpec {
  bool is_regex = false;
  std::string text;
};
inline PatternSpec get_pattern(const Json& j, const Where& w) {
  const Json& p = require(j, "pattern", w);
  if (p.is_object() && p.size() == 1) {
    if (p.contains("String") && p["String"].is_string()) return {false, p["String"].get<std::string>()};
    if (p.contains("Regex") && p["Regex"].is_string()) return {true, p["Regex"].get<std::string>()};
  }
  throw w.error("\"pattern\" must be {\"String\": ...} or {\"Regex\": ...}, not " + p.dump().substr(0, 80));
}

}  // namespace strata::tok
