// How the panels write numbers and predicted tokens: sizes, FLOPs, times, grouped counts,
// and a token's text for bars and tooltips. Plain strings, no ImGui.
#pragma once
#include <cstdint>
#include <string>

#include "strata/tokenizer.h"

namespace strata::web::format {

std::string bytes(int64_t n);    // "812 B", "3.4 KB", "10.9 MB", "3.75 GB" (binary units)
std::string flops(double f);     // "12 k", "3.4 M", "1.25 G"
std::string ms(double ms);       // "12.3 ms", "1.25 s"
std::string grouped(int64_t n);  // 12345 -> "12,345"

// A prediction's text (strata::printable_bytes): quoted, newline as ¶; a token of only
// whitespace as the chips show it (· per space, ¶ per newline); an id the tokenizer does not
// know as <id N>.
std::string quoted_token(const Tokenizer& tok, int32_t id);

}  // namespace strata::web::format
