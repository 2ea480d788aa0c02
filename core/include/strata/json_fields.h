// Typed, checked reads of the fields of JSON that users hand strata (config.json,
// tokenizer_config.json, a training configuration). nlohmann's get<int>() is undefined
// behaviour on 4.4e20 and silently wraps 4294967552 to 256; these read integers as JSON
// integers (never floats), range-checked in 64 bits, and name the field in the message.
//
//   const int d = int(json_fields::integer(j, "hidden_size", 1, 1 << 16, "config.json"));
//   const double eps = json_fields::number_or(j, "rms_norm_eps", 1e-5, 0, 1, "config.json");
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace strata::json_fields {

// obj[key] as an integer in [lo, hi]. A missing (or null) field is an error for
// integer() and `fallback` for integer_or(); so is a float, a string or a value out of range.
// All throw strata::Error "<where>: <key> must be an integer in [lo, hi], got <value>".
int64_t integer(const nlohmann::json& obj, std::string_view key, int64_t lo, int64_t hi, std::string_view where);
int64_t integer_or(const nlohmann::json& obj, std::string_view key, int64_t fallback, int64_t lo, int64_t hi,
                   std::string_view where);

// A JSON value (an array item, say) as an integer in [lo, hi]; `what` names it in the message.
int64_t integer_value(const nlohmann::json& v, std::string_view what, int64_t lo, int64_t hi, std::string_view where);

// obj[key] as a finite number (integer or float) in [lo, hi], or `fallback` when absent or null.
double number_or(const nlohmann::json& obj, std::string_view key, double fallback, double lo, double hi,
                 std::string_view where);

// obj[key] as a boolean / string, or `fallback` when absent or null.
bool boolean_or(const nlohmann::json& obj, std::string_view key, bool fallback, std::string_view where);
std::string string_or(const nlohmann::json& obj, std::string_view key, std::string_view fallback, std::string_view where);

}  // namespace strata::json_fields
