// The compressor-like baseline of the domain check: the adaptive code length of an order-2
// byte model. See report.h (byte_model_bits_per_byte) and summary.cpp (domain_section).
#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "strata/report.h"

namespace strata {

double byte_model_bits_per_byte(std::string_view bytes) {
  if (bytes.empty()) return std::numeric_limits<double>::quiet_NaN();
  // Counts per context of two bytes, allocated when a context first occurs (a text uses a
  // few thousand of the 65,536). Krichevsky–Trofimov: p(x | c) = (n(c, x) + 1/2) / (n(c) + 128).
  std::vector<std::unique_ptr<std::array<uint32_t, 257>>> counts(size_t(1) << 16);  // [256]: the context's total
  double bits = 0;
  unsigned context = 0;
  for (const char ch : bytes) {
    const unsigned x = static_cast<unsigned char>(ch);
    auto& c = counts[context];
    if (!c) c = std::make_unique<std::array<uint32_t, 257>>(), c->fill(0);
    bits -= std::log2((double((*c)[x]) + 0.5) / (double((*c)[256]) + 128.0));
    ++(*c)[x];
    ++(*c)[256];
    context = ((context << 8) | x) & 0xffff;
  }
  return bits / double(bytes.size());
}

}  // namespace strata
