// Well-formed UTF-8 and printable bytes. See utf8.h.
#include "strata/utf8.h"

#include <cstdio>

namespace strata {

int utf8_sequence_length(std::string_view s, size_t i, char32_t* code_point) {
  if (i >= s.size()) return 0;
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = byte(0);
  int length = 0;
  char32_t cp = 0;
  // The allowed range of the second byte depends on the first (Table 3-7).
  unsigned char lo = 0x80, hi = 0xBF;
  if (c < 0x80) {
    length = 1, cp = c;
  } else if (c >= 0xC2 && c <= 0xDF) {
    length = 2, cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3, cp = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4, cp = c & 0x07;
    if (c == 0xF0) lo = 0x90;  // no overlong forms
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + size_t(length) > s.size()) return 0;
  for (int k = 1; k < length; ++k) {
    const unsigned char b = byte(size_t(k));
    if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (code_point) *code_point = cp;
  return length;
}

std::string printable_bytes(std::string_view b, bool keep_newlines) {
  std::string out;
  out.reserve(b.size());
  auto hex = [&](unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02X", c);
    out += buf;
  };
  for (size_t i = 0; i < b.size();) {
    char32_t cp = 0;
    const int len = utf8_sequence_length(b, i, &cp);
    if (len == 0) {
      hex(static_cast<unsigned char>(b[i]));
      ++i;
      continue;
    }
    if (cp == '\\') out += "\\\\";
    else if (cp == '\n') out += keep_newlines ? "\n" : "\\n";
    else if (cp == '\t') out += "\\t";
    else if (cp == '\r') out += "\\r";
    else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))  // C0, DEL, C1 controls
      for (int k = 0; k < len; ++k) hex(static_cast<unsigned char>(b[i + size_t(k)]));
    else out.append(b.substr(i, size_t(len)));
    i += size_t(len);
  }
  return out;
}

}  // namespace strata
