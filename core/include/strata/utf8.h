// UTF-8 in one place: where a well-formed sequence starts and ends, and how to show any
// byte string printable. A token is an arbitrary byte string (often half a character), so
// every front-end that shows one (CSV, report, page) goes through printable_bytes().
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace strata {

// Length (1–4) of the well-formed UTF-8 sequence at s[i], or 0 when the bytes there are not
// one (Unicode Table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF, no
// truncated sequence). When code_point is given it receives the decoded value.
int utf8_sequence_length(std::string_view s, size_t i, char32_t* code_point = nullptr);

// A byte string shown as printable, valid UTF-8: well-formed UTF-8 as is; backslash as \\;
// tab, carriage return and (unless keep_newlines) newline as \t \r \n; other control
// characters (C0, DEL, C1) and every byte of an ill-formed sequence as \xNN.
std::string printable_bytes(std::string_view bytes, bool keep_newlines = false);

}  // namespace strata
