// Checked JSON field reads. See json_fields.h.
#include "strata/json_fields.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "strata/error.h"

namespace strata::json_fields {
namespace {

// The field, or nullptr when absent or null.
const nlohmann::json* field(const nlohmann::json& obj, std::string_view key, std::string_view where) {
  if (!obj.is_object()) throw Error(std::string(where) + ": expected a JSON object");
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

// A value for an error message, cut short: a hostile file may hold a megabyte there.
std::string shown(const nlohmann::json& v) {
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

[[noreturn]] void refuse(std::string_view where, std::string_view key, const std::string& wanted, const nlohmann::json& got) {
  throw Error(std::string(where) + ": " + std::string(key) + " must be " + wanted + ", got " + shown(got));
}

int64_t checked_integer(const nlohmann::json& v, std::string_view key, int64_t lo, int64_t hi, std::string_view where) {
  const std::string wanted = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  // nlohmann keeps non-negative integers as unsigned, negative ones as signed, and anything
  // with a fraction or an exponent as a float: a float is refused even when it is whole.
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (hi < 0 || u > uint64_t(hi) || (lo > 0 && u < uint64_t(lo))) refuse(where, key, wanted, v);
    return int64_t(u);
  }
  if (v.is_number_integer()) {
    const int64_t s = v.get<int64_t>();
    if (s < lo || s > hi) refuse(where, key, wanted, v);
    return s;
  }
  refuse(where, key, wanted, v);
}

}  // namespace

int64_t integer(const nlohmann::json& obj, std::string_view key, int64_t lo, int64_t hi, std::string_view where) {
  const nlohmann::json* v = field(obj, key, where);
  if (!v) throw Error(std::string(where) + ": " + std::string(key) + " is missing");
  return checked_integer(*v, key, lo, hi, where);
}

int64_t integer_or(const nlohmann::json& obj, std::string_view key, int64_t fallback, int64_t lo, int64_t hi,
                   std::string_view where) {
  const nlohmann::json* v = field(obj, key, where);
  return v ? checked_integer(*v, key, lo, hi, where) : fallback;
}

int64_t integer_value(const nlohmann::json& v, std::string_view what, int64_t lo, int64_t hi, std::string_view where) {
  return checked_integer(v, what, lo, hi, where);
}

double number_or(const nlohmann::json& obj, std::string_view key, double fallback, double lo, double hi,
                 std::string_view where) {
  const nlohmann::json* v = field(obj, key, where);
  if (!v) return fallback;
  char range[96];
  std::snprintf(range, sizeof range, "a number in [%g, %g]", lo, hi);
  if (!v->is_number()) refuse(where, key, range, *v);
  const double x = v->get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) refuse(where, key, range, *v);
  return x;
}

bool boolean_or(const nlohmann::json& obj, std::string_view key, bool fallback, std::string_view where) {
  const nlohmann::json* v = field(obj, key, where);
  if (!v) return fallback;
  if (!v->is_boolean()) refuse(where, key, "true or false", *v);
  return v->get<bool>();
}

std::string string_or(const nlohmann::json& obj, std::string_view key, std::string_view fallback, std::string_view where) {
  const nlohmann::json* v = field(obj, key, where);
  if (!v) return std::string(fallback);
  if (!v->is_string()) refuse(where, key, "a string", *v);
  return v->get<std::string>();
}

}  // namespace strata::json_fields
