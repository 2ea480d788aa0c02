// The command-line tests' harness: each tests/cli/<command>_test.cpp mirrors
// native/cli/<command>.cpp with a table of cases, each a command line of the built strata
// binary, its exit code, and
//   for a bad input: a fragment of the one line it prints on stderr, naming the problem;
//   for a good run: a fragment of its stdout and the paths it creates (or replaces);
// and, for every case, nothing else changed in the workspace: no partial --out directory,
// no temporary file or folder next to it, no input touched.
//
// The workspace is built per test process (ctest runs each case as its own process) in a
// scratch directory: a tiny byte-level model with a context of 256 written by the test
// fixtures, broken copies of it, short texts and output directories. Arguments name them
// with placeholders:
//   {default}    the default model, assets/model (read only)
//   {tiny}       a tiny random byte-level model, context 256 (one token per byte)
//   {truncated}  {tiny} with model.safetensors cut in half
//   {badconfig}  {tiny} with a malformed config.json
//   {absent}     a path that does not exist
//   {text}       kText (kText.size() bytes, so kText.size() tokens under {tiny})
//   {empty}      an empty text
//   {out}        a path that does not exist yet, for --out
//   {emptydir}   an existing empty directory
//   {nonempty}   an existing directory holding keep.txt
//   {ws}         the workspace itself
// The binary is the one this build made; STRATA_CLI=<path> runs the same table against
// another (e.g. an older build, to see a regression test fail).
#pragma once
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace strata::cli_test {

// A few sentences of plain English, over 300 bytes.
extern const std::string kText;

struct CliCase {
  std::string name;               // the test's name: letters, digits and _
  std::vector<std::string> args;  // after `strata`, with placeholders
  int exit_code = 0;
  std::string fragment;           // bad input: in stderr's one line; good run: in stdout (placeholders too)
  std::vector<std::string> created = {};  // good run: workspace paths that appear or are rewritten
  std::vector<std::string> removed = {};  // good run: workspace paths that go (a replaced --out's old files)
};

// A bad input: exit code 1 and "strata: error: ...<fragment>..." (CLI11's own refusals
// of a malformed command line have their own exit codes and text).
inline CliCase bad(std::string name, std::vector<std::string> args, std::string fragment, int exit_code = 1) {
  return {std::move(name), std::move(args), exit_code, std::move(fragment)};
}

inline CliCase good(std::string name, std::vector<std::string> args, std::string stdout_fragment,
                    std::vector<std::string> created = {}, std::vector<std::string> removed = {}) {
  return {std::move(name), std::move(args), 0, std::move(stdout_fragment), std::move(created), std::move(removed)};
}

// The files of a report of `strata analyze` in dir (relative to the workspace).
std::vector<std::string> report_files(const std::string& dir, bool words = false);
// The files of a model directory in dir.
std::vector<std::string> model_files(const std::string& dir);

// What one run of the binary did.
struct CliRun {
  int exit_code = -1;
  std::string out, err, command;
};
// Builds the workspace afresh (the table's test does it before every case).
void build_workspace();
// Runs strata with args (placeholders substituted) from the workspace.
CliRun run_strata(const std::vector<std::string>& args);
// The workspace's path for a placeholder's name, e.g. workspace_path("tiny").
std::string workspace_path(const std::string& name);

// Every table instantiates this: INSTANTIATE_TEST_SUITE_P(Info, CliTest, testing::ValuesIn(kCases), case_name).
class CliTest : public testing::TestWithParam<CliCase> {};
std::string case_name(const testing::TestParamInfo<CliCase>& info);
// How GoogleTest shows a case: its command line and exit code.
void PrintTo(const CliCase& c, std::ostream* os);

}  // namespace strata::cli_test
