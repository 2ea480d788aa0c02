#include "tokenizer/pipeline.h"

#include <unordered_map>

#include "strata/error.h"

namespace strata::tok {
namespace {

// Where the ids of a piece already encoded in this call sit in the output.
struct Span {
  size_t offset, length;
};
constexpr size_t kMaxCachedPiece = 256;  // longer pieces rarely repeat

}  // namespace

struct PieceCache : std::unordered_map<std::string_view, Span> {};

void Pipeline::encode_plain(std::string_view text, bool at_start, std::vector<int32_t>& ids, Arena& arena,
                            PieceCache& cache) const {
  std::vector<Piece> pieces{{text, at_start}};
  if (pre_tokenizer) pre_tokenizer->pre_tokenize(pieces, arena);
  for (const Piece& p : pieces) {
    if (p.text.empty()) continue;
    if (p.text.size() >= kMaxCachedPiece) {
      model->encode(p.text, ids);
      continue;
    }
    const auto [it, inserted] = cache.try_emplace(p.text, Span{ids.size(), 0});
    if (inserted) {
      model->encode(p.text, ids);
      it->second.length = ids.size() - it->second.offset;
    } else {
      const Span s = it->second;
      ids.resize(ids.size() + s.length);
      std::copy_n(ids.begin() + std::ptrdiff_t(s.offset), s.length, ids.end() - std::ptrdiff_t(s.length));
    }
  }
}

std::vector<int32_t> Pipeline::encode(std::string_view text, bool add_special) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 16);
  Arena arena;  // normalized text and strings made by pre-tokenizers; pieces and the cache view them
  PieceCache cache;
  std::vector<Segment> segments, inner;
  added.split(text, /*raw=*/true, segments);
  for (const Segment& seg : segments) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    const bool at_start = seg.text.data() == text.data();
    std::string_view normalized = seg.text;
    if (normalizer) {
      arena.push_back(normalizer->normalize(seg.text));
      normalized = arena.back();
    }
    if (!added.has_normalized()) {
      if (!normalized.empty()) encode_plain(normalized, at_start, ids, arena, cache);
      continue;
    }
    inner.clear();
    added.split(normalized, /*raw=*/false, inner);
    for (const Segment& s : inner) {
      if (s.id >= 0) {
        ids.push_back(s.id);
      } else {
        encode_plain(s.text, at_start && s.text.data() == normalized.data(), ids, arena, cache);
      }
    }
  }
  return post_processor ? post_processor->process(std::move(ids), add_special) : ids;
}

std::string Pipeline::token_string(int32_t id) const {
  if (id < 0 || id >= id_count)
    throw Error("tokenizer: token id " + std::to_string(id) + " out of range [0, " + std::to_string(id_count) + ")");
  if (const AddedToken* t = added.by_id(id)) return t->content;
  if (id < model->id_count()) {
    const std::string& s = model->token(id);
    if (!s.empty()) return s;
  }
  throw Error("tokenizer: no token has id " + std::to_string(id) + " (a hole in the vocabulary)");
}

DecodedToken Pipeline::token_for_decode(int32_t id) const {
  if (const AddedToken* t = added.by_id(id)) return {t->content, true};
  return {token_string(id), false};
}

std::string Pipeline::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::vector<DecodedToken> tokens;
  tokens.reserve(ids.size());
  for (const int32_t id : ids) {
    if (skip_special && is_special(id)) continue;
    if (id < 0 || id >= id_count)
      throw Error("tokenizer: cannot decode token id " + std::to_string(id) + ", vocabulary has " +
                  std::to_string(id_count) + " ids");
    tokens.push_back(token_for_decode(id));
  }
  std::string out;
  if (!decoder) {  // as HF: tokens joined by spaces
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i].text;
    return out;
  }
  decoder->decode(tokens, /*whole=*/true);
  for (const DecodedToken& t : tokens) out += t.text;
  return out;
}

std::string Pipeline::token_text(int32_t id) const {
  std::vector<DecodedToken> tokens{token_for_decode(id)};
  if (decoder) decoder->decode(tokens, /*whole=*/false);
  std::string out;
  for (const DecodedToken& t : tokens) out += t.text;
  return out;
}

int32_t Pipeline::find(std::string_view token) const {
  if (const AddedToken* t = added.by_content(token)) return t->id;
  return model->find(token);
}

bool Pipeline::is_special(int32_t id) const {
  const AddedToken* t = added.by_id(id);
  return t && t->special;
}

}  // namespace strata::tok
