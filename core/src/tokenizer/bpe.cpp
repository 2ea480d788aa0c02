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
  slots_.assign(capacity, Slot{~uint64_t(0), {-1, -1}});
  size_ = 0;
}

bool MergeTable::insert(int32_t left, int32_t right, Merge m) {
  if (2 * (size_ + 1) > slots_.size()) {  // grow: rehash into twice the room
    std::vector<Slot> old = std::move(slots_);
    reserve(std::max<size_t>(16, old.size()));
    for (const Slot& s : old)
      if (s.key != ~uint64_t(0)) insert(int32_t(s.key >> 32), int32_t(s.key & 0xFFFFFFFFu), s.value);
  }
  const uint64_t k = key(left, right);
  const size_t mask = slots_.size() - 1;
  for (size_t s = slot(k);; s = (s + 1) & mask) {
    if (slots_[s].key == k) {
      slots_[s].value = m;
      return false;
    }
    if (slots_[s].key == ~uint64_t(0)) {
      slots_[s] = {k, m};
      ++size_;
      return true;
    }
  }
}

const MergeTable::Merge* MergeTable::find(int32_t left, int32_t right) const {
  if (size_ == 0) return nullptr;
  const uint64_t k = key(left, right);
  const size_t mask = slots_.size() - 1;
  for (size_t s = slot(k);; s = (s + 1) & mask) {
    if (slots_[s].key == k) return &slots_[s].value;
    if (slots_[s].key == ~uint64_t(0)) return nullptr;
  }
}

// ---------------------------------------------------------------------------------------
// String index

uint64_t StringIndex::hash(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, then a final mix
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  h ^= h >> 32;
  return h * 0x9E3779B97F4A7C15ull;
}

void StringIndex::reset(const std::vector<std::string>* keys, size_t n) {
  keys_ = keys;
  size_t capacity = 16;
  while (capacity < 2 * n + 1) capacity *= 2;
  hashes_.assign(capacity, 0);
  ids_.assign(capacity, -1);
}

bool StringIndex::insert(int32_t id) {
  const std::string& key = (*keys_)[size_t(id)];
  const uint64_t h = hash(key);
  const size_t mask = ids_.size() - 1;
  for (size_t s = size_t(h >> 20) & mask;; s = (s + 1) & mask) {
    if (ids_[s] < 0) {
      ids_[s] = id;
      hashes_[s] = h;
      return true;
    }
    if (hashes_[s] == h && (*keys_)[size_t(ids_[s])] == key) return false;
  }
}

int32_t StringIndex::find(std::string_view key) const {
  if (ids_.empty()) return -1;
  const uint64_t h = hash(key);
  const size_t mask = ids_.size() - 1;
  for (size_t s = size_t(h >> 20) & mask;; s = (s + 1) & mask) {
    if (ids_[s] < 0) return -1;
    if (hashes_[s] == h && (*keys_)[size_t(ids_[s])] == key) return ids_[s];
  }
}

// ---------------------------------------------------------------------------------------
// Loading

namespace {
constexpr int64_t kMaxIds = int64_t(1) << 24;
}

BpeModel::BpeModel(const Json& model, const VocabEntries* read_vocab, const Where& w, bool byte_level)
    : byte_level_(byte_level) {
  VocabEntries from_model;
  if (!read_vocab) {
    const Json& v = require(model, "vocab", w);
    if (!v.is_object()) throw w.error("\"vocab\" must be an object of token → id");
    for (const auto& [token, value] : v.items()) from_model.emplace_back(token, value);
    read_vocab = &from_model;
  }
  const VocabEntries& vocab = *read_vocab;
  // Ids may have holes, but not so many that a small file asks for a huge table.
  const int64_t id_limit = std::min<int64_t>(kMaxIds, 2 * int64_t(vocab.size()) + 1024);
  std::vector<bool> used;
  for (const auto& [token, value] : vocab) {
    int64_t id = -1;
    if (value.is_number_unsigned() && value.get<uint64_t>() < uint64_t(id_limit)) {
      id = int64_t(value.get<uint64_t>());
    } else if (value.is_number_integer() && value.get<int64_t>() >= 0 && value.get<int64_t>() < id_limit) {
      id = value.get<int64_t>();
    } else {
      get_int(value, 0, id_limit - 1, "vocab id of " + Json(token).dump(), w);  // throws the message
    }
    if (size_t(id) >= id_to_token_.size()) {
      id_to_token_.resize(size_t(id) + 1);
      used.resize(size_t(id) + 1);
    }
    if (used[size_t(id)])
      throw w.error("duplicate id " + std::to_string(id) + " in vocab (" + Json(id_to_token_[size_t(id)]).dump() +
                    " and " + Json(token).dump() + ")");
    used[size_t(id)] = true;
    id_to_token_[size_t(id)] = token;
  }
  token_to_id_.reset(&id_to_token_, vocab.size());
  for (size_t id = 0; id < id_to_token_.size(); ++id) {
    if (!used[id]) continue;
    if (!token_to_id_.insert(int32_t(id))) throw w.error("token " + Json(id_to_token_[id]).dump() + " appears twice in vocab");
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
    for (size_t id = 0; id < id_to_token_.size(); ++id) {
      const std::string& token = id_to_token_[id];
      if (!used[id] || token.empty() || token.size() > 4) continue;
      const CodePoint c = code_point_at(token, 0);
      if (c.value != kInvalid && size_t(c.length) == token.size()) char_token_.emplace(c.value, int32_t(id));
    }
  }

  const Json& merges = require(model, "merges", w);
  if (!merges.is_array()) throw w.error("\"merges\" must be an array");
  merges_.reserve(merges.size());
  merge_count_ = merges.size();
  std::string_view left, right;
  std::string made;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const Json& m = merges[rank];
    auto bad = [&](const std::string& what) {
      return w.error("merge " + std::to_string(rank) + " " + m.dump().substr(0, 120) + ": " + what);
    };
    if (m.is_string()) {
      const std::string_view s = m.get_ref<const std::string&>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        throw bad("expected two tokens separated by one space");
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get_ref<const std::string&>();
      right = m[1].get_ref<const std::string&>();
    } else {
      throw bad("expected \"a b\" or [\"a\", \"b\"]");
    }
    const int32_t l = find(left), r = find(right);
    if (l < 0) throw bad("unknown token " + Json(std::string(left)).dump());
    if (r < 0) throw bad("unknown token " + Json(std::string(right)).dump());
    if (!right.starts_with(prefix_)) throw bad("right token lacks the continuing_subword_prefix");
    made.assign(left);
    made.append(right.substr(prefix_.size()));
    const int32_t id = find(made);
    if (id < 0) throw bad("the merged token " + Json(made).dump() + " is not in the vocab");
    merges_.insert(l, r, {int32_t(rank), id});  // a repeated pair takes its later rank, as HF
  }

  if (byte_level_ && ignore_merges_) {
    bytes_of_id_.resize(id_to_token_.size());
    bytes_to_id_.reset(&bytes_of_id_, id_to_token_.size());
    for (size_t id = 0; id < id_to_token_.size(); ++id) {
      if (!used[id]) continue;
      if (auto bytes = byte_level_to_bytes(id_to_token_[id])) {
        bytes_of_id_[id] = std::move(*bytes);
        bytes_to_id_.insert(int32_t(id));
      }
    }
  }
}

int32_t BpeModel::find(std::string_view token) const { return token_to_id_.find(token); }

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
      if (const int32_t id = bytes_to_id_.find(piece); id >= 0) {
        out.push_back(id);
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
