// Cache-blocked transpose: the backward pass reshapes operands with it so that one matmul
// kernel (y = x·wᵀ) computes every product.
#include <algorithm>

#include "strata/ops.h"

namespace strata::ops {

void transpose(float* out, const float* in, int rows, int cols) {
  constexpr int kBlock = 32;
#pragma omp parallel for schedule(static) if (int64_t(rows) * cols > (1 << 16))
  for (int r0 = 0; r0 < rows; r0 += kBlock)
    for (int c0 = 0; c0 < cols; c0 += kBlock)
      for (int r = r0; r < std::min(rows, r0 + kBlock); ++r)
        for (int c = c0; c < std::min(cols, c0 + kBlock); ++c)
          out[size_t(c) * rows + r] = in[size_t(r) * cols + c];
}

}  // namespace strata::ops
