#include "tokenizer/post_processor.h"

namespace strata::tok {
namespace {

class TemplateProcessor : public PostProcessor {
 public:
  TemplateProcessor(std::vector<int32_t> prefix, std::vector<int32_t> suffix)
      : prefix_(std::move(prefix)), suffix_(std::move(suffix)) {}
  std::vector<int32_t> process(std::vector<int32_t> ids, bool add_special) const override {
    if (!add_special) return ids;
    std::vector<int32_t> out;
    out.reserve(prefix_.size() + ids.size() + suffix_.size());
    out.insert(out.end(), prefix_.begin(), prefix_.end());
    out.insert(out.end(), ids.begin(), ids.end());
    out.insert(out.end(), suffix_.begin(), suffix_.end());
    return out;
  }
  std::vector<int32_t> prefix() const override { return prefix_; }
  std::vector<int32_t> suffix() const override { return suffix_; }

 private:
  std::vector<int32_t> prefix_, suffix_;
};

class IdentityProcessor : public PostProcessor {
 public:
  std::vector<int32_t> process(std::vector<int32_t> ids, bool) const override { return ids; }
};

class SequenceProcessor : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> steps) : steps_(std::move(steps)) {}
  std::vector<int32_t> process(std::vector<int32_t> ids, bool add_special) const override {
    for (const auto& s : steps_) ids = s->process(std::move(ids), add_special);
    return ids;
  }
  std::vector<int32_t> prefix() const override {
    std::vector<int32_t> p;
    for (const auto& s : steps_) {
      std::vector<int32_t> q = s->prefix();
      p.insert(p.begin(), q.begin(), q.end());
    }
    return p;
  }
  std::vector<int32_t> suffix() const override {
    std::vector<int32_t> p;
    for (const auto& s : steps_) {
      std::vector<int32_t> q = s->suffix();
      p.insert(p.end(), q.begin(), q.end());
    }
    return p;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

std::unique_ptr<PostProcessor> make_template(const Json& j, const Where& w, int64_t id_limit) {
  const Json& single = require(j, "single", w);
  if (!single.is_array()) throw w.error("\"single\" must be an array");
  const Json& specials = j.contains("special_tokens") ? j["special_tokens"] : Json::object();
  if (!specials.is_object()) throw w.error("\"special_tokens\" must be an object");
  std::vector<int32_t> prefix, suffix;
  bool seen_sequence = false;
  for (size_t i = 0; i < single.size(); ++i) {
    const Json& item = single[i];
    const Where iw = w.item("single", i);
    if (item.is_object() && item.contains("Sequence")) {
      const Json& seq = item["Sequence"];
      if (!seq.is_object() || get_string(seq, "id", iw) != "A") throw iw.error("the single template's sequence must be A");
      if (seen_sequence) throw iw.error("sequence A appears twice");
      seen_sequence = true;
    } else if (item.is_object() && item.contains("SpecialToken")) {
      const std::string name = get_string(item["SpecialToken"], "id", iw);
      const auto it = specials.find(name);
      if (it == specials.end()) throw iw.error("special token " + Json(name).dump() + " is not in special_tokens");
      const Json& ids = require(*it, "ids", iw);
      if (!ids.is_array()) throw iw.error("special_tokens[" + Json(name).dump() + "].ids must be an array");
      for (const Json& id : ids)
        (seen_sequence ? suffix : prefix).push_back(int32_t(get_int(id, 0, id_limit - 1, "template id", iw)));
    } else {
      throw iw.error("expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
  }
  if (!seen_sequence) throw w.error("the single template has no sequence A");
  return std::make_unique<TemplateProcessor>(std::move(prefix), std::move(suffix));
}

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const Json& j, Where w, int64_t id_limit) {
  const std::string type = component_type(j, w);
  if (type == "TemplateProcessing") return make_template(j, w, id_limit);
  if (type == "ByteLevel") return std::make_unique<IdentityProcessor>();
  if (type == "Sequence") {
    const Json& list = require(j, "processors", w);
    if (!list.is_array()) throw w.error("\"processors\" must be an array");
    std::vector<std::unique_ptr<PostProcessor>> steps;
    for (size_t i = 0; i < list.size(); ++i) steps.push_back(make_post_processor(list[i], w.item("processors", i), id_limit));
    return std::make_unique<SequenceProcessor>(std::move(steps));
  }
  throw w.error("unsupported post-processor type (supported: TemplateProcessing, ByteLevel, Sequence)");
}

}  // namespace strata::tok
