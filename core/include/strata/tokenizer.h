// Tokenizer: a Hugging Face tokenizer.json pipeline — the files of Llama 2/3, Mistral, Qwen,
// Gemma and GPT-2, and the byte-level BPE strata trains itself — giving the reference
// implementation's ids exactly. The pipeline (core/src/tokenizer/) is, in order:
//
//   added tokens (special or not) split out of the text, leftmost-longest, before anything else
//   normalizer      Sequence, Prepend, Replace, NFC/NFD/NFKC/NFKD, Lowercase, Strip, StripAccents
//   pre-tokenizer   ByteLevel, Split (regex or string), Metaspace, Digits, Punctuation,
//                   Whitespace, WhitespaceSplit, Sequence
//   model           BPE (merges "a b" or ["a", "b"], byte_fallback, ignore_merges,
//                   unk_token, continuing_subword_prefix, end_of_word_suffix)
//   post-processor  TemplateProcessing, ByteLevel, Sequence (only with add_special)
//   decoder         ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace, Sequence
//
// Text is bytes: ill-formed UTF-8 is accepted and never matches a regex character, so a
// byte-level tokenizer maps every byte string to ids and back exactly, and a byte-fallback
// one does so for text without its metaspace character (U+2581) or added-token text.
//
// strata's own tokenizers (train, the default constructor) are such pipelines: ids 0..255
// are the single bytes (id == byte value), id 256 + r is made by merge r, an optional
// "<|endoftext|>" special token comes last (bos_id()); pieces come from the ByteLevel
// pre-tokenizer with GPT-2's regex, exactly as the tokenizer.json they write declares.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strata {

namespace tok {
struct Pipeline;
}

class Tokenizer {
 public:
  // Called after each merge during training with (merges learned so far, merges wanted).
  using ProgressFn = std::function<void(int merges_done, int merges_wanted)>;

  static constexpr int kByteVocabSize = 256;
  static constexpr int kMaxVocabSize = 16384;  // for train()
  static constexpr std::string_view kEndOfText = "<|endoftext|>";

  Tokenizer();  // pure byte-level: 256 tokens, no merges, no special token

  // Learns merges on `text` until the vocabulary holds `vocab_size` ids, counting the
  // 256 bytes and, if add_bos, the "<|endoftext|>" token (so vocab_size 256 requires
  // add_bos == false). Stops early, with fewer ids, only when no adjacent pair of tokens
  // is left inside any pre-token (a tiny or highly repetitive text). A pair whose bytes
  // already form a token is never merged, so every token is a distinct byte string.
  // Deterministic: the most frequent pair wins, ties go to the smallest (left, right) ids.
  // Throws strata::Error if vocab_size is outside [256 (+1 with add_bos), 16384].
  static Tokenizer train(std::string_view text, int vocab_size, ProgressFn progress = {},
                         bool add_bos = true);

  // Reads a tokenizer.json. Throws strata::Error naming the path and the component on a
  // malformed or unsupported file: malformed JSON, an unknown component type, merges naming
  // unknown tokens, duplicate ids, a regex that does not compile, ...
  static Tokenizer load(const std::string& path);
  // The same from the file's text; `name` prefixes error messages.
  static Tokenizer from_json(std::string_view json_text, const std::string& name = "tokenizer.json");

  // All const with no hidden state, so one tokenizer can serve several threads.
  // The pipeline's ids, without the post-processor's template tokens (BOS/EOS) unless
  // add_special (the reference's default, add_special_tokens=True). Added tokens written
  // in the text ("<|endoftext|>", "<s>") are recognised as the reference does.
  std::vector<int32_t> encode(std::string_view bytes) const { return encode(bytes, false); }
  std::vector<int32_t> encode(std::string_view bytes, bool add_special) const;
  // The bytes the decoder chain makes of ids; skip_special leaves special tokens out.
  // Throws strata::Error on an id out of range.
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;

  // The bytes a token contributes in the middle of a text (a byte-level token's bytes,
  // " the" for "▁the", "\n" for "<0x0A>"); an added token's content ("<|endoftext|>").
  // Throws strata::Error on an id out of range.
  std::string token_text(int32_t id) const;
  int vocab_size() const;   // 1 + the largest id (model vocabulary and added tokens)
  // The BOS this file implies: the first token its post-processor puts before the text,
  // else the special token "<|endoftext|>" (strata's own, GPT-2), else -1. A model
  // directory's config files may say otherwise: see bos_policy.h.
  int bos_id() const;
  int merge_count() const;
  int token_to_id(std::string_view token) const;  // an added token or vocab entry; -1 if none
  bool is_special(int32_t id) const;
  bool is_added(int32_t id) const;  // an added token (special or not), matched before the pipeline
  // The ids add_special puts before / after the text.
  std::vector<int32_t> special_prefix() const;
  std::vector<int32_t> special_suffix() const;

  void save(const std::string& path) const;  // tokenizer.json (the text it was read from), atomically
  const std::string& json() const { return *json_; }

 private:
  Tokenizer(std::shared_ptr<const tok::Pipeline> pipeline, std::shared_ptr<const std::string> json);
  std::shared_ptr<const tok::Pipeline> pipeline_;
  std::shared_ptr<const std::string> json_;
  int32_t bos_id_ = -1;
};

}  // namespace strata
