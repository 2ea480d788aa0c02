// What every fuzz target shares: a scratch directory for targets that read files, and the
// rule that a parser refuses bad input only with strata::Error. Any other exception leaves
// LLVMFuzzerTestOneInput, and libFuzzer reports it (with the input) as a crash.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "strata/error.h"

namespace strata::fuzz {

// A directory of this process's own (in /dev/shm when there is one: files are rewritten on
// every input), removed at exit.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    namespace fs = std::filesystem;
    const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    const fs::path d = base / ("strata-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    static const std::string keep = d.string();
    std::atexit([] { std::error_code ec; fs::remove_all(keep, ec); });
    return d.string();
  }();
  return dir;
}

inline void write_bytes(const std::string& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
}

// An invariant the harness asserts: abort (a libFuzzer crash, with the input saved).
#define STRATA_FUZZ_CHECK(cond)                                                              \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);    \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

}  // namespace strata::fuzz
