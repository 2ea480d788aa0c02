// Runs tests/reference/torch_reference.py (an independent PyTorch implementation of the
// model) from a GoogleTest: write the model and a JSON input into a scratch directory, run
// the script with /usr/bin/python3, read its safetensors output back. Header-only.
//
//   strata::testref::ScratchDir dir("forward");
//   strata::save_weights(weights, dir.path() + "/model");
//   auto ref = strata::testref::run_torch_reference("forward", dir.path() + "/model",
//                                                   {{"tokens", ...}, {"positions", ...}}, dir.path());
//   STRATA_SKIP_WITHOUT_TORCH(ref);   // skips, loudly, when python3 cannot import torch
//   ASSERT_TRUE(ref.ok) << ref.log;
//   const auto& logits = ref.at("logits");  // .shape, .data
//
// Without torch the tests skip with a banner on stderr, except when the environment has
// CI or STRATA_REQUIRE_TORCH set (non-empty, not "0"): then a missing torch is a failure,
// so CI can never go green by silently skipping the comparison.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "strata/safetensors.h"

#include "fixtures.h"

#ifndef STRATA_PYTHON
#define STRATA_PYTHON "/usr/bin/python3"
#endif

namespace strata::testref {

inline std::string reference_script() {
  return std::string(STRATA_SOURCE_DIR) + "/tests/reference/torch_reference.py";
}

// A fresh directory under testing::TempDir(), named after the running test and the process.
// Removed on destruction unless the test has failed (then kept for inspection).
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag = "") {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "strata_ref_" + std::string(info ? info->name() : "none");
    if (!tag.empty()) name += "_" + tag;
    path_ = (std::filesystem::path(testing::TempDir()) / (name + "_" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!testing::Test::HasFailure()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct RefTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

struct ReferenceRun {
  bool torch_available = true;  // false: the test should skip (STRATA_SKIP_WITHOUT_TORCH)
  bool ok = false;              // the script succeeded and its output was read
  std::string log;              // the command line and the script's stdout + stderr
  double seconds = 0;           // wall time of the script, python start-up included
  std::map<std::string, RefTensor> tensors;

  const RefTensor& at(const std::string& name) const {
    static const RefTensor kEmpty;
    auto it = tensors.find(name);
    if (it != tensors.end()) return it->second;
    ADD_FAILURE() << "reference output has no tensor \"" << name << "\"";
    return kEmpty;
  }
};

using fixtures::shell_quote;

inline bool torch_required_by_environment() {
  for (const char* var : {"STRATA_REQUIRE_TORCH", "CI"}) {
    const char* v = std::getenv(var);
    if (v && *v && std::string(v) != "0") return true;
  }
  return false;
}

// Runs `torch_reference.py <command> --model <model_dir> --input <work_dir>/<command>_in.json
// --out <work_dir>/<command>_out.safetensors`. env_assignments, e.g. "STRATA_REF_BREAK=rope",
// is prepended to the command line. Script failures are reported in .ok/.log, not thrown.
inline ReferenceRun run_torch_reference(const std::string& command, const std::string& model_dir,
                                        const nlohmann::json& input, const std::string& work_dir,
                                        const std::string& env_assignments = "") {
  ReferenceRun run;
  const std::string in_path = work_dir + "/" + command + "_in.json";
  const std::string out_path = work_dir + "/" + command + "_out.safetensors";
  std::filesystem::remove(out_path);
  std::ofstream(in_path) << input.dump() << "\n";
  const std::string cmd = env_assignments + (env_assignments.empty() ? "" : " ") +
                          shell_quote(STRATA_PYTHON) + " " + shell_quote(reference_script()) + " " +
                          command + " --model " + shell_quote(model_dir) + " --input " +
                          shell_quote(in_path) + " --out " + shell_quote(out_path) + " 2>&1";
  run.log = "$ " + cmd + "\n";
  const auto start = std::chrono::steady_clock::now();
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) {
    run.log += "popen failed";
    return run;
  }
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) run.log.append(buf, n);
  const int status = ::pclose(pipe);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  // 77: the script could not import torch; 126/127: the shell could not run python at all.
  if (rc == 77 || rc == 126 || rc == 127) {
    run.torch_available = false;
    const std::string banner(78, '*');
    const bool required = torch_required_by_environment();
    std::cerr << "\n" << banner << "\n*** " << STRATA_PYTHON
              << " cannot import torch: the PyTorch reference comparison is "
              << (required ? "REQUIRED here (CI or STRATA_REQUIRE_TORCH): FAILING" : "SKIPPED")
              << ".\n*** Install it (Debian: apt-get install python3-torch) to run it.\n"
              << run.log << banner << "\n";
    if (required)
      ADD_FAILURE() << "torch is required here (CI or STRATA_REQUIRE_TORCH is set) but "
                    << STRATA_PYTHON << " cannot import it:\n" << run.log;
    return run;
  }
  if (rc != 0) {
    run.log += "(exit status " + std::to_string(rc) + ")\n";
    return run;
  }
  try {
    const SafetensorsReader reader = SafetensorsReader::open(out_path);
    for (const auto& e : reader.tensors()) run.tensors[e.name] = {e.shape, reader.read_f32(e)};
  } catch (const std::exception& e) {
    run.log += std::string("reading the output failed: ") + e.what() + "\n";
    return run;
  }
  run.ok = true;
  return run;
}

// max |a - b| / max |b|: the error relative to the reference's scale (infinite on a size
// mismatch, so a comparison of mismatched tensors never passes).
inline double max_relative_error(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size() || b.empty()) return INFINITY;
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(double(a[i]) - double(b[i]));
    diff = std::isnan(d) ? INFINITY : std::max(diff, d);
    scale = std::max(scale, std::fabs(double(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

}  // namespace strata::testref

// Skips the current test when the reference could not run for lack of torch (the harness
// has already printed a banner, and failed the test if torch is required).
#define STRATA_SKIP_WITHOUT_TORCH(run)                                                   \
  if (!(run).torch_available)                                                            \
  GTEST_SKIP() << "python3 cannot import torch; PyTorch reference comparison skipped"
