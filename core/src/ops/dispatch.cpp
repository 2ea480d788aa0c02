// The SIMD target HWY_DYNAMIC_DISPATCH chooses on this CPU (ops.h: simd_target); how the
// kernels are dispatched is described in dispatch.h.
#include "hwy/targets.h"
#include "strata/ops.h"

namespace strata::ops {

const char* simd_target() {
  const int64_t targets = hwy::SupportedTargets() & HWY_TARGETS;
  return hwy::TargetName(targets & -targets);  // lowest bit = best target
}

}  // namespace strata::ops
