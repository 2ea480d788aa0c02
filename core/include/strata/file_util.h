// Whole-file reads and atomic writes (temporary file, fsync, rename): a crash or Ctrl-C
// never leaves a half-written model, checkpoint or report behind.
#pragma once
#include <string>
#include <string_view>

namespace strata {

std::string read_file(const std::string& path);  // throws strata::Error naming the path
void write_file_atomic(const std::string& path, std::string_view bytes);
bool file_exists(const std::string& path);

}  // namespace strata
