// Sharded safetensors writing and the shard-size syntax. See safetensors_shards.h.
#include "strata/safetensors_shards.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "strata/error.h"
#include "strata/file_util.h"

namespace strata {

std::vector<std::string> write_safetensors_shards(const std::string& dir, const std::vector<NamedTensor>& tensors,
                                                  const std::map<std::string, std::string>& metadata, DType storage,
                                                  uint64_t max_shard_bytes) {
  // Shards as lists of tensors, each begun when the next tensor would overflow the last.
  std::vector<std::vector<NamedTensor>> shards(1);
  uint64_t in_last = 0, total = 0;
  for (const NamedTensor& t : tensors) {
    const uint64_t bytes = uint64_t(t.value_count()) * dtype_size(storage);
    if (max_shard_bytes > 0 && !shards.back().empty() && in_last + bytes > max_shard_bytes) {
      shards.emplace_back();
      in_last = 0;
    }
    shards.back().push_back(t);
    in_last += bytes;
    total += bytes;
  }
  const auto path = [&](const std::string& file) { return (std::filesystem::path(dir) / file).string(); };
  if (shards.size() == 1) {
    write_safetensors(path("model.safetensors"), tensors, metadata, storage);
    return {"model.safetensors"};
  }
  if (shards.size() > 99999) throw Error(dir + ": more than 99999 shards; choose a larger shard size");
  std::vector<std::string> files;
  nlohmann::json weight_map = nlohmann::json::object();
  for (size_t k = 0; k < shards.size(); ++k) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", k + 1, shards.size());
    write_safetensors(path(name), shards[k], metadata, storage);
    for (const NamedTensor& t : shards[k]) weight_map[t.name] = name;
    files.push_back(name);
  }
  // Written last: a directory with an index names only shards already complete.
  const nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  write_file_atomic(path("model.safetensors.index.json"), index.dump(2) + "\n");
  files.push_back("model.safetensors.index.json");
  // A single file from an earlier save would be read instead of the index (model_dir.h).
  std::error_code ec;
  std::filesystem::remove(path("model.safetensors"), ec);
  return files;
}

uint64_t parse_byte_size(std::string_view text, const std::string& option) {
  const std::string bad = option + " \"" + std::string(text) +
                          "\": expected a size in bytes, or with a unit: KB, MB, GB, TB (powers of 1000) or KiB, "
                          "MiB, GiB, TiB (powers of 1024), e.g. 2GB or 500MB";
  size_t digits = 0;
  while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) ++digits;
  const std::string number(text.substr(0, digits));
  std::string unit(text.substr(digits));
  for (char& c : unit) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (number.empty() || number.front() == '.' || number.back() == '.' || number.find('.') != number.rfind('.'))
    throw Error(bad);
  const std::map<std::string, double> units = {{"", 1},          {"b", 1},          {"kb", 1e3},
                                               {"mb", 1e6},      {"gb", 1e9},       {"tb", 1e12},
                                               {"kib", 1024.0},  {"mib", 1048576.0}, {"gib", 1073741824.0},
                                               {"tib", 1099511627776.0}};
  const auto u = units.find(unit);
  if (u == units.end()) throw Error(bad);
  const double bytes = std::stod(number) * u->second;
  if (!(bytes >= 1)) throw Error(option + " \"" + std::string(text) + "\": must be at least 1 byte");
  if (bytes > 9e18) throw Error(option + " \"" + std::string(text) + "\": more bytes than any file can hold");
  return uint64_t(std::llround(bytes));
}

}  // namespace strata
