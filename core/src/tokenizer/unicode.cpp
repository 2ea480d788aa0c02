#include "tokenizer/unicode.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "strata/utf8.h"

namespace strata::tok {

CodePoint code_point_at(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return {c, 1};
  char32_t cp = 0;
  const int n = utf8_sequence_length(s, i, &cp);
  return n == 0 ? CodePoint{kInvalid, 1} : CodePoint{cp, n};
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

namespace {

utf8proc_category_t category(char32_t cp) {
  if (cp == kInvalid || cp > 0x10FFFF) return UTF8PROC_CATEGORY_CN;
  return utf8proc_category(utf8proc_int32_t(cp));
}

// Calls f(run) for each maximal well-formed run and keep(byte) for each ill-formed byte.
template <class Run, class Keep>
void for_each_run(std::string_view s, Run&& run, Keep&& keep) {
  size_t start = 0, i = 0;
  while (i < s.size()) {
    const CodePoint c = code_point_at(s, i);
    if (c.value == kInvalid) {
      if (start < i) run(s.substr(start, i - start));
      keep(s[i]);
      start = ++i;
    } else {
      i += size_t(c.length);
    }
  }
  if (start < s.size()) run(s.substr(start));
}

bool is_ascii(std::string_view s) {
  for (const char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

}  // namespace

bool is_whitespace(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  if (cp == 0x85) return true;
  const auto c = category(cp);
  return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

bool is_alphanumeric(char32_t cp) {
  const auto c = category(cp);
  return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
         (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

bool is_numeric(char32_t cp) {
  const auto c = category(cp);
  return c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO;
}

bool is_punctuation(char32_t cp) {
  if (cp < 0x80) return (cp >= '!' && cp <= '/') || (cp >= ':' && cp <= '@') || (cp >= '[' && cp <= '`') ||
                        (cp >= '{' && cp <= '~');
  const auto c = category(cp);
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

bool is_mark(char32_t cp) {
  const auto c = category(cp);
  return c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME;
}

std::string normalize(std::string_view s, NormalForm form) {
  if (is_ascii(s)) return std::string(s);  // ASCII is stable under every form
  int options = UTF8PROC_STABLE;
  switch (form) {
    case NormalForm::kNFC: options |= UTF8PROC_COMPOSE; break;
    case NormalForm::kNFD: options |= UTF8PROC_DECOMPOSE; break;
    case NormalForm::kNFKC: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case NormalForm::kNFKD: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  std::string out;
  out.reserve(s.size());
  for_each_run(
      s,
      [&](std::string_view run) {
        utf8proc_uint8_t* result = nullptr;
        const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(run.data()),
                                                utf8proc_ssize_t(run.size()), &result, utf8proc_option_t(options));
        std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(result, &std::free);
        if (n < 0) {
          out += run;  // cannot happen for a well-formed run; keep the bytes rather than lose them
        } else {
          out.append(reinterpret_cast<const char*>(result), size_t(n));
        }
      },
      [&](char byte) { out += byte; });
  return out;
}

std::string lowercase(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const CodePoint c = code_point_at(s, i);
    if (c.value == kInvalid) {
      out += s[i];
    } else if (c.value < 0x80) {
      out += char(c.value >= 'A' && c.value <= 'Z' ? c.value + 32 : c.value);
    } else if (c.value == 0x130) {  // the one unconditional multi-code-point lowercase mapping
      out += "i\xCC\x87";
    } else {
      append_utf8(out, char32_t(utf8proc_tolower(utf8proc_int32_t(c.value))));
    }
    i += size_t(c.length);
  }
  return out;
}

std::string strip_marks(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const CodePoint c = code_point_at(s, i);
    if (c.value == kInvalid || !is_mark(c.value)) out.append(s.substr(i, size_t(c.length)));
    i += size_t(c.length);
  }
  return out;
}

}  // namespace strata::tok
