// Training strata's own byte-level BPE and writing it as a tokenizer.json.
//
// Ids 0..255 are the single bytes (id == byte value); id 256 + r is the token made by merge
// r; an optional "<|endoftext|>" added token comes last. Pieces come from the ByteLevel
// pre-tokenizer with GPT-2's regex, the same one the written file declares, and merges
// never cross a piece. Deterministic: the most frequent pair wins, ties go to the smallest
// (left, right) ids; a pair whose bytes already form a token is never merged.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::tok {

inline constexpr std::string_view kEndOfText = "<|endoftext|>";

struct TrainedBpe {
  std::vector<std::pair<int32_t, int32_t>> merges;  // rank r makes id 256 + r
  std::vector<std::string> token_bytes;             // by id, without <|endoftext|>
  bool add_bos = false;                             // "<|endoftext|>" gets the next id
};

// Throws strata::Error if vocab_size is outside [256 (+1 with add_bos), max_vocab_size].
TrainedBpe train_byte_level_bpe(std::string_view text, int vocab_size, const std::function<void(int, int)>& progress,
                                bool add_bos, int max_vocab_size);
std::string byte_level_tokenizer_json(const TrainedBpe& bpe);

}  // namespace strata::tok
