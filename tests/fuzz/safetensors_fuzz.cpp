// Fuzz target: .safetensors files. Invariants: a refusal is a strata::Error; an accepted
// file's float tensors decode, and written back as F32 and reopened they give the same
// names, shapes and bits (NaN payloads included).
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "strata/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = strata::fuzz::scratch_dir();
  strata::fuzz::write_bytes(dir + "/in.safetensors", std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    const auto reader = strata::SafetensorsReader::open(dir + "/in.safetensors");
    std::vector<std::vector<float>> values;
    std::vector<strata::NamedTensor> tensors;
    for (const strata::TensorEntry& e : reader.tensors()) {
      if (e.dtype != "F32" && e.dtype != "F16" && e.dtype != "BF16") continue;
      values.push_back(reader.read_f32(e));
      STRATA_FUZZ_CHECK(values.back().size() == e.numel);
    }
    size_t i = 0;
    for (const strata::TensorEntry& e : reader.tensors())
      if (e.dtype == "F32" || e.dtype == "F16" || e.dtype == "BF16") tensors.push_back({e.name, e.shape, values[i++]});
    strata::write_safetensors(dir + "/out.safetensors", tensors);
    const auto back = strata::SafetensorsReader::open(dir + "/out.safetensors");
    STRATA_FUZZ_CHECK(back.tensors().size() == tensors.size());
    for (const strata::NamedTensor& t : tensors) {
      const strata::TensorEntry* e = back.find(t.name);
      STRATA_FUZZ_CHECK(e && e->shape == t.shape && e->dtype == "F32");
      const std::vector<float> v = back.read_f32(*e);
      STRATA_FUZZ_CHECK(v.size() == t.data.size() && std::memcmp(v.data(), t.data.data(), v.size() * sizeof(float)) == 0);
    }
  } catch (const strata::Error&) {
  }
  return 0;
}
