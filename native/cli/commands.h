// The strata subcommands, one file each; main.cpp wires them into one CLI11 app.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace strata::cli {

// Each registers its subcommand and returns it with the code to run when it is chosen.
// A text file's bytes; an empty file is refused with an error naming it.
std::string read_text(const std::string& path);

struct Subcommand {
  CLI::App* app;
  std::function<int()> run;
};
Subcommand add_info(CLI::App& app);
Subcommand add_tokenize(CLI::App& app);
Subcommand add_train(CLI::App& app);
Subcommand add_eval(CLI::App& app);
Subcommand add_analyze(CLI::App& app);
Subcommand add_infer(CLI::App& app);
Subcommand add_convert(CLI::App& app);

}  // namespace strata::cli
