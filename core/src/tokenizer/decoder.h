// Decoders: token strings back to text, as the Hugging Face decoders chain them — ByteLevel,
// Metaspace, ByteFallback, Fuse, Strip, Replace, Sequence — but on bytes: strata returns
// the decoded bytes as they are (no U+FFFD for an ill-formed sequence, as HF's final
// from_utf8_lossy would give), which is what makes encode-then-decode exact for byte-level
// and byte-fallback tokenizers. Added tokens pass the ByteLevel step verbatim (as
// transformers does), so their text comes back as it was written.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_fields.h"

namespace strata::tok {

struct DecodedToken {
  std::string text;
  bool added = false;  // an added token's content (not in the byte-level alphabet)
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // whole: the tokens are a whole sequence. false decodes a token on its own as it reads
  // in the middle of a text (Strip and the Metaspace first-token rule do not apply).
  virtual void decode(std::vector<DecodedToken>& tokens, bool whole) const = 0;
};

std::unique_ptr<Decoder> make_decoder(const Json& j, Where where);

}  // namespace strata::tok
