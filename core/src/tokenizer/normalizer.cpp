#include "tokenizer/normalizer.h"

namespace strata::tok {
namespace {

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  std::string normalize(std::string_view text) const override {
    std::string s(text);
    for (const auto& step : steps_) s = step->normalize(s);
    return s;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string normalize(std::string_view text) const override {
    return text.empty() ? std::string() : prefix_ + std::string(text);  // as HF: never on empty text
  }

 private:
  std::string prefix_;
};

}  // namespace

Replacer::Replacer(const PatternSpec& p, std::string content) : literal_(p.text), content_(std::move(content)) {
  if (p.is_regex) regex_ = std::make_shared<const Regex>(p.text);
}

std::string Replacer::apply(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  size_t prev = 0;
  if (regex_) {
    for (const auto& [b, e] : regex_->find_all(text)) {
      out.append(text.substr(prev, b - prev));
      out += content_;
      prev = e;
    }
  } else if (!literal_.empty()) {
    for (size_t at = text.find(literal_); at != std::string_view::npos; at = text.find(literal_, prev)) {
      out.append(text.substr(prev, at - prev));
      out += content_;
      prev = at + literal_.size();
    }
  }
  out.append(text.substr(prev));
  return out;
}

Replacer make_replacer(const Json& j, const Where& w) {
  const PatternSpec p = get_pattern(j, w);
  std::string content = get_string(j, "content", w);
  try {
    return Replacer(p, std::move(content));
  } catch (const Error& e) {
    throw w.error(e.what());
  }
}

namespace {

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalForm form) : form_(form) {}
  std::string normalize(std::string_view text) const override { return tok::normalize(text, form_); }

 private:
  NormalForm form_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  std::string normalize(std::string_view text) const override { return lowercase(text); }
};

class ReplaceNormalizer : public Normalizer {
 public:
  explicit ReplaceNormalizer(Replacer r) : r_(std::move(r)) {}
  std::string normalize(std::string_view text) const override { return r_.apply(text); }

 private:
  Replacer r_;
};

class StripAccentsNormalizer : public Normalizer {
 public:
  std::string normalize(std::string_view text) const override { return strip_marks(text); }
};

// Strips leading and/or trailing White_Space.
class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  std::string normalize(std::string_view text) const override {
    size_t begin = 0, end = text.size();
    if (left_) {
      while (begin < end) {
        const CodePoint c = code_point_at(text, begin);
        if (c.value == kInvalid || !is_whitespace(c.value)) break;
        begin += size_t(c.length);
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;  // back to the start of the last character
        while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80 && end - start < 4) --start;
        const CodePoint c = code_point_at(text, start);
        if (c.value == kInvalid || start + size_t(c.length) != end || !is_whitespace(c.value)) break;
        end = start;
      }
    }
    return std::string(text.substr(begin, end - begin));
  }

 private:
  bool left_, right_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const Json& j, Where w) {
  const std::string type = component_type(j, w);
  if (type == "Sequence") {
    const Json& list = require(j, "normalizers", w);
    if (!list.is_array()) throw w.error("\"normalizers\" must be an array");
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (size_t i = 0; i < list.size(); ++i) steps.push_back(make_normalizer(list[i], w.item("normalizers", i)));
    return std::make_unique<SequenceNormalizer>(std::move(steps));
  }
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(get_string(j, "prepend", w));
  if (type == "Replace") return std::make_unique<ReplaceNormalizer>(make_replacer(j, w));
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(NormalForm::kNFC);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(NormalForm::kNFD);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormalForm::kNFKC);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormalForm::kNFKD);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "Strip")
    return std::make_unique<StripNormalizer>(get_bool_or(j, "strip_left", true, w), get_bool_or(j, "strip_right", true, w));
  throw w.error("unsupported normalizer type (supported: Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, "
                "Lowercase, Strip, StripAccents)");
}

}  // namespace strata::tok
