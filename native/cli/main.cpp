// strata: the command-line front-end. Every subcommand is a thin layer over the core
// library; errors from bad input are printed on one line and exit non-zero. Under mpirun
// only rank 0 prints errors (the ranks' failures reach it, distributed/team.h), only
// `analyze` runs across ranks, and a build without MPI refuses rather than run N copies.
#include <omp.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../wait_policy.h"
#include "commands.h"
#include "distributed/launcher.h"
#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/ops.h"

namespace strata::cli {

std::string read_text(const std::string& path) {
  std::string text = read_file(path);
  if (text.empty()) throw Error(path + ": the text is empty");
  return text;
}

std::vector<int32_t> read_ids(const std::string& path, int vocab_size) {
  const nlohmann::json j = nlohmann::json::parse(read_text(path), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(path + ": malformed JSON");
  if (!j.is_array()) throw Error(path + ": expected a JSON array of token ids");
  std::vector<int32_t> ids;
  ids.reserve(j.size());
  for (const auto& v : j) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= vocab_size)
      throw Error(path + ": " + v.dump() + " is not a token id in [0, " + std::to_string(vocab_size) + ")");
    ids.push_back(int32_t(v.get<int64_t>()));
  }
  return ids;
}

void add_dtype_option(CLI::App* cmd, std::string& dtype) {
  cmd->add_option("--dtype", dtype,
                  "Hold the weight matrices in f32, f16 or bf16 while running (default: as stored; F16/BF16 "
                  "stay memory-mapped, any other choice is converted at load)");
}

std::optional<DType> held_dtype(const std::string& dtype) {
  if (dtype.empty()) return std::nullopt;
  try {
    return parse_dtype(dtype);
  } catch (const Error& e) {
    throw Error(std::string("--dtype: ") + e.what());
  }
}

}  // namespace strata::cli

int main(int argc, char** argv) {
  strata::native::choose_omp_waiting(argv);
  CLI::App app{"strata: one transformer, many inference schedules"};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "OpenMP threads (default: all cores, or the cores other processes leave free when strata starts)")->check(CLI::NonNegativeNumber);
  std::string compute = "f32";
  app.add_option("--compute", compute,
                 "Matmul arithmetic: f32 (exact, default) or bf16 (operands rounded to bfloat16; AMX or "
                 "AVX512-BF16 where the CPU has them)")
      ->check(CLI::IsMember({"f32", "bf16"}));
  namespace cli = strata::cli;
  const std::vector<cli::Subcommand> commands = {cli::add_info(app), cli::add_tokenize(app),
                                                 cli::add_train(app), cli::add_eval(app),
                                                 cli::add_infer(app), cli::add_convert(app), cli::add_analyze(app),
                                                 cli::add_generate(app)};
  const strata::distributed::LaunchInfo launch = strata::distributed::launch_info();
  const bool quiet = launch.rank > 0;  // rank 0 speaks for the job
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostringstream discard;
    return quiet ? app.exit(e, discard, discard) : app.exit(e);
  }
  if (threads > 0) omp_set_num_threads(threads);
  strata::ops::set_compute(strata::ops::parse_compute(compute));
  try {
    if (launch.launched()) {
#ifdef STRATA_HAVE_MPI
      bool analyze = false;
      for (const auto& c : commands) analyze |= c.app->parsed() && c.app->get_name() == "analyze";
      if (!analyze && launch.size > 1)
        throw strata::Error("only `strata analyze` runs across MPI ranks; run this command without mpirun");
#else
      throw strata::Error("this strata was built without MPI, so under mpirun (" + std::to_string(launch.size) +
                          " processes) it would run independent copies; rebuild with -DSTRATA_MPI=ON (Open MPI: "
                          "openmpi-bin libopenmpi-dev) or run it without mpirun");
#endif
    }
    for (const auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const strata::Error& e) {
    if (!quiet) std::fprintf(stderr, "strata: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    if (!quiet) std::fprintf(stderr, "strata: unexpected error: %s\n", e.what());
    return 2;
  }
  return 1;
}
