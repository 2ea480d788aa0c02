// The strata subcommands, one file each; main.cpp wires them into one CLI11 app.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "strata/dtype.h"
#include "strata/bos_policy.h"

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
// --bos auto|always|never on a command that runs a model (bos_option.cpp), and the policy
// it resolved to in words, e.g. "BOS 1 before every context (--bos always)".
CLI::Option* add_bos_option(CLI::App* cmd, std::string& mode);
std::string describe(const BosPolicy& bos);

// --out (output_dir.cpp): the path without trailing slashes, refused when it is a file or a
// non-empty directory without --force; the temporary directory the output is written into
// beside it; and the move that replaces --out with it at the end (an old --out is kept
// until the new one is in place).
std::string checked_out_dir(std::string out, bool force);
std::string temporary_out_dir(const std::string& out);
void move_into_place(const std::string& tmp, const std::string& out);

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
