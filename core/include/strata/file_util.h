// Whole-file reads and atomic writes (temporary file, fsync, rename): a crash or Ctrl-C
// never leaves a half-written model, checkpoint or report behind.
#pragma once
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

namespace strata {

std::string read_file(const std::string& path);  // throws strata::Error naming the path
void write_file_atomic(const std::string& path, std::string_view bytes);
// The same with the bytes streamed by `write` into the temporary file, for files too large
// to hold in memory twice (a checkpoint's shards).
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);
bool file_exists(const std::string& path);

// A whole file's bytes, read-only, kept alive by `keep` (copies share it). Natively the
// file is memory-mapped, so a multi-gigabyte checkpoint costs page cache, not a copy; in
// WebAssembly (no real mmap) it is read into memory.
struct FileBytes {
  std::shared_ptr<const void> keep;
  const unsigned char* data = nullptr;
  size_t size = 0;
};
FileBytes map_file(const std::string& path);  // throws strata::Error naming the path

}  // namespace strata
