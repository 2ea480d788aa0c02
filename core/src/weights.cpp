// Parameter layout and views into the flat parameter buffer.
#include "strata/weights.h"

#include <cmath>
#include <new>
#include <random>
#include <string>
#include <unistd.h>

#include "strata/error.h"

namespace strata {

std::vector<TensorInfo> parameter_layout(const ModelConfig& c) {
  std::vector<TensorInfo> t;
  size_t offset = 0;
  auto add = [&](std::string name, std::vector<int64_t> shape) {
    size_t n = 1;
    for (int64_t s : shape) n *= size_t(s);
    t.push_back({std::move(name), std::move(shape), offset, n});
    offset += n;
  };
  const int64_t d = c.hidden_size, f = c.intermediate_size;
  add("model.embed_tokens.weight", {c.vocab_size, d});
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    add(p + "input_layernorm.weight", {d});
    add(p + "self_attn.q_proj.weight", {c.q_dim(), d});
    add(p + "self_attn.k_proj.weight", {c.kv_dim(), d});
    add(p + "self_attn.v_proj.weight", {c.kv_dim(), d});
    add(p + "self_attn.o_proj.weight", {d, c.q_dim()});
    add(p + "post_attention_layernorm.weight", {d});
    add(p + "mlp.gate_proj.weight", {f, d});
    add(p + "mlp.up_proj.weight", {f, d});
    add(p + "mlp.down_proj.weight", {d, f});
  }
  add("model.norm.weight", {d});
  if (!c.tie_word_embeddings) add("lm_head.weight", {c.vocab_size, d});
  return t;
}

WeightViews bind_weights(const ModelConfig& c, float* flat) {
  const auto layout = parameter_layout(c);
  size_t i = 0;
  auto next = [&] { return flat + layout[i++].offset; };
  WeightViews v;
  v.embed = next();
  v.layers.resize(size_t(c.num_hidden_layers));
  for (auto& l : v.layers) {
    l.attn_norm = next();
    l.wq = next();
    l.wk = next();
    l.wv = next();
    l.wo = next();
    l.mlp_norm = next();
    l.w_gate = next();
    l.w_up = next();
    l.w_down = next();
  }
  v.final_norm = next();
  v.lm_head = c.tie_word_embeddings ? v.embed : next();
  return v;
}

// Bytes of RAM this machine has, or 0 when the system does not say.
static uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? uint64_t(pages) * uint64_t(page_size) : 0;
}

Weights::Weights(const ModelConfig& c) : config(c) {
  c.validate();
  layout = parameter_layout(c);
  // Asked before allocating: an allocation larger than RAM may succeed under overcommit and
  // then be killed while it is zeroed, and sanitizers abort on it instead of throwing.
  const uint64_t bytes = uint64_t(c.parameter_count()) * sizeof(float), ram = physical_memory_bytes();
  if (ram > 0 && bytes > ram)
    throw Error("the weights of a " + std::to_string(c.parameter_count()) + "-parameter model need " +
                std::to_string(bytes >> 20) + " MiB, more than this machine's " + std::to_string(ram >> 20) +
                " MiB of RAM");
  try {
    data.assign(size_t(c.parameter_count()), 0.0f);
  } catch (const std::bad_alloc&) {
    throw Error("cannot allocate " + std::to_string(c.parameter_count() * 4 / (1 << 20)) + " MiB for the weights of a " +
                std::to_string(c.parameter_count()) + "-parameter model");
  }
  view = bind_weights(config, data.data());
}

Weights::Weights(const Weights& o) : config(o.config), layout(o.layout), data(o.data) {
  view = bind_weights(config, data.data());
}

Weights& Weights::operator=(const Weights& o) {
  if (this != &o) {
    config = o.config;
    layout = o.layout;
    data = o.data;
    view = bind_weights(config, data.data());
  }
  return *this;
}

const TensorInfo* Weights::find(const std::string& name) const {
  for (const auto& t : layout)
    if (t.name == name) return &t;
  return nullptr;
}

void Weights::init_random(uint64_t seed, float std) {
  std::mt19937_64 rng(seed);
  // Residual-branch outputs are scaled by 1/sqrt(2*layers) (GPT-2), keeping the residual
  // stream's variance independent of depth at initialisation.
  const float residual_std = std / std::sqrt(2.0f * float(config.num_hidden_layers));
  const float norm_value = config.norm_weight_plus_one ? 0.0f : 1.0f;
  for (const auto& t : layout) {
    float* p = data.data() + t.offset;
    if (t.shape.size() == 1) {
      std::fill(p, p + t.size, norm_value);
      continue;
    }
    const bool residual_out = t.name.find("o_proj") != std::string::npos ||
                              t.name.find("down_proj") != std::string::npos;
    std::normal_distribution<float> dist(0.0f, residual_out ? residual_std : std);
    for (size_t k = 0; k < t.size; ++k) p[k] = dist(rng);
  }
}

}  // namespace strata
