#include "tokenizer/byte_level.h"

#include "tokenizer/unicode.h"

namespace strata::tok {
namespace {

struct Tables {
  std::array<std::string, 256> char_of_byte;
  std::array<int16_t, 0x144> byte_of_code_point;
};

const Tables& tables() {
  static const Tables t = [] {
    Tables t;
    t.byte_of_code_point.fill(-1);
    char32_t next_unprintable = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const char32_t cp = printable ? char32_t(b) : next_unprintable++;
      append_utf8(t.char_of_byte[b], cp);
      t.byte_of_code_point[cp] = int16_t(b);
    }
    return t;
  }();
  return t;
}

}  // namespace

const std::string& byte_level_char(unsigned char b) { return tables().char_of_byte[b]; }

int byte_level_byte(char32_t cp) {
  return cp < tables().byte_of_code_point.size() ? tables().byte_of_code_point[cp] : -1;
}

std::string bytes_to_byte_level(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) out += byte_level_char(static_cast<unsigned char>(c));
  return out;
}

std::optional<std::string> byte_level_to_bytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const CodePoint c = code_point_at(text, i);
    const int b = c.value == kInvalid ? -1 : byte_level_byte(c.value);
    if (b < 0) return std::nullopt;
    out += char(b);
    i += size_t(c.length);
  }
  return out;
}

}  // namespace strata::tok
