#include "tokenizer/pre_tokenizer.h"

#include <algorithm>

#include "tokenizer/regex.h"
#include "tokenizer/unicode.h"

namespace strata::tok {

void split_piece(const Piece& piece, const std::vector<std::pair<size_t, size_t>>& matches, SplitBehavior behavior,
                 bool invert, std::vector<Piece>& out) {
  // The piece as consecutive (begin, end, is_match) parts, as HF's find_matches gives.
  struct Part {
    size_t begin, end;
    bool match;
  };
  std::vector<Part> parts;
  parts.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const auto& [b, e] : matches) {
    if (prev < b) parts.push_back({prev, b, false});
    parts.push_back({b, e, true});
    prev = e;
  }
  if (prev < piece.text.size()) parts.push_back({prev, piece.text.size(), false});
  if (invert)
    for (Part& p : parts) p.match = !p.match;

  std::vector<Part> kept;  // parts to emit (match now means "removed")
  kept.reserve(parts.size());
  switch (behavior) {
    case SplitBehavior::kRemoved:
      kept = parts;
      break;
    case SplitBehavior::kIsolated:
      for (Part p : parts) kept.push_back({p.begin, p.end, false});
      break;
    case SplitBehavior::kContiguous: {
      bool previous_match = false;
      for (const Part& p : parts) {
        if (p.match == previous_match && !kept.empty()) {
          kept.back().end = p.end;
        } else {
          kept.push_back({p.begin, p.end, false});
        }
        previous_match = p.match;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (const Part& p : parts) {
        if (p.match && !previous_match && !kept.empty()) {
          kept.back().end = p.end;
        } else {
          kept.push_back({p.begin, p.end, false});
        }
        previous_match = p.match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous_match = false;
      for (size_t k = parts.size(); k-- > 0;) {
        const Part& p = parts[k];
        if (p.match && !previous_match && !kept.empty()) {
          kept.back().begin = p.begin;
        } else {
          kept.push_back({p.begin, p.end, false});
        }
        previous_match = p.match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
    }
  }
  for (const Part& p : kept) {
    if (p.match || p.end == p.begin) continue;
    out.push_back({piece.text.substr(p.begin, p.end - p.begin), piece.at_start && p.begin == 0});
  }
}

namespace {

// Each matching character is one match (HF's Pattern for a char predicate).
template <class Pred>
std::vector<std::pair<size_t, size_t>> char_matches(std::string_view s, Pred&& pred) {
  std::vector<std::pair<size_t, size_t>> m;
  for (size_t i = 0; i < s.size();) {
    const CodePoint c = code_point_at(s, i);
    if (c.value != kInvalid && pred(c.value)) m.emplace_back(i, i + size_t(c.length));
    i += size_t(c.length);
  }
  return m;
}

std::vector<std::pair<size_t, size_t>> literal_matches(std::string_view s, const std::string& literal) {
  std::vector<std::pair<size_t, size_t>> m;
  if (literal.empty()) return m;
  for (size_t at = s.find(literal); at != std::string_view::npos; at = s.find(literal, at + literal.size()))
    m.emplace_back(at, at + literal.size());
  return m;
}

// Applies a per-piece split to every piece.
template <class Split>
void split_each(std::vector<Piece>& pieces, Split&& split) {
  std::vector<Piece> out;
  out.reserve(pieces.size() * 2);
  for (const Piece& p : pieces) split(p, out);
  pieces.swap(out);
}

SplitBehavior parse_behavior(const std::string& name, const Where& w) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  throw w.error("unknown behavior \"" + name +
                "\" (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
}

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(const PatternSpec& p, SplitBehavior behavior, bool invert)
      : literal_(p.text), behavior_(behavior), invert_(invert) {
    if (p.is_regex) regex_ = std::make_unique<Regex>(p.text);
  }
  void pre_tokenize(std::vector<Piece>& pieces, Arena&) const override {
    split_each(pieces, [&](const Piece& p, std::vector<Piece>& out) {
      split_piece(p, regex_ ? regex_->find_all(p.text) : literal_matches(p.text, literal_), behavior_, invert_, out);
    });
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_ = std::make_unique<Regex>(kGpt2Pattern);
  }
  void pre_tokenize(std::vector<Piece>& pieces, Arena& arena) const override {
    split_each(pieces, [&](Piece p, std::vector<Piece>& out) {
      if (add_prefix_space_ && !p.text.starts_with(' ')) {
        std::string& s = arena.emplace_back();
        s.reserve(p.text.size() + 1);
        s += ' ';
        s += p.text;
        p.text = s;
      }
      if (regex_) {
        split_piece(p, regex_->find_all(p.text), SplitBehavior::kIsolated, false, out);
      } else if (!p.text.empty()) {
        out.push_back(p);
      }
    });
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void pre_tokenize(std::vector<Piece>& pieces, Arena& arena) const override {
    split_each(pieces, [&](const Piece& p, std::vector<Piece>& out) {
      std::string s;
      s.reserve(p.text.size() + replacement_.size());
      const bool prepend = (scheme_ == PrependScheme::kAlways || (scheme_ == PrependScheme::kFirst && p.at_start));
      std::string replaced;
      replaced.reserve(p.text.size());
      for (const char c : p.text) {
        if (c == ' ') {
          replaced += replacement_;
        } else {
          replaced += c;
        }
      }
      if (prepend && !replaced.empty() && !replaced.starts_with(replacement_)) s = replacement_;
      s += replaced;
      arena.push_back(std::move(s));
      const Piece whole{arena.back(), p.at_start};
      if (split_) {
        split_piece(whole, literal_matches(whole.text, replacement_), SplitBehavior::kMergedWithNext, false, out);
      } else if (!whole.text.empty()) {
        out.push_back(whole);
      }
    });
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

class DigitsPreTokenizer : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual) : individual_(individual) {}
  void pre_tokenize(std::vector<Piece>& pieces, Arena&) const override {
    split_each(pieces, [&](const Piece& p, std::vector<Piece>& out) {
      split_piece(p, char_matches(p.text, is_numeric),
                  individual_ ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, false, out);
    });
  }

 private:
  bool individual_;
};

class PunctuationPreTokenizer : public PreTokenizer {
 public:
  explicit PunctuationPreTokenizer(SplitBehavior behavior) : behavior_(behavior) {}
  void pre_tokenize(std::vector<Piece>& pieces, Arena&) const override {
    split_each(pieces, [&](const Piece& p, std::vector<Piece>& out) {
      split_piece(p, char_matches(p.text, is_punctuation), behavior_, false, out);
    });
  }

 private:
  SplitBehavior behavior_;
};

// \w+|[^\w\s]+, keeping the matches only.
class WhitespacePreTokenizer : public PreTokenizer {
 public:
  WhitespacePreTokenizer() : regex_(R"(\w+|[^\w\s]+)") {}
  void pre_tokenize(std::vector<Piece>& pieces, Arena&) const override {
    split_each(pieces, [&](const Piece& p, std::vector<Piece>& out) {
      split_piece(p, regex_.find_all(p.text), SplitBehavior::kRemoved, true, out);
    });
  }

 private:
  Regex regex_;
};

class WhitespaceSplitPreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(std::vector<Piece>& pieces, Arena&) const override {
    split_each(pieces, [&](const Piece& p, std::vector<Piece>& out) {
      split_piece(p, char_matches(p.text, is_whitespace), SplitBehavior::kRemoved, false, out);
    });
  }
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void pre_tokenize(std::vector<Piece>& pieces, Arena& arena) const override {
    for (const auto& step : steps_) step->pre_tokenize(pieces, arena);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

}  // namespace

PreTokenizerInfo make_pre_tokenizer(const Json& j, Where w) {
  const std::string type = component_type(j, w);
  PreTokenizerInfo info;
  try {
    if (type == "Sequence") {
      const Json& list = require(j, "pretokenizers", w);
      if (!list.is_array()) throw w.error("\"pretokenizers\" must be an array");
      std::vector<std::unique_ptr<PreTokenizer>> steps;
      for (size_t i = 0; i < list.size(); ++i) {
        if (info.byte_level)
          throw w.item("pretokenizers", i - 1).error("ByteLevel must be the last pre-tokenizer (strata maps bytes in the model)");
        PreTokenizerInfo step = make_pre_tokenizer(list[i], w.item("pretokenizers", i));
        info.byte_level = step.byte_level;
        steps.push_back(std::move(step.pre_tokenizer));
      }
      info.pre_tokenizer = std::make_unique<SequencePreTokenizer>(std::move(steps));
    } else if (type == "Split") {
      const PatternSpec p = get_pattern(j, w);
      info.pre_tokenizer = std::make_unique<SplitPreTokenizer>(p, parse_behavior(get_string(j, "behavior", w), w),
                                                               get_bool_or(j, "invert", false, w));
    } else if (type == "ByteLevel") {
      info.pre_tokenizer = std::make_unique<ByteLevelPreTokenizer>(get_bool_or(j, "add_prefix_space", true, w),
                                                                   get_bool_or(j, "use_regex", true, w));
      info.byte_level = true;
    } else if (type == "Metaspace") {
      const std::string replacement = get_string_or(j, "replacement", "\xE2\x96\x81", w);
      const CodePoint c = replacement.empty() ? CodePoint{kInvalid, 0} : code_point_at(replacement, 0);
      if (c.value == kInvalid || size_t(c.length) != replacement.size())
        throw w.error("\"replacement\" must be one character");
      PrependScheme scheme = get_bool_or(j, "add_prefix_space", true, w) ? PrependScheme::kAlways : PrependScheme::kNever;
      if (j.contains("prepend_scheme") && !j["prepend_scheme"].is_null()) {
        const std::string s = get_string(j, "prepend_scheme", w);
        if (s == "always") scheme = PrependScheme::kAlways;
        else if (s == "first") scheme = PrependScheme::kFirst;
        else if (s == "never") scheme = PrependScheme::kNever;
        else throw w.error("unknown prepend_scheme \"" + s + "\" (expected always, first or never)");
      }
      info.pre_tokenizer = std::make_unique<MetaspacePreTokenizer>(replacement, scheme, get_bool_or(j, "split", true, w));
    } else if (type == "Digits") {
      info.pre_tokenizer = std::make_unique<DigitsPreTokenizer>(get_bool_or(j, "individual_digits", false, w));
    } else if (type == "Punctuation") {
      info.pre_tokenizer = std::make_unique<PunctuationPreTokenizer>(
          parse_behavior(get_string_or(j, "behavior", "Isolated", w), w));
    } else if (type == "Whitespace") {
      info.pre_tokenizer = std::make_unique<WhitespacePreTokenizer>();
    } else if (type == "WhitespaceSplit") {
      info.pre_tokenizer = std::make_unique<WhitespaceSplitPreTokenizer>();
    } else {
      throw w.error("unsupported pre-tokenizer type (supported: Sequence, Split, ByteLevel, Metaspace, Digits, "
                    "Punctuation, Whitespace, WhitespaceSplit)");
    }
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind(w.path, 0) == 0) throw;  // already names a component
    throw w.error(what);
  }
  return info;
}

}  // namespace strata::tok
