#include "tokenizer/decoder.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/unicode.h"

namespace strata::tok {
namespace {

class ByteLevelDecoder : public Decoder {
 public:
  void decode(std::vector<DecodedToken>& tokens, bool) const override {
    for (DecodedToken& t : tokens) {
      if (t.added) continue;
      if (auto bytes = byte_level_to_bytes(t.text)) t.text = std::move(*bytes);  // else: its own bytes, as HF
    }
  }
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first) : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void decode(std::vector<DecodedToken>& tokens, bool whole) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& s = tokens[i].text;
      std::string out;
      out.reserve(s.size());
      // As HF: in the first token of a sequence every replacement character is dropped.
      const bool drop = whole && i == 0 && strip_first_;
      for (size_t at = 0; at < s.size();) {
        if (s.compare(at, replacement_.size(), replacement_) == 0) {
          if (!drop) out += ' ';
          at += replacement_.size();
        } else {
          out += s[at++];
        }
      }
      s = std::move(out);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

// Consecutive <0xXX> tokens become their bytes.
class ByteFallbackDecoder : public Decoder {
 public:
  void decode(std::vector<DecodedToken>& tokens, bool) const override {
    std::vector<DecodedToken> out;
    out.reserve(tokens.size());
    std::string bytes;
    bool in_bytes = false;
    for (DecodedToken& t : tokens) {
      const std::string& s = t.text;
      int value = -1;
      if (s.size() == 6 && s.compare(0, 3, "<0x") == 0 && s[5] == '>') value = hex_byte(s[3], s[4]);
      if (value >= 0) {
        bytes += char(value);
        in_bytes = true;
        continue;
      }
      if (in_bytes) out.push_back({std::move(bytes), false});
      bytes.clear();
      in_bytes = false;
      out.push_back(std::move(t));
    }
    if (in_bytes) out.push_back({std::move(bytes), false});
    tokens.swap(out);
  }

 private:
  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  }
  static int hex_byte(char a, char b) {
    const int hi = hex_digit(a), lo = hex_digit(b);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
  }
};

class FuseDecoder : public Decoder {
 public:
  void decode(std::vector<DecodedToken>& tokens, bool) const override {
    std::string all;
    for (const DecodedToken& t : tokens) all += t.text;
    tokens.assign(1, {std::move(all), false});
  }
};

// Removes up to `start` leading and `stop` trailing copies of one character per token.
class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop) : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode(std::vector<DecodedToken>& tokens, bool whole) const override {
    if (!whole || content_.empty()) return;
    for (DecodedToken& t : tokens) {
      std::string& s = t.text;
      size_t begin = 0, end = s.size();
      for (size_t k = 0; k < start_ && s.compare(begin, content_.size(), content_) == 0 && begin < end; ++k)
        begin += content_.size();
      for (size_t k = 0; k < stop_ && end >= begin + content_.size() &&
                         s.compare(end - content_.size(), content_.size(), content_) == 0;
           ++k)
        end -= content_.size();
      s = s.substr(begin, end - begin);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  explicit ReplaceDecoder(Replacer r) : r_(std::move(r)) {}
  void decode(std::vector<DecodedToken>& tokens, bool) const override {
    for (DecodedToken& t : tokens) t.text = r_.apply(t.text);
  }

 private:
  Replacer r_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
  void decode(std::vector<DecodedToken>& tokens, bool whole) const override {
    for (const auto& s : steps_) s->decode(tokens, whole);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const Json& j, Where w) {
  const std::string type = component_type(j, w);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") {
    const std::string replacement = get_string_or(j, "replacement", "\xE2\x96\x81", w);
    if (replacement.empty()) throw w.error("\"replacement\" must be one character");
    bool strip_first = get_bool_or(j, "add_prefix_space", true, w);
    const std::string scheme = get_string_or(j, "prepend_scheme", strip_first ? "always" : "never", w);
    if (scheme != "always" && scheme != "first" && scheme != "never")
      throw w.error("unknown prepend_scheme \"" + scheme + "\" (expected always, first or never)");
    strip_first = scheme != "never";
    return std::make_unique<MetaspaceDecoder>(replacement, strip_first);
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    const std::string content = get_string(j, "content", w);
    const CodePoint c = content.empty() ? CodePoint{kInvalid, 0} : code_point_at(content, 0);
    if (c.value == kInvalid || size_t(c.length) != content.size()) throw w.error("\"content\" must be one character");
    return std::make_unique<StripDecoder>(content, size_t(get_int_or(j, "start", 0, 0, 1 << 20, w)),
                                          size_t(get_int_or(j, "stop", 0, 0, 1 << 20, w)));
  }
  if (type == "Replace") return std::make_unique<ReplaceDecoder>(make_replacer(j, w));
  if (type == "Sequence") {
    const Json& list = require(j, "decoders", w);
    if (!list.is_array()) throw w.error("\"decoders\" must be an array");
    std::vector<std::unique_ptr<Decoder>> steps;
    for (size_t i = 0; i < list.size(); ++i) steps.push_back(make_decoder(list[i], w.item("decoders", i)));
    return std::make_unique<SequenceDecoder>(std::move(steps));
  }
  throw w.error("unsupported decoder type (supported: ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace, Sequence)");
}

}  // namespace strata::tok
