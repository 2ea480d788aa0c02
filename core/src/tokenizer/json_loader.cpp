#include "tokenizer/json_loader.h"

#include <algorithm>
#include <new>

namespace strata::tok {
namespace {

// Builds the document as nlohmann's DOM parser does, except model.vocab: its entries go
// into a flat list (a 262k-entry std::map of the DOM would be most of the loading time)
// and the DOM gets null in its place.
class Sax {
 public:
  explicit Sax(Json& root) : dom_(root) {}
  VocabEntries vocab;
  bool vocab_seen = false;

  bool null() { return in_vocab_ ? value(Json()) : dom_.null(); }
  bool boolean(bool b) { return in_vocab_ ? value(Json(b)) : dom_.boolean(b); }
  bool number_integer(Json::number_integer_t v) { return in_vocab_ ? value(Json(v)) : dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return in_vocab_ ? value(Json(v)) : dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t v, const Json::string_t& s) {
    return in_vocab_ ? value(Json(v)) : dom_.number_float(v, s);
  }
  bool string(Json::string_t& v) { return in_vocab_ ? value(Json("a string")) : dom_.string(v); }
  bool binary(Json::binary_t& v) { return in_vocab_ ? value(Json()) : dom_.binary(v); }
  bool start_object(std::size_t n) {
    if (in_vocab_) return nest();
    if (depth_ == 2 && path_[1] == "vocab" && path_[0] == "model") {  // model.vocab begins
      in_vocab_ = true;
      vocab_seen = true;
      vocab_depth_ = ++depth_;
      return true;
    }
    ++depth_;
    return dom_.start_object(n);
  }
  bool key(Json::string_t& k) {
    if (in_vocab_) {
      if (depth_ == vocab_depth_) pending_key_ = std::move(k);
      return true;
    }
    if (depth_ <= 2) path_[size_t(depth_ - 1)] = k;
    return dom_.key(k);
  }
  bool end_object() {
    if (in_vocab_) {
      if (depth_-- == vocab_depth_) {
        in_vocab_ = false;
        return dom_.null();
      }
      return unnest();
    }
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    if (in_vocab_) return nest();
    ++depth_;
    if (depth_ <= 2) path_[size_t(depth_ - 1)].clear();
    return dom_.start_array(n);
  }
  bool end_array() {
    if (in_vocab_) {
      --depth_;
      return unnest();
    }
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& token, const nlohmann::detail::exception& e) {
    return dom_.parse_error(position, token, e);
  }

 private:
  bool value(Json v) {
    if (depth_ == vocab_depth_) vocab.emplace_back(std::move(pending_key_), std::move(v));
    return true;
  }
  bool nest() {  // an object or array as a vocab value: recorded as one bad value
    if (depth_ == vocab_depth_) vocab.emplace_back(std::move(pending_key_), Json("an object or array"));
    ++depth_;
    return true;
  }
  bool unnest() { return true; }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  int depth_ = 0, vocab_depth_ = -1;
  bool in_vocab_ = false;
  std::string path_[2];
  std::string pending_key_;
};

AddedToken read_added_token(const Json& j, const Where& w, int64_t id_limit) {
  if (!j.is_object()) throw w.error("expected an object with \"id\" and \"content\"");
  AddedToken t;
  t.id = int32_t(get_int(require(j, "id", w), 0, id_limit - 1, "\"id\"", w));
  t.content = get_string(j, "content", w);
  if (t.content.empty()) throw w.error("empty content");
  t.single_word = get_bool_or(j, "single_word", false, w);
  t.lstrip = get_bool_or(j, "lstrip", false, w);
  t.rstrip = get_bool_or(j, "rstrip", false, w);
  t.special = get_bool_or(j, "special", false, w);
  t.normalized = get_bool_or(j, "normalized", !t.special, w);
  return t;
}

std::shared_ptr<const Pipeline> build(const Json& j, const VocabEntries* vocab) {
  if (!j.is_object()) throw Error("expected a JSON object (a Hugging Face tokenizer.json)");
  auto p = std::make_shared<Pipeline>();

  bool byte_level = false;
  if (const auto it = j.find("pre_tokenizer"); it != j.end() && !it->is_null()) {
    PreTokenizerInfo info = make_pre_tokenizer(*it, {"pre_tokenizer", ""});
    p->pre_tokenizer = std::move(info.pre_tokenizer);
    byte_level = info.byte_level;
  }

  Where mw{"model", ""};
  const Json& model = require(j, "model", {"tokenizer.json", ""});
  if (!model.is_object()) throw mw.error("expected an object");
  mw.type = get_string_or(model, "type", "BPE", mw);
  if (mw.type != "BPE") throw mw.error("unsupported model type (supported: BPE)");
  p->model = std::make_unique<BpeModel>(model, vocab, mw, byte_level);
  p->id_count = p->model->id_count();

  if (const auto it = j.find("added_tokens"); it != j.end() && !it->is_null()) {
    const Where aw{"added_tokens", ""};
    if (!it->is_array()) throw aw.error("expected an array");
    const int64_t id_limit = int64_t(p->model->id_count()) + int64_t(it->size()) + 1024;
    for (size_t i = 0; i < it->size(); ++i) {
      const Where iw{"added_tokens[" + std::to_string(i) + "]", ""};
      AddedToken t = read_added_token((*it)[i], iw, id_limit);
      if (const AddedToken* other = p->added.by_id(t.id))
        throw iw.error("duplicate id " + std::to_string(t.id) + " (" + Json(other->content).dump() + " and " +
                       Json(t.content).dump() + ")");
      if (p->added.by_content(t.content)) throw iw.error("token " + Json(t.content).dump() + " is added twice");
      if (t.id < p->model->id_count()) {
        const std::string& in_vocab = p->model->token(t.id);
        if (!in_vocab.empty() && in_vocab != t.content)
          throw iw.error("id " + std::to_string(t.id) + " of " + Json(t.content).dump() + " is the vocab's " +
                         Json(in_vocab).dump() + " (duplicate id)");
      }
      p->id_count = std::max(p->id_count, t.id + 1);
      p->added.add(std::move(t));
    }
  }

  if (const auto it = j.find("normalizer"); it != j.end() && !it->is_null())
    p->normalizer = make_normalizer(*it, {"normalizer", ""});
  if (const auto it = j.find("post_processor"); it != j.end() && !it->is_null())
    p->post_processor = make_post_processor(*it, {"post_processor", ""}, p->id_count);
  if (const auto it = j.find("decoder"); it != j.end() && !it->is_null()) p->decoder = make_decoder(*it, {"decoder", ""});
  return p;
}

}  // namespace

std::shared_ptr<const Pipeline> load_pipeline(std::string_view json_text) {
  Json j;
  Sax sax(j);
  try {
    Json::sax_parse(json_text, &sax);
  } catch (const Json::exception& e) {
    throw Error(std::string("malformed JSON (") + e.what() + ")");
  }
  try {
    return build(j, sax.vocab_seen ? &sax.vocab : nullptr);
  } catch (const Error&) {
    throw;
  } catch (const Json::exception& e) {  // a type mismatch the checks above missed: still one line
    throw Error(std::string("unexpected JSON content (") + e.what() + ")");
  } catch (const std::bad_alloc&) {
    throw Error("out of memory while building the tokenizer");
  } catch (const std::length_error& e) {
    throw Error(std::string("a size in the file is too large (") + e.what() + ")");
  }
}

}  // namespace strata::tok
