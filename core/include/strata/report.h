// The analysis report of a sweep (method.md, issue 4): summary.json, the numbers, and
// report.html, one self-contained page that draws them. The page is rendered from the
// summary alone, so a summary.json on disk is enough to redraw a report.
//
//   SweepResult r = run_sweep(model, tokens, options, on_row, progress);
//   nlohmann::ordered_json s = make_summary(r, options, model.config(), info);
//   write_file_atomic(out + "/summary.json", s.dump(2));
//   write_file_atomic(out + "/report.html", make_report_html(s));
//   std::fputs(summary_headline(s).c_str(), stdout);
//
// The sources are in core/src/report/: summary.cpp (a function per section of the
// summary), html.cpp (the page: key numbers and tables), figures.cpp (a function per
// figure), headline.cpp. The CSV tables are csv.h; words are words.h; the whole run of
// `strata analyze` (targets, sweep, rows, summary) is analysis_run.h.
//
// Conventions (ours, stated in the summary and the page):
//  * First-token policy: targets are positions t >= L, so every target has its full budget
//    of context; the first L tokens of a text are context only, never scored.
//  * Rank at a smaller budget L' comes from the leading block of the Gram matrix: a
//    schedule's updates for L' are a prefix of its updates for L (sequential: the first
//    L'-1 columns, hierarchical and dilated: the first log2 L'; one more each with the
//    empty-context iteration, whose update is the first column).
//  * A flat curve (all means equal, e.g. a model that ignores its context) fits exactly
//    with a = 0, beta = 0, c = the common value, r2 = 1, and is flagged "flat": true.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/analysis.h"
#include "strata/config.h"
#include "strata/sweep.h"
#include "strata/tokenizer.h"

namespace strata {

// What the summary records besides the sweep itself.
struct ReportInfo {
  std::string model_dir, text_path;  // for the record only
  int64_t text_bytes = 0, text_tokens = 0;
  double tolerance = 1e-2;           // relative rank tolerance τ; must be in (0, 1)
  std::string bos_reason;            // what decided BOS before every context (optional, bos_policy.h)
  double seconds = 0;                // wall time of the whole sweep
  std::string target_selection;      // "blocks", "span", "all", "even", "stride" or "words" (free text, recorded as is)
  std::string target_selection_note; // the choice in words (optional)
  // Optional: the sweep's plan, for why a schedule took the per-target path and the plan's
  // state per target in flight.
  const SweepPlan* plan = nullptr;
  // Optional: with both set, the summary gives the target tokens' mean length in bytes,
  // so bits per token can be read as bits per byte, and the domain check compares that
  // with a compressor-like baseline on the decoded text (byte_model_bits_per_byte).
  const Tokenizer* tokenizer = nullptr;
  std::span<const int32_t> tokens{};
  // Optional: when whole words were the targets, how many, and their surprisal per
  // schedule (WordAggregator::surprisal(), words.h), for the summary's "words" section.
  int64_t word_count = 0;
  const std::vector<SeriesAccumulator>* word_surprisal = nullptr;
};

// Unique labels for the sweep's schedules, in order: the schedule's name, with "#2", "#3"
// appended to repeats (two custom schedules are both named "custom").
std::vector<std::string> schedule_labels(const std::vector<std::string>& names);
std::vector<std::string> schedule_labels(const SweepResult& result);

// A general-purpose compressor's rate on `bytes`, computed here: the adaptive code length
// of an order-2 byte model (each byte coded with Krichevsky–Trofimov estimates given the
// two bytes before it, counts updated as it goes), in bits per byte. On the Adventures
// 3.02 (gzip -9: 2.90, xz -9: 2.40); on the Brown mystery fiction 3.45 (gzip -9: 3.09).
// A language model worse than this on a text is far outside its domain. NaN when empty.
double byte_model_bits_per_byte(std::string_view bytes);

// The numbers of the report. Throws strata::Error on a sweep without targets or schedules,
// schedules whose lengths disagree with each other, or a tolerance outside (0, 1).
// Keys (NaN and infinities are written as null):
//   budget, with_empty, bos.{before_every_context, id}, tolerance, first_token_policy,
//   model{…}, text{…},
//   targets.{count, ranges[[from, to)…], positions[] (up to 10,000 targets), selection,
//     selection_note, stride, mean_bytes?},
//   schedules.{label}.{spec, path ("shared passes" | "per target"), path_reason?,
//     iterations, context_len[], span[], mean_surprisal_bits[], std_error_bits[],
//     token_forwards, token_forwards_per_target, flops (the schedule's own cost),
//     seconds, token_forwards_per_second (per-target path only; null on shared passes)},
//   power_law.{sequential,hierarchical}.{a, beta, c, r2, points, ns[], flat} at
//     n = 1, 2, 4, …, L (null with fewer than 3 points), power_law_all_points.sequential,
//   per_token_contribution.sequential.{context_len[], delta_bits[]},
//   rank.{tolerance, budgets[], sequential[], hierarchical[], sequential_bound[],
//     hierarchical_bound[], effective_rank.{…}[], singular_values.{label}[] (at L, every
//     schedule), sequential_below_half_from, by_schedule.{label}.{budgets[], rank[],
//     bound[], effective_rank[]}},
//   final_gap_bits, final_gap_mean_bits, final_mean_bits.{label},
//   compute.{wall_time_ratio_seq_to_hier (both per target only), token_forward_ratio,
//     flops_ratio (own costs), seconds, own.{token_forwards, flops}, spent.{token_forwards,
//     padding_token_forwards, flops, forward_calls, passes, seconds, gram_seconds,
//     token_forwards_per_second}, sharing_factor (own / spent), gram_form,
//     paths.{shared, per_target}.{schedules[], token_forwards, …}, in_flight.{targets,
//     bytes}},
//   domain.{bits_per_byte, baseline.{name, bits_per_byte}, schedule, first_mean_bits,
//     last_mean_bits, rising, worse_than_baseline, outside, message} (bits per byte and
//     the baseline need the tokenizer and tokens),
//   anytime.{label}.{iteration[], cumulative_flops[], cumulative_token_forwards[],
//     mean_surprisal_bits[]} (per target, cumulative over the iterations),
//   words.{count, stride, policy, mean_surprisal_bits.{label}[]} (only with word targets).
// Keys about sequential or hierarchical are left out (or null) when that schedule was
// not swept; "hierarchical" means base 2.
nlohmann::ordered_json make_summary(const SweepResult& result, const SweepOptions& options, const ModelConfig& config,
                                    const ReportInfo& info);

// report.html from a summary made by make_summary: inline SVG figures (surprisal vs context
// length with the staircase and fits, rank vs budget with both bounds, the anytime curve,
// the rank spectrum at L), tables of the fits and of compute, and a few plain sentences
// under each figure. Throws strata::Error if required keys are missing.
std::string make_report_html(const nlohmann::ordered_json& summary);

// The headline numbers of a summary, as a few indented lines for a terminal: the power
// laws at n = 1, 2, 4, … (with the bound's note when β hits one), the final gap, the two
// main schedules' ranks at L, and each schedule's seconds and token-forwards per second.
std::string summary_headline(const nlohmann::ordered_json& summary);

// The sweep's spent token-forwards against the schedules' own cost, in words: "43.0x less",
// or "1.22x more, padding" when batched passes' padding outweighs what sharing saved.
std::string sharing_words(double own_token_forwards, double spent_token_forwards);

}  // namespace strata
