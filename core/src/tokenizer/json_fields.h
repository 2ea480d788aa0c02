// Typed reads of tokenizer.json fields that throw strata::Error naming the component path
// ("pre_tokenizer.pretokenizers[0] (Split): ..."), never a JSON library exception.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "strata/error.h"

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

// A string field that may be absent or null.
inline std::string get_string_or(const Json& j, const char* key, const std::string& fallback, const Where& w) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw w.error(std::string("\"") + key + "\" must be a string or null, not " + it->dump());
  return it->get<std::string>();
}

inline bool get_bool_or(const Json& j, const char* key, bool fallback, const Where& w) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw w.error(std::string("\"") + key + "\" must be true or false, not " + it->dump());
  return it->get<bool>();
}

// An integer in [lo, hi], never read through a float.
inline int64_t get_int(const Json& v, int64_t lo, int64_t hi, const std::string& what, const Where& w) {
  if (!v.is_number_integer()) throw w.error(what + " must be an integer, not " + v.dump());
  const bool in_range = v.is_number_unsigned() ? v.get<uint64_t>() <= uint64_t(hi)
                                               : v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
  if (!in_range)
    throw w.error(what + " " + v.dump() + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v.is_number_unsigned() ? int64_t(v.get<uint64_t>()) : v.get<int64_t>();
}

inline int64_t get_int_or(const Json& j, const char* key, int64_t fallback, int64_t lo, int64_t hi, const Where& w) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return get_int(*it, lo, hi, std::string("\"") + key + "\"", w);
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
