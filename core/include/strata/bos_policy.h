// BOS/EOS resolution for a model directory: which ids begin and end a sequence and whether
// a BOS is put before the text, from the files Hugging Face writes beside the weights.
//
//   bos/eos id   tokenizer_config.json "bos_token"/"eos_token" (a string or an AddedToken
//                object, looked up in the tokenizer), else generation_config.json, else
//                config.json "bos_token_id"/"eos_token_id" (an eos list: its first id),
//                else the tokenizer's own bos_id() (its template's first token, or
//                "<|endoftext|>"); -1 when none of them names one
//   add BOS      auto: tokenizer_config.json "add_bos_token" if present, else whether the
//                tokenizer.json post-processor puts the BOS first; always / never override
//
// Every missing file or key is skipped; a malformed file, an id outside the vocabulary or
// `always` without a BOS is a strata::Error naming the file and key.
#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "strata/tokenizer.h"

namespace strata {

enum class BosMode { kAuto, kAlways, kNever };
BosMode parse_bos_mode(std::string_view name);  // "auto", "always", "never"; else strata::Error
const char* bos_mode_name(BosMode mode);

struct BosPolicy {
  int32_t bos_id = -1, eos_id = -1;
  bool add_bos = false;
  BosMode mode = BosMode::kAuto;
  std::string reason;  // where add_bos came from, e.g. "tokenizer_config.json add_bos_token"
};

BosPolicy resolve_bos_policy(const std::string& model_dir, const Tokenizer& tokenizer, BosMode mode = BosMode::kAuto);
// The same where token ids are scored without a tokenizer (tokenizer null): ids are checked
// against the model's vocab_size, a token named by its text is skipped, and auto without
// tokenizer_config.json "add_bos_token" adds none (there is no post-processor to ask).
BosPolicy resolve_bos_policy(const std::string& model_dir, const Tokenizer* tokenizer, int vocab_size, BosMode mode);

// The policy as the commands' JSON writes it, as summary.json does:
// {"before_every_context": bool, "id": the BOS or null when off, "decided_by": reason}.
nlohmann::json to_json(const BosPolicy& policy);

}  // namespace strata
