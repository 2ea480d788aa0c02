// A tiny model swept over random tokens, for the report's tests (summary, page, headline):
// the sweep, its options, and a ReportInfo that records it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../fixtures.h"
#include "strata/model.h"
#include "strata/report.h"
#include "strata/sweep.h"

namespace strata::fixtures {

struct SweptRun {
  SweepOptions options;
  SweepResult result;
  std::shared_ptr<Weights> weights;
  std::vector<int32_t> tokens;
};

constexpr int kReportVocab = 40;

// `schedules` swept at `budget` over `targets` targets of 60 random tokens (vocabulary 40,
// the last id doubling as BOS for the empty iteration), in batches of 4.
inline SweptRun sweep(bool context_free, std::vector<std::string> schedules, int budget = 8, int targets = 6,
                      bool with_empty = false) {
  SweptRun r;
  const ModelConfig c = tiny_config(kReportVocab);
  r.weights = context_free ? context_free_weights(c, 21) : random_weights(c, 21);
  Transformer model(r.weights);
  r.options.budget = budget;
  r.options.targets = targets;
  r.options.schedules = std::move(schedules);
  r.options.batch = 4;
  r.options.with_empty = with_empty;
  r.options.bos_id = kReportVocab - 1;
  r.tokens = random_tokens(60, kReportVocab, 22);
  r.result = run_sweep(model, r.tokens, r.options);
  return r;
}

inline ReportInfo record(const SweptRun& r, double tol = 1e-2) {
  ReportInfo info;
  info.tolerance = tol;
  info.model_dir = "tiny";
  info.text_path = "random";
  info.text_bytes = int64_t(r.tokens.size());
  info.text_tokens = int64_t(r.tokens.size());
  return info;
}

}  // namespace strata::fixtures
