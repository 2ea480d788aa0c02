// Unicode for the tokenizer pipeline: code points of a byte string that may hold ill-formed
// UTF-8, the properties the components ask about, and normalization forms. Every property
// and mapping comes from utf8proc's tables (never hand-written), so it follows one Unicode
// version together with PCRE2's.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace strata::tok {

// The code point at s[i] and its length in bytes. An ill-formed byte is returned as
// kInvalid with length 1, so a walk over any byte string covers every byte once.
inline constexpr char32_t kInvalid = 0xFFFFFFFF;
struct CodePoint {
  char32_t value;
  int length;
};
CodePoint code_point_at(std::string_view s, size_t i);
void append_utf8(std::string& out, char32_t cp);

// Unicode's White_Space property (Rust's char::is_whitespace, which the Hugging Face
// tokenizers use): the separators Zs, Zl, Zp plus U+0009–U+000D and U+0085.
bool is_whitespace(char32_t cp);
bool is_alphanumeric(char32_t cp);   // general category L* or N*
bool is_numeric(char32_t cp);        // N* (Rust's char::is_numeric)
bool is_punctuation(char32_t cp);    // P*, or ASCII punctuation (Rust's is_ascii_punctuation)
bool is_mark(char32_t cp);           // M*

enum class NormalForm { kNFC, kNFD, kNFKC, kNFKD };
// Normalizes each well-formed run of s; ill-formed bytes are kept as they are.
std::string normalize(std::string_view s, NormalForm form);
// Per code point lowercase (simple case mapping, plus U+0130 → "i̇" as Rust's
// char::to_lowercase does); ill-formed bytes kept.
std::string lowercase(std::string_view s);
// Removes combining marks (M*), as the StripAccents normalizer.
std::string strip_marks(std::string_view s);

}  // namespace strata::tok
