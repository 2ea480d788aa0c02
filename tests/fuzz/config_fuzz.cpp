// Fuzz target: config.json. Invariants: a refusal is a strata::Error; an accepted config
// validates, survives a JSON round trip unchanged, and its parameter layout tiles exactly
// parameter_count() floats.
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_util.h"
#include "strata/config.h"
#include "strata/weights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = strata::fuzz::scratch_dir() + "/config.json";
  strata::fuzz::write_bytes(path, std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    const strata::ModelConfig c = strata::read_config(path);
    c.validate();
    const nlohmann::json j = strata::config_to_json(c);
    STRATA_FUZZ_CHECK(strata::config_to_json(strata::config_from_json(j)) == j);
    size_t end = 0;
    for (const strata::TensorInfo& t : strata::parameter_layout(c)) {
      STRATA_FUZZ_CHECK(t.offset == end);
      end += t.size;
    }
    STRATA_FUZZ_CHECK(end == size_t(c.parameter_count()));
  } catch (const strata::Error&) {
  }
  return 0;
}
