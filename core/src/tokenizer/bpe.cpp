#include "tokenizer/bpe.h"

#include <cstdio>
#include <queue>

#include "tokenizer/byte_level.h"
#include "tokenizer/unicode.h"

namespace strata::tok {

// ---------------------------------------------------------------------------------------
// Merge table

void MergeTable::reserve(size_t n) {
  size_t capacity = 16;
  shift_ = 60;
  while (capacity < 2 * n + 1) {
    capacity *= 2;
    --shift_;
  }
  keys_.assign(capacity, ~uint64_t(0));
  values_.assign(capacity, Merge{-1, -1});
  size_ = 0;
}

bool MergeTable::insert(int32_t left, int32_t right, Merge m) {
  if (2 * (size_ + 1) > keys_.size()) {  // grow: rehash into twice the room
    std::vector<uint64_t> old_keys = std::move(keys_);
    std::vector<Merge> old_values = std::move(values_);
    reserve(std::max<size_t>(16, old_keys.size()));
    for (size_t i = 0; i < old_keys.size(); ++i)
      if (old_keys[i] != ~uint64_t(0)) insert(int32_t(old_keys[i] >> 32), int32_t(old_keys[i] & 0xFFFFFFFFu), old_values[i]);
  }
  const uint64_t k = key(left, right);
  const size_t mask = keys_.size() - 1;
  for (size_t s = slot(k);; s = (s + 1) & mask) {
    if (keys_[s] == k) {
      values_[s] = m;
      return false;
    }
    if (keys_[s] == ~uint64_t(0)) {
      keys_[s] = k;
      values_[s] = m;
      ++size_;
      return true;
    }
  }
}

const MergeTable::Merge* MergeTable::find(int32_t left, int32_t right) const {
  if (size_ == 0) return nullptr;
  const uint64_t k = key(left, right);
  const size_t mask = keys_.size() - 1;
  for (size_t s = slot(k);; s = (s + 1) & mask) {
    if (keys_[s] == k) return &values_[s];
    if (keys_[s] == ~uint64_t(0)) return nullptr;
  }
}

// ---------------------------------------------------------------------------------------
// Loading

namespace {
constexpr int64_t kMaxIds = int64_t(1) << 24;
}

BpeModel::BpeModel(const Json& model, const Where& w, bool byte_level) : byte_level_(byte_level) {
  const Json& vocab = require(model, "vocab", w);
  if (!vocab.is_object()) throw w.error("\"vocab\" must be an object of token → id");
  // Ids may have holes, but not so many that a small file asks for a huge table.
  const int64_t id_limit = std::min<int64_t>(kMaxIds, 2 * int64_t(vocab.size()) + 1024);
  token_to_id_.reserve(vocab.size());
  std::vector<bool> used;
  for (const auto& [token, value] : vocab.items()) {
    const int64_t id = get_int(value, 0, id_limit - 1, "vocab id of " + Json(token).dump(), w);
    if (size_t(id) >= id_to_token_.size()) {
      id_to_token_.resize(size_t(id) + 1);
      used.resize(size_t(id) + 1);
    }
    if (used[size_t(id)])
      throw w.error("duplicate id " + std::to_string(id) + " in vocab (" + Json(id_to_token_[size_t(id)]).dump() +
                    " and " + Json(token).dump() + ")");
    used[size_t(id)] = true;
    id_to_token_[size_t(id)] = token;
    token_to_id_.emplace(token, int32_t(id));
  }

  byte_fallback_ = get_bool_or(model, "byte_fallback", false, w);
  fuse_unk_ = get_bool_or(model, "fuse_unk", false, w);
  ignore_merges_ = get_bool_or(model, "ignore_merges", false, w);
  prefix_ = get_string_or(model, "continuing_subword_prefix", "", w);
  suffix_ = get_string_or(model, "end_of_word_suffix", "", w);
  if (model.contains("dropout") && !model["dropout"].is_null() &&
      !(model["dropout"].is_number() && model["dropout"].get<double>() == 0.0))
    throw w.error("dropout is not supported (encoding must be deterministic)");
  const std::string unk = get_string_or(model, "unk_token", "", w);
  if (!unk.empty()) {
    unk_id_ = find(unk);
    if (unk_id_ < 0) throw w.error("unk_token " + Json(unk).dump() + " is not in the vocab");
  }

  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    fallback_token_[b] = find(name);
    byte_token_[b] = find(byte_level_char(static_cast<unsigned char>(b)));
  }
  if (!byte_level_) {
    for (const auto& [token, id] : token_to_id_) {
      if (token.empty()) continue;
      const CodePoint c = code_point_at(token, 0);
      if (c.value != kInvalid && size_t(c.length) == token.size()) char_token_.emplace(c.value, id);
    }
  }

  const Json& merges = require(model, "merges", w);
  if (!merges.is_array()) throw w.error("\"merges\" must be an array");
  merges_.reserve(merges.size());
  merge_count_ = merges.size();
  std::string left, right;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const Json& m = merges[rank];
    auto bad = [&](const std::string& what) {
      return w.error("merge " + std::to_string(rank) + " " + m.dump().substr(0, 120) + ": " + what);
    };
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        throw bad("expected two tokens separated by one space");
      left.assign(s, 0, space);
      right.assign(s, space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      throw bad("expected \"a b\" or [\"a\", \"b\"]");
    }
    const int32_t l = find(left), r = find(right);
    if (l < 0) throw bad("unknown token " + Json(left).dump());
    if (r < 0) throw bad("unknown token " + Json(right).dump());
    if (!right.starts_with(prefix_)) throw bad("right token lacks the continuing_subword_prefix");
    const std::string made = left + right.substr(prefix_.size());
    const int32_t id = find(made);
    if (id < 0) throw bad("the merged token " + Json(made).dump() + " is not in the vocab");
    merges_.insert(l, r, {int32_t(rank), id});  // a repeated pair takes its later rank, as HF
  }

  if (byte_level_ && ignore_merges_) {
    for (const auto& [token, id] : token_to_id_)
      if (auto bytes = byte_level_to_bytes(token)) bytes_to_id_.emplace(std::move(*bytes), id);
  }
}

int32_t BpeModel::find(std::string_view token) const {
  const auto it = token_to_id_.find(std::string(token));
  return it == token_to_id_.end() ? -1 : it->second;
}

// ---------------------------------------------------------------------------------------
// Encoding

void BpeModel::initial_symbols(std::string_view piece, std::vector<int32_t>& symbols) const {
  const bool plain = prefix_.empty() && suffix_.empty();
  bool unk_pending = false;
  auto flush_unk = [&] {
    if (unk_pending) symbols.push_back(unk_id_);
    unk_pending = false;
  };
  std::string s;
  for (size_t i = 0; i < piece.size();) {
    const size_t length = byte_level_ ? 1 : size_t(code_point_at(piece, i).length);
    const std::string_view ch = piece.substr(i, length);
    const bool first = i == 0, last = i + length == piece.size();
    i += length;
    int32_t id = -1;
    std::string_view looked_up;
    if (plain) {
      if (byte_level_) {
        id = byte_token_[static_cast<unsigned char>(ch[0])];
        looked_up = byte_level_char(static_cast<unsigned char>(ch[0]));
      } else {
        const CodePoint c = code_point_at(ch, 0);
        if (c.value != kInvalid) {
          const auto it = char_token_.find(c.value);
          if (it != char_token_.end()) id = it->second;
        }
        looked_up = ch;
      }
    } else {
      s.clear();
      if (!first) s += prefix_;
      if (byte_level_) {
        s += byte_level_char(static_cast<unsigned char>(ch[0]));
      } else {
        s += ch;
      }
      if (last) s += suffix_;
      id = find(s);
      looked_up = s;
    }
    if (id >= 0) {
      flush_unk();
      symbols.push_back(id);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (const char b : looked_up) all = all && fallback_token_[static_cast<unsigned char>(b)] >= 0;
      if (all) {
        flush_unk();
        for (const char b : looked_up) symbols.push_back(fallback_token_[static_cast<unsigned char>(b)]);
        continue;
      }
    }
    if (unk_id_ < 0) continue;  // no unk token: the character is dropped, as HF does
    if (unk_pending && fuse_unk_) continue;
    flush_unk();
    unk_pending = true;
  }
  flush_unk();
}

void BpeModel::merge(std::vector<int32_t>& symbols) const {
  const int n = int(symbols.size());
  if (n < 2 || merges_.size() == 0) return;
  std::vector<int> next(static_cast<size_t>(n)), prev(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    next[size_t(i)] = i + 1 < n ? i + 1 : -1;
    prev[size_t(i)] = i - 1;
  }
  struct Candidate {
    int32_t rank;
    int position;
    int32_t left, right, id;
    // Lowest rank first; among equal ranks the leftmost.
    bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : position > o.position; }
  };
  std::vector<Candidate> heap_storage;
  heap_storage.reserve(size_t(n));
  std::priority_queue<Candidate> queue(std::less<Candidate>(), std::move(heap_storage));
  auto consider = [&](int position) {
    if (position < 0 || next[size_t(position)] < 0) return;
    const int32_t left = symbols[size_t(position)], right = symbols[size_t(next[size_t(position)])];
    if (const MergeTable::Merge* m = merges_.find(left, right)) queue.push({m->rank, position, left, right, m->id});
  };
  for (int i = 0; i + 1 < n; ++i) consider(i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    const int right_position = next[size_t(c.position)];
    // A merged symbol always gets a longer token, so unchanged ids mean an unchanged pair.
    if (symbols[size_t(c.position)] != c.left || right_position < 0 || symbols[size_t(right_position)] != c.right)
      continue;
    symbols[size_t(c.position)] = c.id;
    symbols[size_t(right_position)] = -1;
    next[size_t(c.position)] = next[size_t(right_position)];
    if (next[size_t(c.position)] >= 0) prev[size_t(next[size_t(c.position)])] = c.position;
    consider(prev[size_t(c.position)]);
    consider(c.position);
  }
  size_t out = 0;
  for (int i = 0; i >= 0; i = next[size_t(i)]) symbols[out++] = symbols[size_t(i)];
  symbols.resize(out);
}

void BpeModel::encode(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    if (byte_level_) {
      const auto it = bytes_to_id_.find(std::string(piece));
      if (it != bytes_to_id_.end()) {
        out.push_back(it->second);
        return;
      }
    } else if (const int32_t id = find(piece); id >= 0) {
      out.push_back(id);
      return;
    }
  }
  std::vector<int32_t> symbols;
  symbols.reserve(piece.size());
  initial_symbols(piece, symbols);
  merge(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
}

}  // namespace strata::tok
