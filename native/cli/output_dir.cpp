// The --out directory of the commands that write one (analyze, convert): refused when it is
// a file, or not empty without --force; written whole into OUT.tmp-PID beside it and then
// moved into place, so an old --out survives any failure and a new one is never partial.
#include <unistd.h>

#include <filesystem>

#include "commands.h"
#include "strata/error.h"

namespace strata::cli {

namespace fs = std::filesystem;

std::string checked_out_dir(std::string out, bool force) {
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (out.empty()) throw Error("--out must name a directory");
  std::error_code ec;
  if (fs::exists(out, ec)) {
    if (!fs::is_directory(out, ec)) throw Error(out + ": exists and is not a directory");
    if (!fs::is_empty(out, ec) && !force)
      throw Error(out + ": exists and is not empty; pass --force to replace it, or choose another --out");
  }
  return out;
}

std::string temporary_out_dir(const std::string& out) { return out + ".tmp-" + std::to_string(::getpid()); }

void move_into_place(const std::string& tmp, const std::string& out) {
  std::error_code ec;
  if (fs::exists(out, ec)) {
    if (fs::is_empty(out, ec)) {
      fs::remove(out, ec);
    } else {
      const std::string old = out + ".old-" + std::to_string(::getpid());
      fs::rename(out, old, ec);
      if (ec) throw Error(out + ": cannot move the old contents aside (" + ec.message() + ")");
      fs::rename(tmp, out, ec);
      if (ec) {
        std::error_code ignored;
        fs::rename(old, out, ignored);
        throw Error(out + ": cannot move the new contents into place (" + ec.message() + ")");
      }
      fs::remove_all(old, ec);
      return;
    }
  }
  fs::rename(tmp, out, ec);
  if (ec) throw Error(out + ": cannot move the output into place (" + ec.message() + ")");
}

}  // namespace strata::cli
