// The run behind `strata analyze`: the plan (targets by token or by word, labels, shapes,
// cost, the errors a front-end shows), the run's rows and summary against a plain sweep of
// the same targets, and the writer of a sweep run in shards (MPI ranks) against one run.
#include "strata/analysis_run.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "strata/csv.h"
#include "strata/error.h"
#include "strata/report.h"
#include "strata/sweep_wire.h"

#include "fixtures.h"

namespace strata {
namespace {

using ojson = nlohmann::ordered_json;

const std::string kText =
    "To Sherlock Holmes she is always the woman. I have seldom heard him mention her under any other name. "
    "In his eyes she eclipses and predominates the whole of her sex.";

struct Inputs {
  Tokenizer tok;  // byte-level
  std::vector<int32_t> tokens = tok.encode(kText);
  std::shared_ptr<Weights> weights = fixtures::random_weights(fixtures::tiny_config([] {
    fixtures::Shape s;
    s.vocab = Tokenizer::kByteVocabSize;
    return s;
  }()), 41);
};

AnalysisOptions options(bool by_word) {
  AnalysisOptions o;
  o.budget = 8;
  o.schedules = {"sequential", "hierarchical", "custom:[1,3]", "custom:[2]"};
  o.targets = 5;
  o.batch = 3;
  o.by_word = by_word;
  o.model_dir = "tiny";
  o.text_path = "woman.txt";
  o.text_bytes = int64_t(kText.size());
  return o;
}

size_t lines(const std::string& s) { return size_t(std::count(s.begin(), s.end(), '\n')); }

ojson without_times(ojson s) {
  s["compute"]["seconds"] = nullptr;
  s["compute"]["wall_time_ratio_seq_to_hier"] = nullptr;
  for (auto& [name, js] : s["schedules"].items()) js["seconds"] = nullptr, js["token_forwards_per_second"] = nullptr;
  auto untime = [](ojson& spent) {
    for (const char* key : {"seconds", "gram_seconds", "token_forwards_per_second"}) spent[key] = nullptr;
  };
  untime(s["compute"]["spent"]);
  for (auto& [name, path] : s["compute"]["paths"].items()) untime(path);
  return s;
}

TEST(AnalysisRunTest, PlanByToken) {
  const Inputs x;
  const AnalysisPlan p = plan_analysis(options(false), &x.tok, x.tokens, x.weights->config);
  // Every schedule here can share passes, so the targets come as one contiguous block.
  EXPECT_EQ(p.sweep.positions, choose_blocks(int64_t(x.tokens.size()), 8, 5));
  EXPECT_EQ(p.targets(), 5);
  EXPECT_EQ(p.target_selection(), "blocks");
  EXPECT_NE(p.target_selection_note().find("contiguous blocks"), std::string::npos);
  EXPECT_EQ(p.labels, (std::vector<std::string>{"sequential", "hierarchical", "custom", "custom#2"}));
  EXPECT_EQ(p.context_len[1], (std::vector<int>{1, 2, 4, 8}));
  EXPECT_EQ(p.context_len[2], (std::vector<int>{1, 3}));
  EXPECT_EQ(p.token_forwards_per_target, (std::vector<int64_t>{36, 15, 4, 2}));
  EXPECT_EQ(p.own_token_forwards, 5 * (36 + 15 + 4 + 2));
  EXPECT_EQ(p.passes.shared, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(p.spent_token_forwards, p.passes.spent_token_forwards());
  EXPECT_LT(p.spent_token_forwards, p.own_token_forwards / 3);
  EXPECT_TRUE(p.chosen_words.empty());
  AnalysisOptions unshared = options(false);
  unshared.prefix_sharing = false;  // nothing to share: spread evenly, as before
  const AnalysisPlan even = plan_analysis(unshared, &x.tok, x.tokens, x.weights->config);
  EXPECT_EQ(even.target_selection(), "even");
  EXPECT_EQ(even.sweep.positions, choose_targets(int64_t(x.tokens.size()), 8, 5, 0));
  EXPECT_EQ(even.spent_token_forwards, even.own_token_forwards);
  AnalysisOptions strided = options(false);
  strided.stride = 7;
  EXPECT_EQ(plan_analysis(strided, &x.tok, x.tokens, x.weights->config).target_selection(), "stride");
  EXPECT_EQ(plan_analysis(strided, &x.tok, x.tokens, x.weights->config).sweep.positions, (std::vector<int64_t>{8, 15, 22, 29, 36}));
}

TEST(AnalysisRunTest, PlanBySpanAndAll) {
  const Inputs x;
  const int64_t n = int64_t(x.tokens.size());
  AnalysisOptions o = options(false);
  o.span_from = 10, o.span_to = 30;
  AnalysisPlan p = plan_analysis(o, &x.tok, x.tokens, x.weights->config);
  EXPECT_EQ(p.target_selection(), "span");
  ASSERT_EQ(p.targets(), 20);
  EXPECT_EQ(p.sweep.positions.front(), 10);
  EXPECT_EQ(p.sweep.positions.back(), 29);
  o.span_to = -1;  // to the end
  p = plan_analysis(o, &x.tok, x.tokens, x.weights->config);
  EXPECT_EQ(p.targets(), n - 10);
  o = options(false);
  o.all_targets = true;
  p = plan_analysis(o, &x.tok, x.tokens, x.weights->config);
  EXPECT_EQ(p.target_selection(), "all");
  EXPECT_EQ(p.targets(), n - 8);
  EXPECT_EQ(p.sweep.positions.front(), 8);
  o.by_word = true;  // every whole word after the first L tokens
  p = plan_analysis(o, &x.tok, x.tokens, x.weights->config);
  EXPECT_EQ(p.target_selection(), "words");
  int64_t eligible = 0;
  for (const Word& w : p.words.words) eligible += w.first_token >= 8;
  EXPECT_EQ(int64_t(p.chosen_words.size()), eligible);
  o.all_targets = false, o.span_from = 20, o.span_to = 60;  // the whole words inside a span
  p = plan_analysis(o, &x.tok, x.tokens, x.weights->config);
  ASSERT_FALSE(p.chosen_words.empty());
  for (int64_t w : p.chosen_words) {
    EXPECT_GE(p.words.words[size_t(w)].first_token, 20);
    EXPECT_LT(p.words.words[size_t(w)].last_token, 60);
  }
  EXPECT_EQ(p.sweep.positions, word_targets(p.words, p.chosen_words));
}

TEST(AnalysisRunTest, PlanByWord) {
  const Inputs x;
  const AnalysisPlan p = plan_analysis(options(true), &x.tok, x.tokens, x.weights->config);
  EXPECT_EQ(p.target_selection(), "words");
  ASSERT_EQ(p.chosen_words.size(), 5u);
  EXPECT_EQ(p.sweep.positions, word_targets(p.words, p.chosen_words));
  EXPECT_GT(p.targets(), 5);  // every byte of five words
  for (int64_t w : p.chosen_words) EXPECT_GE(p.words.words[size_t(w)].first_token, 8);
}

TEST(AnalysisRunTest, PlanRefusesWhatCannotRun) {
  const Inputs x;
  auto expect_error = [&](AnalysisOptions o, const std::string& fragment) {
    try {
      plan_analysis(o, &x.tok, x.tokens, x.weights->config);
      ADD_FAILURE() << "expected an error containing " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  AnalysisOptions o = options(false);
  o.schedules = {"zigzag"};
  expect_error(o, "unknown schedule");
  o = options(false), o.budget = 6;
  expect_error(o, "power of 2");  // said so, not taken for a short text
  o = options(false), o.targets = 1000;
  expect_error(o, "targets requested");
  o = options(true), o.targets = 1000;
  expect_error(o, "target words requested");
  o = options(false), o.schedules = {};
  expect_error(o, "no schedules");
  o = options(false), o.span_from = 4, o.span_to = 20;
  expect_error(o, "targets start at t = L = 8");
  o = options(false), o.span_from = 10, o.span_to = 100000;
  expect_error(o, "the text has only");
}

TEST(AnalysisRunTest, RowsAndSummaryAreThoseOfThePlainSweep) {
  const Inputs x;
  for (bool by_word : {false, true}) {
    SCOPED_TRACE(by_word ? "by word" : "by token");
    const AnalysisPlan p = plan_analysis(options(by_word), &x.tok, x.tokens, x.weights->config);
    Transformer model(x.weights);
    std::ostringstream tokens_csv, words_csv;
    int64_t rows_seen = 0;
    const ojson s = run_analysis(model, &x.tok, x.tokens, p,
                                 {.tokens_csv = &tokens_csv, .words_csv = by_word ? &words_csv : nullptr,
                                  .on_row = [&](const SweepRow&) { ++rows_seen; }});

    // The same sweep, plainly, with the same table writer.
    std::ostringstream expected_csv;
    TokensCsv writer(expected_csv, &x.tok, p.labels);
    const SweepResult r = run_sweep(model, x.tokens, p.sweep, [&](const SweepRow& row) { writer.add(row); });
    EXPECT_EQ(tokens_csv.str(), expected_csv.str());
    int64_t iterations = 0;
    for (const auto& lens : p.context_len) iterations += int64_t(lens.size());
    EXPECT_EQ(rows_seen, p.targets() * iterations);
    EXPECT_EQ(lines(tokens_csv.str()), size_t(rows_seen) + 1);

    ReportInfo info;
    info.model_dir = "tiny", info.text_path = "woman.txt", info.text_bytes = int64_t(kText.size());
    info.text_tokens = int64_t(x.tokens.size());
    info.target_selection = p.target_selection();
    info.target_selection_note = p.target_selection_note();
    info.plan = &p.passes;
    info.tokenizer = &x.tok, info.tokens = x.tokens;
    std::vector<SeriesAccumulator> word_means;
    if (by_word) {
      std::vector<int> k;
      for (const auto& lens : p.context_len) k.push_back(int(lens.size()));
      WordAggregator agg(p.words, k);
      run_sweep(model, x.tokens, p.sweep, [&](const SweepRow& row) { agg.add(row); });
      word_means = agg.surprisal();
      info.word_count = int64_t(p.chosen_words.size());
      info.word_surprisal = &word_means;
      EXPECT_EQ(lines(words_csv.str()), size_t(info.word_count * iterations) + 1);
      EXPECT_EQ(words_csv.str().rfind(WordsCsv::kHeader, 0), 0u);
      EXPECT_EQ(s["words"]["count"], 5);
    } else {
      EXPECT_FALSE(s.contains("words"));
    }
    EXPECT_EQ(without_times(s).dump(), without_times(make_summary(r, p.sweep, model.config(), info)).dump());
    EXPECT_EQ(s["text"]["path"], "woman.txt");
    EXPECT_EQ(s["targets"]["selection"], by_word ? "words" : "blocks");
  }
}

TEST(AnalysisRunTest, StopsWhenTheRowHookThrowsAndRefusesStraySinks) {
  const Inputs x;
  const AnalysisPlan p = plan_analysis(options(false), &x.tok, x.tokens, x.weights->config);
  Transformer model(x.weights);
  std::ostringstream csv;
  int calls = 0;
  EXPECT_THROW(run_analysis(model, &x.tok, x.tokens, p,
                            {.tokens_csv = &csv, .on_row = [&](const SweepRow&) {
                               if (++calls == 3) throw Error("interrupted");
                             }}),
               Error);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(lines(csv.str()), 3u);  // the header and the two rows before the hook stopped the run
  std::ostringstream words;
  EXPECT_THROW(run_analysis(model, &x.tok, x.tokens, p, {.words_csv = &words}), Error);  // not by word
  EXPECT_NO_THROW(run_analysis(model, &x.tok, x.tokens, p));  // no sinks: the summary only
}

// What a sweep in shards legitimately spends differently: the passes before each shard's
// first target run twice, and the calls and the state in flight differ with the shards.
ojson without_spent(ojson s) {
  s = without_times(s);
  s["compute"].erase("spent");
  s["compute"].erase("paths");
  s["compute"].erase("sharing_factor");
  s["compute"].erase("in_flight");
  return s;
}

// Two summaries alike: the same keys, strings and shapes, numbers within 1e-9 relative
// (merging shards' statistics rounds differently from one stream), but within 1e-6 for the
// power-law fits (their minimum over beta is flat: rounding moves it by up to ~1e-8) and the
// rank section (the Gram matrix's coordinates are a float product over blocks of targets,
// and a shard's blocks differ: tiny models' products round differently with the shape).
void expect_near(const ojson& a, const ojson& b, const std::string& path = "summary") {
  ASSERT_EQ(a.type(), b.type()) << path;
  if (a.is_object()) {
    ASSERT_EQ(a.size(), b.size()) << path;
    for (auto it = a.begin(); it != a.end(); ++it) {
      ASSERT_TRUE(b.contains(it.key())) << path << "." << it.key();
      expect_near(it.value(), b[it.key()], path + "." + it.key());
    }
  } else if (a.is_array()) {
    ASSERT_EQ(a.size(), b.size()) << path;
    for (size_t i = 0; i < a.size(); ++i) expect_near(a[i], b[i], path + "[" + std::to_string(i) + "]");
  } else if (a.is_number_float()) {
    const double x = a.get<double>(), y = b.get<double>();
    const bool loose = path.find(".power_law") != std::string::npos || path.find(".rank") != std::string::npos;
    const double rel = loose ? 1e-6 : 1e-9;
    EXPECT_LE(std::fabs(x - y), rel * std::max(std::fabs(x), std::fabs(y)) + 1e-12) << path;
  } else {
    EXPECT_EQ(a, b) << path;
  }
}

TEST(AnalysisRunTest, TheWriterOfShardsGivesOneRunsTablesAndStatistics) {
  const Inputs x;
  for (bool by_word : {false, true}) {
    SCOPED_TRACE(by_word ? "by word" : "by token");
    AnalysisOptions o = options(by_word);
    o.schedules.push_back("dilated");  // a per-target schedule: its rows come after the shared ones
    o.targets = 8;
    const AnalysisPlan p = plan_analysis(o, &x.tok, x.tokens, x.weights->config);
    ASSERT_EQ(p.passes.per_target.size(), 1u);
    Transformer model(x.weights);
    std::ostringstream one_csv, one_words;
    const ojson one = run_analysis(model, &x.tok, x.tokens, p, {.tokens_csv = &one_csv, .words_csv = by_word ? &one_words : nullptr});

    // Three shards, each swept alone, sent as bytes, merged in order, rows replayed.
    const std::vector<std::vector<int64_t>> shards = shard_targets(p.passes, 3);
    ASSERT_EQ(shards.size(), 3u);
    SweepResult merged;
    std::vector<std::vector<SweepRow>> rows(shards.size());
    int64_t before = 0;
    for (size_t i = 0; i < shards.size(); ++i) {
      SweepOptions part = p.sweep;
      part.positions = shards[i];
      part.first_target = before;  // the per-target path's calls as in one run: the same bits
      before += int64_t(shards[i].size());
      const std::string bytes = encode_sweep(run_sweep(model, x.tokens, part, [&](const SweepRow& r) { rows[i].push_back(r); }));
      rows[i] = decode_rows(encode_rows(rows[i]));
      if (i == 0) merged = decode_sweep(bytes);
      else merged.merge(decode_sweep(bytes));
    }
    std::ostringstream csv, words;
    AnalysisWriter writer(&x.tok, x.tokens, p, {.tokens_csv = &csv, .words_csv = by_word ? &words : nullptr});
    writer.add_shards(rows);
    const ojson s = writer.summary(merged, model.config(), 1.0);
    EXPECT_EQ(csv.str(), one_csv.str());
    EXPECT_EQ(words.str(), one_words.str());
    expect_near(without_spent(s), without_spent(one));
    EXPECT_GT(s["compute"]["spent"]["token_forwards"].get<int64_t>(), one["compute"]["spent"]["token_forwards"].get<int64_t>());
  }
}

}  // namespace
}  // namespace strata
