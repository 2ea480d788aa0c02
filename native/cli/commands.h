// The strata subcommands, one file each; main.cpp wires them into one CLI11 app.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "strata/dtype.h"

namespace strata::cli {

// Each registers its subcommand and returns it with the code to run when it is chosen.
// A text file's bytes; an empty file is refused with an error naming it.
std::string read_text(const std::string& path);
// A JSON array of token ids, each checked to lie in [0, vocab_size); errors name the file.
std::vector<int32_t> read_ids(const std::string& path, int vocab_size);

// --dtype on a command that loads a model: the type its matrices are held in while it runs.
void add_dtype_option(CLI::App* cmd, std::string& dtype);
// The parsed --dtype: nullopt (as stored) when not given; a bad value throws strata::Error.
std::optional<DType> held_dtype(const std::string& dtype);

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
Subcommand add_generate(CLI::App& app);

}  // namespace strata::cli
