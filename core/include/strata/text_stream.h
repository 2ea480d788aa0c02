// The text of tokens as they are generated, released only once it is final. A token is
// often part of a character: a byte-level token or a byte-fallback piece ("<0xE2>" of
// "<0xE2>" "<0x82>" "<0xAC>") may end inside a UTF-8 sequence, and a decoder may show an
// incomplete one as U+FFFD (Hugging Face's ByteFallback does; strata's keeps the bytes). So each
// new token's text is the difference of two decodes over a short window of recent tokens
// (so decoders that depend on the context, like a leading-space strip, see it), held
// back while it ends in an incomplete UTF-8 sequence or U+FFFD.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "strata/tokenizer.h"

namespace strata {

class TextStream {
 public:
  // prompt: the tokens before the generated ones (their text is not released).
  TextStream(const Tokenizer& tokenizer, std::span<const int32_t> prompt);
  // The bytes that became final with this token (often all of its text, maybe none).
  std::string push(int32_t token);
  // What is still held back, as it is, at the end of generation.
  std::string finish();

 private:
  // decode(ids_[prefix_, read_)) is released; decode(ids_[prefix_, end)) extends it.
  std::string pending() const;
  const Tokenizer& tokenizer_;
  std::vector<int32_t> ids_;
  size_t prefix_, read_;
};

}  // namespace strata
