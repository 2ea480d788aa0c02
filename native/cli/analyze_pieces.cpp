// OUT.pieces of `strata analyze --pieces N` (analyze_pieces.h): the fingerprint check, and
// piece files as one header line followed by the part's bytes:
//   strata-analyze-piece 1 <plan hash> <seconds> <sweep bytes> <rows bytes>\n<sweep><rows>
// The plan hash ties a piece to the plan.json it was made under, so a file copied in from
// another run is refused rather than merged.
#include "analyze_pieces.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "strata/error.h"
#include "strata/file_util.h"

namespace strata::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPieceMagic = "strata-analyze-piece";
constexpr int kPieceVersion = 1;

// A fingerprint value as the command line would spell it.
std::string spelled(const nlohmann::ordered_json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// Where the model and the text were is recorded for the message only: their contents are
// compared by hash, so pieces made before a model directory or a text was moved still resume.
bool is_location(const std::string& key) { return key == "--model" || key == "--text" || key == "--ids"; }
const char* location_of(const std::string& hash_key, const Fingerprint& wanted) {
  if (hash_key == "model files hash") return "--model";
  if (hash_key == "text hash" || hash_key == "tokens hash") return wanted.contains("--ids") ? "--ids" : "--text";
  return nullptr;
}

// "" when `stored` (plan.json) and `wanted` (this run) agree, else what differs in words.
std::string difference(const Fingerprint& stored, const Fingerprint& wanted) {
  for (const auto& [key, value] : wanted.items()) {
    if (!stored.contains(key)) return "made by another version of strata (its plan.json has no \"" + key + "\")";
    if (is_location(key) || stored[key] == value) continue;
    std::string what = "made with " + key + " " + spelled(stored[key]) + ", not " + spelled(value);
    if (const char* where = location_of(key, wanted); where && stored.contains(where) && stored[where] != wanted[where])
      what += " (" + std::string(where) + " " + spelled(stored[where]) + ", not " + spelled(wanted[where]) + ")";
    return what;
  }
  for (const auto& [key, value] : stored.items())
    if (!wanted.contains(key)) return "made by another version of strata (its plan.json has \"" + key + "\")";
  return "";
}

}  // namespace

std::string content_hash(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
  return hex;
}

PiecesDir::PiecesDir(const std::string& out, int count, const Fingerprint& fingerprint, bool resume)
    : dir_(out + ".pieces"), count_(count) {
  const std::string plan_text = fingerprint.dump(2) + "\n";
  std::error_code ec;
  if (fs::exists(dir_, ec)) {
    if (!fs::is_directory(dir_, ec)) throw Error(dir_ + ": exists and is not a directory; remove it or choose another --out");
    if (!resume)
      throw Error(dir_ + ": holds the pieces of an earlier run; pass --resume to go on from them, or remove it");
    const std::string plan_path = dir_ + "/plan.json";
    if (!file_exists(plan_path))
      throw Error(dir_ + ": has no plan.json, so it was not made by strata analyze --pieces; remove it or choose another --out");
    Fingerprint stored;
    const std::string stored_text = read_file(plan_path);
    try {
      stored = nlohmann::ordered_json::parse(stored_text);
    } catch (const nlohmann::json::exception&) {
      throw Error(plan_path + ": not valid JSON; remove " + dir_);
    }
    const std::string why = difference(stored, fingerprint);
    if (!why.empty()) throw Error(dir_ + ": " + why + "; remove it or match the options");
    // The pieces belong to the directory's plan.json, which may name the files where they were.
    plan_hash_ = content_hash(stored_text);
    return;
  }
  // Made whole beside its final name, so a half-made directory is never taken for a run's.
  const std::string tmp = dir_ + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) throw Error(tmp + ": cannot create the pieces directory (" + ec.message() + ")");
  write_file_atomic(tmp + "/plan.json", plan_text);
  fs::rename(tmp, dir_, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw Error(dir_ + ": cannot create the pieces directory (" + ec.message() + ")");
  }
  plan_hash_ = content_hash(plan_text);
}

std::string PiecesDir::piece_path(int k) const {
  return dir_ + "/piece-" + std::to_string(k + 1) + "-of-" + std::to_string(count_) + ".bin";
}

bool PiecesDir::has(int k) const { return file_exists(piece_path(k)); }

void PiecesDir::write(int k, const distributed::TeamPart& part) const {
  char header[160];
  std::snprintf(header, sizeof header, "%s %d %s %.17g %zu %zu\n", kPieceMagic, kPieceVersion, plan_hash_.c_str(),
                part.seconds, part.sweep.size(), part.rows.size());
  write_file_atomic(piece_path(k), std::string(header) + part.sweep + part.rows);
}

distributed::TeamPart PiecesDir::read(int k) const {
  const std::string path = piece_path(k);
  const std::string bytes = read_file(path);
  const size_t end_of_header = bytes.find('\n');
  std::istringstream header(bytes.substr(0, end_of_header == std::string::npos ? 0 : end_of_header));
  std::string magic, hash;
  int version = 0;
  size_t sweep_size = 0, rows_size = 0;
  distributed::TeamPart part;
  header >> magic >> version >> hash >> part.seconds >> sweep_size >> rows_size;
  if (end_of_header == std::string::npos || !header || magic != kPieceMagic || version != kPieceVersion)
    throw Error(path + ": not a piece of strata analyze --pieces (format " + std::to_string(kPieceVersion) + "); remove it");
  if (hash != plan_hash_) throw Error(path + ": made under another plan.json than " + dir_ + "'s; remove it");
  if (bytes.size() - end_of_header - 1 != sweep_size + rows_size) throw Error(path + ": truncated; remove it");
  part.sweep = bytes.substr(end_of_header + 1, sweep_size);
  part.rows = bytes.substr(end_of_header + 1 + sweep_size);
  return part;
}

void PiecesDir::remove() const {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) throw Error(dir_ + ": the report is in place, but the pieces could not be removed (" + ec.message() + ")");
}

}  // namespace strata::cli
