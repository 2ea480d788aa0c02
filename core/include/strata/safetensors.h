// Reading and writing .safetensors files, the Hugging Face tensor container: an 8-byte
// little-endian header length N, N bytes of JSON header, then the raw data section.
// Files come from outside (downloads, other tools), so the reader validates everything
// in the header against the file before touching data: a damaged or truncated file is
// a strata::Error naming the file and the problem, never a crash or an out-of-bounds read.
// The reader decodes F32, F16 and BF16 into float32 exactly; the writer emits any of them.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "strata/dtype.h"
#include "strata/file_util.h"

namespace strata {

// One tensor as described by the header; offsets are already checked against the file.
struct TensorEntry {
  std::string name;
  std::string dtype;           // as spelled in the file: "F32", "F16", "BF16", "I64", ...
  std::vector<int64_t> shape;  // row-major; empty for a scalar
  size_t numel = 0;            // product of shape
  size_t begin = 0, end = 0;   // byte range, relative to the start of the data section
};

class SafetensorsReader {
 public:
  // Maps the file and validates its header; throws strata::Error.
  static SafetensorsReader open(const std::string& path);

  const std::string& path() const { return path_; }
  // In file order (ascending data offset).
  const std::vector<TensorEntry>& tensors() const { return tensors_; }
  const TensorEntry* find(const std::string& name) const;  // nullptr when absent
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Decodes an F32, F16 or BF16 tensor into float32; out.size() must equal e.numel.
  // Other dtypes throw an error naming the tensor and its dtype.
  void read_f32(const TensorEntry& e, std::span<float> out) const;
  std::vector<float> read_f32(const TensorEntry& e) const;
  // An F32, F16 or BF16 tensor's bytes as stored (little-endian), where the file is mapped:
  // valid while the reader or a copy of mapping() lives. Throws like read_f32.
  const unsigned char* bytes(const TensorEntry& e) const;
  std::shared_ptr<const void> mapping() const { return bytes_.keep; }

 private:
  std::string path_;
  FileBytes bytes_;          // the whole file, memory-mapped
  size_t data_start_ = 0;    // 8 + header length
  std::vector<TensorEntry> tensors_;
  std::map<std::string, size_t> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
};

// A tensor to write, its values borrowed: product(shape) floats in `data`, or instead (data
// empty) product(shape) values of type `stored_dtype` at `stored`, so that a matrix held in
// F16/BF16 is converted as it is written and a checkpoint is never widened whole.
struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::span<const float> data;
  const void* stored = nullptr;
  DType stored_dtype = DType::kF32;

  size_t value_count() const {  // what is given: data's floats, or product(shape) stored values
    if (!stored) return data.size();
    size_t n = 1;
    for (int64_t d : shape) n *= size_t(std::max<int64_t>(d, 0));
    return n;
  }
};

// Writes tensors in the given order, stored as `storage`: F32 exactly, or F16 / BF16
// (rounded to nearest even) to halve a file, e.g. the default model in assets/. The header
// is padded with spaces to a multiple of 8 bytes (as the reference implementation does,
// keeping the data section aligned). Atomic: a temporary file renamed into place, written
// in chunks (memory beyond the tensors themselves stays a few hundred KB). Throws
// strata::Error on bad input (duplicate name, data size not matching the shape) or I/O failure.
void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {}, DType storage = DType::kF32);

}  // namespace strata
