// One tokenizer.json pipeline, as the Hugging Face tokenizers run it:
//
//   text ─ added tokens split out (raw) ─ normalizer ─ added tokens (normalized) ─
//        ─ pre-tokenizer ─ BPE model per piece ─ post-processor (with add_special) ─ ids
//   ids ─ token strings (added tokens' contents) ─ decoder chain ─ bytes
//
// Built only by load_pipeline (json_loader.h); immutable afterwards, so one pipeline can
// serve several threads. Encoding keeps a per-call cache of the ids of each distinct piece.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/pre_tokenizer.h"

namespace strata::tok {

struct PieceCache;  // ids of the pieces already encoded in one call (pipeline.cpp)

struct Pipeline {
  std::unique_ptr<Normalizer> normalizer;        // may be null
  std::unique_ptr<PreTokenizer> pre_tokenizer;   // may be null
  std::unique_ptr<BpeModel> model;
  AddedVocabulary added;
  std::unique_ptr<PostProcessor> post_processor;  // may be null
  std::unique_ptr<Decoder> decoder;               // may be null: tokens joined by spaces
  int32_t id_count = 0;                           // 1 + the largest id of the model or an added token

  std::vector<int32_t> encode(std::string_view text, bool add_special) const;
  // Throws strata::Error on an id out of range or a hole in the vocabulary.
  std::string decode(std::span<const int32_t> ids, bool skip_special) const;
  std::string token_text(int32_t id) const;
  std::string token_string(int32_t id) const;  // as written in tokenizer.json
  int32_t find(std::string_view token) const;  // an added token's content or a vocab token; -1
  bool is_special(int32_t id) const;

 private:
  void encode_plain(std::string_view text, bool at_start, std::vector<int32_t>& ids, Arena& arena, PieceCache& cache) const;
  DecodedToken token_for_decode(int32_t id) const;
};

}  // namespace strata::tok
