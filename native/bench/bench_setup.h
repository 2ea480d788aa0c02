// What every strata-bench benchmark shares: where the default model and the text are,
// the model loaded once, and one switch for the thread count of all three thread pools
// (strata's OpenMP, OpenBLAS's own, Eigen's), so a "threads" argument means the same
// thing for every library in a row of the table.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "strata/model_dir.h"

namespace strata::bench {

struct Inputs {
  std::string model_dir;  // --model=DIR, default assets/model of the source tree
  std::string text_path;  // --text=FILE, default ../shared/data/sherlock/adventures.txt
};
Inputs& inputs();

// The model in inputs().model_dir and the text's tokens, loaded on first use.
const LoadedModel& default_model();
// The same model held as stored (F16 for the default): decoding beside llama.cpp's F16.
const LoadedModel& default_model_as_stored();
const std::vector<int32_t>& text_tokens();

// What the benchmarks ask of the model and the text: a context of kContext tokens, and a
// text long enough for the sweeps' targets after a full budget.
constexpr int kContext = 256;
constexpr int kSweepTargets = 64;

// Sets the threads strata (OpenMP), OpenBLAS and Eigen may use; 0: as many as the program
// chose when it started (wait_policy.h: fewer than the cores beside a busy process).
void set_threads(int n);

}  // namespace strata::bench
