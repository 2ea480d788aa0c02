// Checked JSON field reads: integers stay integers, in range, with the field named.
#include "strata/json_fields.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "strata/error.h"

namespace strata {
namespace {

namespace f = json_fields;
using nlohmann::json;

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(JsonFieldsTest, IntegersAreRangeCheckedAsIntegers) {
  const json j = json::parse(R"({"a": 7, "neg": -3, "big": 4294967552, "float": 4.4e20, "whole": 2.0,
                                 "huge": 2e49, "text": "8", "null": null, "u64": 18446744073709551615})");
  EXPECT_EQ(f::integer(j, "a", 1, 10, "cfg"), 7);
  EXPECT_EQ(f::integer(j, "neg", -5, 5, "cfg"), -3);
  EXPECT_EQ(f::integer_or(j, "absent", 42, 1, 100, "cfg"), 42);
  EXPECT_EQ(f::integer_or(j, "null", 42, 1, 100, "cfg"), 42);
  // 4294967552 used to wrap to 256 through get<int>(); 4.4e20 and 2e49 were undefined behaviour.
  for (const char* key : {"big", "float", "whole", "huge", "text", "u64"}) {
    const std::string m = message_of([&] { f::integer(j, key, 1, 1 << 24, "config.json"); });
    EXPECT_NE(m.find(std::string("config.json: ") + key + " must be an integer in [1, 16777216]"), std::string::npos) << m;
  }
  EXPECT_NE(message_of([&] { f::integer(j, "a", 8, 10, "cfg"); }).find("got 7"), std::string::npos);
  EXPECT_NE(message_of([&] { f::integer(j, "neg", 0, 5, "cfg"); }).find("got -3"), std::string::npos);
  EXPECT_NE(message_of([&] { f::integer(j, "absent", 0, 5, "cfg"); }).find("cfg: absent is missing"), std::string::npos);
  EXPECT_NE(message_of([&] { f::integer(json::array(), "a", 0, 5, "cfg"); }).find("expected a JSON object"), std::string::npos);
}

TEST(JsonFieldsTest, NumbersBooleansAndStrings) {
  const json j = json::parse(R"({"eps": 1e-6, "n": 3, "flag": true, "name": "llama", "bad": "x", "long": ")" +
                             std::string(500, 'z') + R"("})");
  EXPECT_DOUBLE_EQ(f::number_or(j, "eps", 1, 0, 1, "cfg"), 1e-6);
  EXPECT_DOUBLE_EQ(f::number_or(j, "n", 1, 0, 10, "cfg"), 3.0);
  EXPECT_DOUBLE_EQ(f::number_or(j, "absent", 0.5, 0, 1, "cfg"), 0.5);
  EXPECT_NE(message_of([&] { f::number_or(j, "n", 1, 0, 1, "cfg"); }).find("n must be a number in [0, 1], got 3"), std::string::npos);
  EXPECT_NE(message_of([&] { f::number_or(j, "bad", 1, 0, 1, "cfg"); }).find("got \"x\""), std::string::npos);
  EXPECT_TRUE(f::boolean_or(j, "flag", false, "cfg"));
  EXPECT_FALSE(f::boolean_or(j, "absent", false, "cfg"));
  EXPECT_NE(message_of([&] { f::boolean_or(j, "n", false, "cfg"); }).find("true or false"), std::string::npos);
  EXPECT_EQ(f::string_or(j, "name", "", "cfg"), "llama");
  EXPECT_EQ(f::string_or(j, "absent", "gemma", "cfg"), "gemma");
  // A hostile value is cut short in the message: one line, not a megabyte.
  const std::string m = message_of([&] { f::integer(j, "long", 0, 1, "cfg"); });
  EXPECT_LT(m.size(), 120u) << m;
}

}  // namespace
}  // namespace strata
