// safetensors reader and writer. All header numbers are treated as hostile until checked
// against the file size, and all byte access goes through explicit little-endian loads,
// so the code is correct on any host and free of unaligned or out-of-range reads.
#include "strata/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "strata/dtype.h"
#include "strata/error.h"
#include "strata/file_util.h"

namespace strata {
namespace {

// A header beyond this is not a real model file; refusing it early avoids parsing (and
// allocating for) garbage when the first 8 bytes are random.
constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;

// Element sizes of every dtype the format defines, so files holding tensors we cannot
// decode (e.g. I64 position ids) still validate; only reading them is refused.
size_t dtype_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E4M3", 1}, {"F8_E5M2", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"I64", 8}, {"U64", 8},     {"F64", 8}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

uint64_t load_u64_le(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// A JSON integer as a non-negative u64; distinguishes negative and non-integer values so
// the error says which.
enum class UintParse { kOk, kNotInteger, kNegative };
UintParse json_to_u64(const nlohmann::json& v, uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
    return UintParse::kOk;
  }
  if (!v.is_number_integer()) return UintParse::kNotInteger;
  const int64_t s = v.get<int64_t>();
  if (s < 0) return UintParse::kNegative;
  out = uint64_t(s);
  return UintParse::kOk;
}

}  // namespace

SafetensorsReader SafetensorsReader::open(const std::string& path) {
  SafetensorsReader r;
  r.path_ = path;
  r.bytes_ = map_file(path);
  const std::string_view b(reinterpret_cast<const char*>(r.bytes_.data), r.bytes_.size);
  auto fail = [&](const std::string& what) -> Error { return Error(path + ": " + what); };

  if (b.size() < 8)
    throw fail("truncated: " + std::to_string(b.size()) +
               " bytes, too short for the 8-byte header length of a safetensors file");
  const unsigned char* base = r.bytes_.data;
  const uint64_t n = load_u64_le(base);
  if (n > kMaxHeaderBytes)
    throw fail("header length " + std::to_string(n) +
               " is implausibly large (over 100 MB); not a safetensors file?");
  if (n > b.size() - 8)
    throw fail("truncated: header length is " + std::to_string(n) + " bytes but only " +
               std::to_string(b.size() - 8) + " bytes follow");
  r.data_start_ = 8 + size_t(n);
  const size_t data_size = b.size() - r.data_start_;

  const nlohmann::json header =
      nlohmann::json::parse(b.begin() + 8, b.begin() + std::ptrdiff_t(r.data_start_), nullptr,
                            /*allow_exceptions=*/false);
  if (header.is_discarded()) throw fail("header is not valid JSON");
  if (!header.is_object()) throw fail("header is not a JSON object");

  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw fail("__metadata__ is not a JSON object");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) throw fail("__metadata__ value of \"" + k + "\" is not a string");
        r.metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string t = "tensor " + name + ": ";
    if (!entry.is_object()) throw fail(t + "header entry is not a JSON object");
    for (const char* key : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(key)) throw fail(t + "missing \"" + key + "\"");

    TensorEntry e;
    e.name = name;
    if (!entry["dtype"].is_string()) throw fail(t + "\"dtype\" is not a string");
    e.dtype = entry["dtype"].get<std::string>();
    const size_t elem = dtype_size(e.dtype);
    if (elem == 0) throw fail(t + "unknown dtype \"" + e.dtype + "\"");

    const auto& shape = entry["shape"];
    if (!shape.is_array()) throw fail(t + "\"shape\" is not an array");
    // numel is kept below 2^62 so that numel * elem (elem <= 8) cannot overflow either.
    constexpr uint64_t kMaxNumel = uint64_t(1) << 62;
    uint64_t numel = 1;
    for (const auto& dim : shape) {
      uint64_t d = 0;
      switch (json_to_u64(dim, d)) {
        case UintParse::kNotInteger: throw fail(t + "\"shape\" holds a non-integer " + dim.dump());
        case UintParse::kNegative: throw fail(t + "negative dimension " + dim.dump() + " in \"shape\"");
        case UintParse::kOk: break;
      }
      if (d > uint64_t(std::numeric_limits<int64_t>::max()) || (numel != 0 && d > kMaxNumel / numel))
        throw fail(t + "shape " + shape.dump() + " overflows");
      numel *= d;
      e.shape.push_back(int64_t(d));
    }

    const auto& offs = entry["data_offsets"];
    if (!offs.is_array() || offs.size() != 2)
      throw fail(t + "\"data_offsets\" is not an array of two integers");
    uint64_t begin = 0, end = 0;
    for (int i = 0; i < 2; ++i) {
      uint64_t& dst = i == 0 ? begin : end;
      switch (json_to_u64(offs[size_t(i)], dst)) {
        case UintParse::kNotInteger: throw fail(t + "\"data_offsets\" holds a non-integer " + offs[size_t(i)].dump());
        case UintParse::kNegative: throw fail(t + "negative value in \"data_offsets\" " + offs.dump());
        case UintParse::kOk: break;
      }
    }
    // Built with append: GCC 12 emits a false -Wrestrict for "literal" + std::string&&.
    std::string range = "[";
    range.append(std::to_string(begin)).append(",").append(std::to_string(end)).append(")");
    if (end < begin) throw fail(t + "data_offsets " + range + " end before they begin");
    if (end > data_size)
      throw fail("truncated: tensor " + name + " needs bytes " + range +
                 " but the data section has only " + std::to_string(data_size) + " bytes");
    if (end - begin != numel * elem)
      throw fail(t + "data_offsets " + range + " span " + std::to_string(end - begin) +
                 " bytes but shape " + shape_str(e.shape) + " of " + e.dtype + " needs " +
                 std::to_string(numel * elem));
    // Only now, bounded by the file size, are these known to fit a (possibly 32-bit) size_t.
    e.numel = size_t(numel);
    e.begin = size_t(begin);
    e.end = size_t(end);
    r.tensors_.push_back(std::move(e));
  }

  std::sort(r.tensors_.begin(), r.tensors_.end(), [](const TensorEntry& a, const TensorEntry& c) {
    return a.begin != c.begin ? a.begin < c.begin : a.end < c.end;
  });
  // Overlapping tensors mean a corrupt or malicious header: writes to one would alias the
  // other. Empty tensors occupy no bytes and cannot overlap anything.
  const TensorEntry* prev = nullptr;
  for (const auto& e : r.tensors_) {
    if (e.begin == e.end) continue;
    if (prev && e.begin < prev->end)
      throw fail("tensors " + prev->name + " and " + e.name + " overlap in the data section");
    prev = &e;
  }
  for (size_t i = 0; i < r.tensors_.size(); ++i) r.index_[r.tensors_[i].name] = i;
  return r;
}

const TensorEntry* SafetensorsReader::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const unsigned char* SafetensorsReader::bytes(const TensorEntry& e) const {
  // Guards against an entry that did not come from this reader.
  if (e.end < e.begin || e.end > bytes_.size - data_start_)
    throw Error(path_ + ": tensor " + e.name + " lies outside the data section");
  if (e.dtype != "F32" && e.dtype != "F16" && e.dtype != "BF16")
    throw Error(path_ + ": tensor " + e.name + " has dtype " + e.dtype +
                ", which strata cannot read (F32, F16 or BF16 only)");
  if (e.end - e.begin != e.numel * dtype_size(parse_dtype(e.dtype)))
    throw Error(path_ + ": tensor " + e.name + " byte range does not match its shape");
  return bytes_.data + data_start_ + e.begin;
}

void SafetensorsReader::read_f32(const TensorEntry& e, std::span<float> out) const {
  if (out.size() != e.numel)
    throw Error(path_ + ": tensor " + e.name + " has " + std::to_string(e.numel) +
                " elements but the destination holds " + std::to_string(out.size()));
  const unsigned char* p = bytes(e);  // first: it names an unreadable dtype with the tensor
  widen_to_f32(p, parse_dtype(e.dtype), e.numel, out.data());
}

std::vector<float> SafetensorsReader::read_f32(const TensorEntry& e) const {
  std::vector<float> v(e.numel);
  read_f32(e, v);
  return v;
}

void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata, DType storage) {
  const size_t width = dtype_size(storage);
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> seen;
  std::vector<size_t> counts;
  size_t offset = 0;
  for (const auto& t : tensors) {
    if (t.name == "__metadata__" || !seen.insert(t.name).second)
      throw Error(path + ": duplicate or reserved tensor name " + t.name);
    size_t numel = 1;
    for (int64_t d : t.shape) {
      if (d < 0) throw Error(path + ": tensor " + t.name + " has a negative dimension");
      numel *= size_t(d);
    }
    if (t.stored && !t.data.empty())
      throw Error(path + ": tensor " + t.name + " is given both as floats and in its stored type");
    if (!t.stored && numel != t.data.size())
      throw Error(path + ": tensor " + t.name + " has shape " + shape_str(t.shape) + " (" +
                  std::to_string(numel) + " elements) but " + std::to_string(t.data.size()) +
                  " values were given");
    counts.push_back(numel);
    header[t.name] = {{"dtype", dtype_name(storage)}, {"shape", t.shape},
                      {"data_offsets", {offset, offset + width * numel}}};
    offset += width * numel;
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');

  write_file_atomic(path, [&](std::ostream& out) {
    char length[8];
    for (int i = 0; i < 8; ++i) length[i] = char((uint64_t(h.size()) >> (8 * i)) & 0xff);
    out.write(length, 8);
    out.write(h.data(), std::streamsize(h.size()));
    // Chunk by chunk: the values as floats (widened from their stored type), then as stored.
    constexpr size_t kChunk = size_t(1) << 16;
    std::vector<float> values(kChunk);
    std::vector<char> bytes(kChunk * width);
    for (size_t k = 0; k < tensors.size(); ++k) {
      const NamedTensor& t = tensors[k];
      for (size_t i = 0; i < counts[k]; i += kChunk) {
        const size_t n = std::min(kChunk, counts[k] - i);
        const float* v = values.data();
        if (t.stored)
          widen_to_f32(static_cast<const unsigned char*>(t.stored) + i * dtype_size(t.stored_dtype), t.stored_dtype, n,
                       values.data());
        else
          v = t.data.data() + i;
        if constexpr (std::endian::native == std::endian::little)
          if (width == 4) {  // the floats' own bytes are the file's
            out.write(reinterpret_cast<const char*>(v), std::streamsize(n * 4));
            continue;
          }
        char* b = bytes.data();
        for (size_t j = 0; j < n; ++j) {
          if (width == 2) {
            const uint16_t u = storage == DType::kF16 ? f32_to_f16(v[j]) : f32_to_bf16(v[j]);
            *b++ = char(u & 0xff);
            *b++ = char(u >> 8);
          } else {
            const uint32_t u = std::bit_cast<uint32_t>(v[j]);
            for (int byte = 0; byte < 4; ++byte) *b++ = char((u >> (8 * byte)) & 0xff);
          }
        }
        out.write(bytes.data(), std::streamsize(n * width));
      }
    }
  });
}

}  // namespace strata
