// launch_info: the launcher's environment variables (launcher.h).
#include "launcher.h"

#include <cstdlib>
#include <string>

namespace strata::distributed {

namespace {

// A non-negative integer environment variable, or -1 when unset or not a number.
int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return -1;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return (*end == '\0' && n >= 0 && n < (1L << 30)) ? int(n) : -1;
}

}  // namespace

LaunchInfo launch_info() {
  LaunchInfo info;
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const int n = env_int(name); n > info.size) info.size = n;
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"})
    if (const int r = env_int(name); r > info.rank) info.rank = r;
  // PMIx alone gives no size: a rank above 0 proves there are several.
  if (info.rank >= info.size) info.size = info.rank + 1;
  return info;
}

}  // namespace strata::distributed
