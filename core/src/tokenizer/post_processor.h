// Post-processors: what encode(text, add_special = true) wraps around the ids.
// TemplateProcessing (its "single" template: special tokens around sequence A), ByteLevel
// (offsets only: ids unchanged), Sequence of those.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "tokenizer/json_fields.h"

namespace strata::tok {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Returns ids with the template applied when add_special, else ids unchanged.
  virtual std::vector<int32_t> process(std::vector<int32_t> ids, bool add_special) const = 0;
  // The ids placed before / after the sequence with add_special (for the BOS policy).
  virtual std::vector<int32_t> prefix() const { return {}; }
  virtual std::vector<int32_t> suffix() const { return {}; }
};

// id_limit: every template id must be below it.
std::unique_ptr<PostProcessor> make_post_processor(const Json& j, Where where, int64_t id_limit);

}  // namespace strata::tok
