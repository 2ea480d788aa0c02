// strata: the command-line front-end. Every subcommand is a thin layer over the core
// library; errors from bad input are printed on one line and exit non-zero. Under mpirun
// only rank 0 prints errors (the ranks' failures reach it, distributed/team.h), only
// `analyze` runs across ranks, and a build without MPI refuses rather than run N copies.
#include <omp.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "distributed/launcher.h"
#include "strata/error.h"
#include "strata/file_util.h"

namespace strata::cli {

std::string read_text(const std::string& path) {
  std::string text = read_file(path);
  if (text.empty()) throw Error(path + ": the text is empty");
  return text;
}

}  // namespace strata::cli

int main(int argc, char** argv) {
  CLI::App app{"strata: one transformer, many inference schedules"};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "OpenMP threads (default: all cores)")->check(CLI::NonNegativeNumber);
  namespace cli = strata::cli;
  const std::vector<cli::Subcommand> commands = {cli::add_info(app), cli::add_tokenize(app),
                                                 cli::add_train(app), cli::add_eval(app),
                                                 cli::add_infer(app), cli::add_convert(app), cli::add_analyze(app)};
  const strata::distributed::LaunchInfo launch = strata::distributed::launch_info();
  const bool quiet = launch.rank > 0;  // rank 0 speaks for the job
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostringstream discard;
    return quiet ? app.exit(e, discard, discard) : app.exit(e);
  }
  if (threads > 0) omp_set_num_threads(threads);
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
