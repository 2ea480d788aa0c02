// How the panels write numbers and predicted tokens (see format.h).
#include "format.h"

#include <cstdio>
#include <exception>

#include "strata/utf8.h"

namespace strata::web::format {

std::string bytes(int64_t n) {
  char buf[32];
  if (n < 1024) std::snprintf(buf, sizeof buf, "%lld B", (long long)n);
  else if (n < 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f KB", n / 1024.0);
  else if (n < (int64_t(1) << 30)) std::snprintf(buf, sizeof buf, "%.1f MB", n / (1024.0 * 1024.0));
  else std::snprintf(buf, sizeof buf, "%.2f GB", n / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

std::string flops(double f) {
  char buf[32];
  if (f >= 1e9) std::snprintf(buf, sizeof buf, "%.2f G", f / 1e9);
  else if (f >= 1e6) std::snprintf(buf, sizeof buf, "%.1f M", f / 1e6);
  else std::snprintf(buf, sizeof buf, "%.0f k", f / 1e3);
  return buf;
}

std::string ms(double ms) {
  char buf[32];
  if (ms >= 1000) std::snprintf(buf, sizeof buf, "%.2f s", ms / 1e3);
  else std::snprintf(buf, sizeof buf, "%.1f ms", ms);
  return buf;
}

std::string grouped(int64_t n) {
  std::string s = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string quoted_token(const Tokenizer& tok, int32_t id) {
  std::string s;
  try {
    s = printable_bytes(tok.token_text(id), /*keep_newlines=*/true);
  } catch (const std::exception&) {
    return "<id " + std::to_string(id) + ">";
  }
  if (s.find_first_not_of(" \n") == std::string::npos) {  // whitespace: as the chips show it
    std::string out;
    for (char c : s) out += c == '\n' ? "\xC2\xB6" : (s.find('\n') == std::string::npos ? "\xC2\xB7" : "");
    return out;
  }
  std::string out = "\"";
  for (char c : s) out += c == '\n' ? std::string("\xC2\xB6") : std::string(1, c);
  return out + "\"";
}

}  // namespace strata::web::format
