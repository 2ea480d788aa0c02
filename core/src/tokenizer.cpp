// The Tokenizer facade over one tokenizer.json pipeline (core/src/tokenizer/).
#include "strata/tokenizer.h"

#include "strata/error.h"
#include "strata/file_util.h"
#include "tokenizer/json_loader.h"
#include "tokenizer/trainer.h"

namespace strata {

Tokenizer::Tokenizer(std::shared_ptr<const tok::Pipeline> pipeline, std::shared_ptr<const std::string> json)
    : pipeline_(std::move(pipeline)), json_(std::move(json)) {
  const std::vector<int32_t> prefix = special_prefix();
  if (!prefix.empty()) {
    bos_id_ = prefix.front();
  } else if (const int32_t eot = pipeline_->find(kEndOfText); eot >= 0 && pipeline_->is_special(eot)) {
    bos_id_ = eot;
  }
}

Tokenizer::Tokenizer() {
  static const Tokenizer bytes = from_json(tok::byte_level_tokenizer_json(
      tok::train_byte_level_bpe("", kByteVocabSize, {}, /*add_bos=*/false, kMaxVocabSize)));
  *this = bytes;
}

Tokenizer Tokenizer::from_json(std::string_view json_text, const std::string& name) {
  try {
    return Tokenizer(tok::load_pipeline(json_text), std::make_shared<const std::string>(json_text));
  } catch (const Error& e) {
    throw Error(name + ": " + e.what());
  }
}

Tokenizer Tokenizer::load(const std::string& path) { return from_json(read_file(path), path); }

Tokenizer Tokenizer::train(std::string_view text, int vocab_size, ProgressFn progress, bool add_bos) {
  const tok::TrainedBpe bpe = tok::train_byte_level_bpe(text, vocab_size, progress, add_bos, kMaxVocabSize);
  return from_json(tok::byte_level_tokenizer_json(bpe), "trained tokenizer");
}

std::vector<int32_t> Tokenizer::encode(std::string_view bytes, bool add_special) const {
  return pipeline_->encode(bytes, add_special);
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  return pipeline_->decode(ids, skip_special);
}

std::string Tokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw Error("tokenizer: token id " + std::to_string(id) + " out of range [0, " + std::to_string(vocab_size()) + ")");
  return pipeline_->token_text(id);
}

int Tokenizer::vocab_size() const { return pipeline_->id_count; }
int Tokenizer::bos_id() const { return bos_id_; }
int Tokenizer::merge_count() const { return pipeline_->model->merge_count(); }
int Tokenizer::token_to_id(std::string_view token) const { return pipeline_->find(token); }
bool Tokenizer::is_special(int32_t id) const { return pipeline_->is_special(id); }
bool Tokenizer::is_added(int32_t id) const { return pipeline_->added.by_id(id) != nullptr; }

std::vector<int32_t> Tokenizer::special_prefix() const {
  return pipeline_->post_processor ? pipeline_->post_processor->prefix() : std::vector<int32_t>{};
}

std::vector<int32_t> Tokenizer::special_suffix() const {
  return pipeline_->post_processor ? pipeline_->post_processor->suffix() : std::vector<int32_t>{};
}

void Tokenizer::save(const std::string& path) const { write_file_atomic(path, *json_); }

}  // namespace strata
