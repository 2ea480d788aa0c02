// tokenizer.json → Pipeline: the top-level sections (normalizer, pre_tokenizer, model,
// added_tokens, post_processor, decoder) with every component checked as it is read.
// A malformed or unsupported file is refused with one strata::Error naming the component
// ("pre_tokenizer.pretokenizers[0] (Split): regex does not compile (...)"), never a crash
// or another exception. truncation and padding are ignored (strata encodes whole texts).
#pragma once
#include <memory>
#include <string_view>

#include "tokenizer/pipeline.h"

namespace strata::tok {

std::shared_ptr<const Pipeline> load_pipeline(std::string_view json_text);

}  // namespace strata::tok
