// The command-line tests' harness (see cli_harness.h): the workspace, running the binary,
// and the one test every table runs.
#include "cli_harness.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "core/fixtures.h"
#include "strata/file_util.h"

namespace strata::cli_test {

namespace fs = std::filesystem;

const std::string kText =
    "It is a capital mistake to theorize before one has data. Insensibly one begins to twist facts "
    "to suit theories, instead of theories to suit facts. You see, but you do not observe. The "
    "distinction is clear. There is nothing more deceptive than an obvious fact. Life is infinitely "
    "stranger than anything which the mind of man could invent.\n";

namespace {

struct Workspace {
  fixtures::ScratchDir dir{"cli_ws"};
  fixtures::ScratchDir io_dir{"cli_io"};  // stdout and stderr, outside the workspace
  const std::string& root = dir.path();
  const std::string& io = io_dir.path();
};

Workspace& workspace() {
  static Workspace w;
  return w;
}

}  // namespace

// A fresh workspace for each case, so no case sees another's outputs.
void build_workspace() {
  const std::string& root = workspace().root;
  fs::remove_all(root);
  fs::create_directories(root);
  const std::string tiny = root + "/tiny";
  fixtures::write_byte_model_dir(tiny, /*context=*/256);
  fs::copy(tiny, root + "/truncated", fs::copy_options::recursive);
  const std::string weights = root + "/truncated/model.safetensors";
  fs::resize_file(weights, fs::file_size(weights) / 2);
  fs::copy(tiny, root + "/badconfig", fs::copy_options::recursive);
  write_file_atomic(root + "/badconfig/config.json", "{\"vocab_size\": 256, \"hidden_size\":");
  write_file_atomic(root + "/text.txt", kText);
  write_file_atomic(root + "/empty.txt", "");
  fs::create_directories(root + "/emptydir");
  fs::create_directories(root + "/nonempty");
  write_file_atomic(root + "/nonempty/keep.txt", "an earlier report\n");
}

namespace {

const std::string kPlaceholders[] = {"default", "tiny",     "truncated", "badconfig", "absent", "text",
                                     "empty",   "out",      "emptydir",  "nonempty",  "ws"};

std::string substitute(std::string arg) {
  for (size_t open = arg.find('{'); open != std::string::npos; open = arg.find('{', open)) {
    const size_t close = arg.find('}', open);
    const std::string name = close == std::string::npos ? "" : arg.substr(open + 1, close - open - 1);
    // Only the placeholders: custom schedules' JSON and CLI11's messages have braces too.
    if (std::find(std::begin(kPlaceholders), std::end(kPlaceholders), name) == std::end(kPlaceholders)) {
      ++open;
      continue;
    }
    const std::string path = workspace_path(name);
    arg.replace(open, close - open + 1, path);
    open += path.size();
  }
  return arg;
}

std::string binary() {
  const char* other = std::getenv("STRATA_CLI");
  return other && *other ? other : STRATA_CLI_BINARY;
}

// Every path under the workspace: "dir" for a directory, a hash of the bytes for a file.
using Snapshot = std::map<std::string, std::string>;
Snapshot snapshot() {
  Snapshot s;
  const fs::path root = workspace().root;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string rel = fs::relative(e.path(), root).string();
    s[rel] = e.is_directory() ? "dir" : std::to_string(std::hash<std::string>{}(read_file(e.path().string())));
  }
  return s;
}

bool under(const std::string& path, const std::string& dir) {
  return path == dir || path.rfind(dir + "/", 0) == 0;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace

std::string workspace_path(const std::string& name) {
  if (name == "default") return (fs::path(STRATA_SOURCE_DIR) / "assets" / "model").string();
  if (name == "ws") return workspace().root;
  if (name == "text" || name == "empty") return workspace().root + "/" + name + ".txt";
  return workspace().root + "/" + name;
}

std::vector<std::string> report_files(const std::string& dir, bool words) {
  std::vector<std::string> files = {dir, dir + "/tokens.csv", dir + "/summary.json", dir + "/report.html"};
  if (words) files.push_back(dir + "/words.csv");
  return files;
}

std::vector<std::string> model_files(const std::string& dir) {
  return {dir, dir + "/config.json", dir + "/model.safetensors", dir + "/tokenizer.json"};
}

CliRun run_strata(const std::vector<std::string>& args) {
  CliRun r;
  r.command = fixtures::shell_quote(binary());
  for (const std::string& a : args) r.command += " " + fixtures::shell_quote(substitute(a));
  const std::string out = workspace().io + "/stdout", err = workspace().io + "/stderr";
  const std::string line = "cd " + fixtures::shell_quote(workspace().root) + " && " + r.command + " >" +
                           fixtures::shell_quote(out) + " 2>" + fixtures::shell_quote(err) + " </dev/null";
  const int status = std::system(line.c_str());
  r.exit_code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

std::string case_name(const testing::TestParamInfo<CliCase>& info) { return info.param.name; }

void PrintTo(const CliCase& c, std::ostream* os) {
  *os << "strata";
  for (const std::string& a : c.args) *os << ' ' << a;
  *os << " -> exit " << c.exit_code;
}

TEST_P(CliTest, ExitCodeMessageAndNothingLeftBehind) {
  const CliCase& c = GetParam();
  ASSERT_GE(kText.size(), 300u);  // {text} has enough tokens for budgets up to 256 under {tiny}
  build_workspace();
  const Snapshot before = snapshot();
  const CliRun r = run_strata(c.args);
  SCOPED_TRACE("$ " + r.command + "\n--- stdout:\n" + r.out + "--- stderr:\n" + r.err + "---");

  const std::string fragment = substitute(c.fragment);
  EXPECT_EQ(r.exit_code, c.exit_code);
  if (c.exit_code != 0) {
    std::vector<std::string> lines = lines_of(r.err);
    // CLI11 follows its refusals of a malformed command line with this hint.
    if (!lines.empty() && lines.back() == "Run with --help for more information.") lines.pop_back();
    ASSERT_EQ(lines.size(), 1u) << "a refusal is one line on stderr";
    EXPECT_NE(lines[0].find(fragment), std::string::npos) << "stderr should say: " << fragment;
    if (c.exit_code == 1) {
      EXPECT_EQ(lines[0].rfind("strata: error: ", 0), 0u);
    }
    EXPECT_TRUE(r.out.empty()) << "a refused command prints nothing on stdout";
  } else {
    EXPECT_NE(r.out.find(fragment), std::string::npos) << "stdout should say: " << fragment;
  }

  // Nothing but the declared outputs changes: no partial --out, no temporary beside it.
  const Snapshot after = snapshot();
  auto declared = [](const std::vector<std::string>& paths, const std::string& p) {
    for (const std::string& d : paths)
      if (p == d) return true;
    return false;
  };
  auto removed = [&](const std::string& p) {
    for (const std::string& d : c.removed)
      if (under(p, d)) return true;
    return false;
  };
  for (const auto& [path, content] : after) {
    const auto was = before.find(path);
    if (was == before.end()) {
      EXPECT_TRUE(declared(c.created, path)) << "left behind: " << path;
    } else if (was->second != content) {
      EXPECT_TRUE(declared(c.created, path)) << "changed: " << path;
    }
  }
  for (const auto& [path, content] : before) {
    if (!after.count(path)) {
      EXPECT_TRUE(removed(path)) << "removed: " << path;
    }
  }
  for (const std::string& path : c.created) EXPECT_TRUE(after.count(path)) << "not written: " << path;
}

}  // namespace strata::cli_test
