// GPT-2's bytes-to-unicode map: every byte gets a printable character (printable Latin-1
// as itself, the other 68 bytes U+0100…U+0143 in order), so byte-level token strings in a
// tokenizer.json hold no spaces or control characters.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata::tok {

// The character for byte b, as UTF-8 (1 or 2 bytes).
const std::string& byte_level_char(unsigned char b);
// The byte for code point cp, or -1 when cp is not in the map.
int byte_level_byte(char32_t cp);
std::string bytes_to_byte_level(std::string_view bytes);
// The bytes of a byte-level string; nullopt if a character is outside the map.
std::optional<std::string> byte_level_to_bytes(std::string_view text);

}  // namespace strata::tok
