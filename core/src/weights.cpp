// Parameter layout and views into the flat parameter buffer. The layout is where the
// families differ in naming: Llama-style ("model.layers.{i}.self_attn.q_proj.weight") for
// llama, mistral, qwen2, gemma and gemma2; GPT-2's own ("transformer.h.{i}.attn.c_attn.weight",
// Conv1D matrices stored (in, out), q/k/v fused). Each tensor carries the role it binds to,
// so binding never depends on the order or on parsing names.
#include "strata/weights.h"

#include <cmath>
#include <new>
#include <random>
#include <string>
#include <unistd.h>

#include "strata/error.h"

namespace strata {

namespace {

// What a tensor is, independent of the family's name for it.
enum class Role {
  kEmbed, kPosEmbed, kFinalNorm, kFinalNormBias, kLmHead,
  kAttnNorm, kAttnNormBias, kQ, kK, kV, kQKV, kO, kBQ, kBK, kBV, kBQKV, kBO, kPostAttnNorm,
  kMlpNorm, kMlpNormBias, kGate, kUp, kDown, kBGate, kBUp, kBDown, kPostMlpNorm,
};

struct Slot {
  TensorInfo info;
  Role role;
  int layer;  // -1 for the model-level tensors
};

std::vector<Slot> layout_slots(const ModelConfig& c) {
  std::vector<Slot> t;
  size_t offset = 0;
  int layer = -1;
  auto add = [&](Role role, std::string name, std::vector<int64_t> shape, bool transposed = false) {
    size_t n = 1;
    for (int64_t s : shape) n *= size_t(s);
    t.push_back({{std::move(name), std::move(shape), offset, n, transposed}, role, layer});
    offset += n;
  };
  const int64_t d = c.hidden_size, f = c.intermediate_size, V = c.vocab_size;
  if (c.model_type == "gpt2") {
    add(Role::kEmbed, "transformer.wte.weight", {V, d});
    add(Role::kPosEmbed, "transformer.wpe.weight", {c.max_position_embeddings, d});
    for (layer = 0; layer < c.num_hidden_layers; ++layer) {
      const std::string p = "transformer.h." + std::to_string(layer) + ".";
      add(Role::kAttnNorm, p + "ln_1.weight", {d});
      add(Role::kAttnNormBias, p + "ln_1.bias", {d});
      add(Role::kQKV, p + "attn.c_attn.weight", {d, 3 * d}, true);
      add(Role::kBQKV, p + "attn.c_attn.bias", {3 * d});
      add(Role::kO, p + "attn.c_proj.weight", {d, d}, true);
      add(Role::kBO, p + "attn.c_proj.bias", {d});
      add(Role::kMlpNorm, p + "ln_2.weight", {d});
      add(Role::kMlpNormBias, p + "ln_2.bias", {d});
      add(Role::kUp, p + "mlp.c_fc.weight", {d, f}, true);
      add(Role::kBUp, p + "mlp.c_fc.bias", {f});
      add(Role::kDown, p + "mlp.c_proj.weight", {f, d}, true);
      add(Role::kBDown, p + "mlp.c_proj.bias", {d});
    }
    layer = -1;
    add(Role::kFinalNorm, "transformer.ln_f.weight", {d});
    add(Role::kFinalNormBias, "transformer.ln_f.bias", {d});
    return t;
  }
  const AttentionConfig& a = c.attention;
  add(Role::kEmbed, "model.embed_tokens.weight", {V, d});
  for (layer = 0; layer < c.num_hidden_layers; ++layer) {
    const std::string p = "model.layers." + std::to_string(layer) + ".";
    add(Role::kAttnNorm, p + "input_layernorm.weight", {d});
    add(Role::kQ, p + "self_attn.q_proj.weight", {c.q_dim(), d});
    if (a.qkv_bias) add(Role::kBQ, p + "self_attn.q_proj.bias", {c.q_dim()});
    add(Role::kK, p + "self_attn.k_proj.weight", {c.kv_dim(), d});
    if (a.qkv_bias) add(Role::kBK, p + "self_attn.k_proj.bias", {c.kv_dim()});
    add(Role::kV, p + "self_attn.v_proj.weight", {c.kv_dim(), d});
    if (a.qkv_bias) add(Role::kBV, p + "self_attn.v_proj.bias", {c.kv_dim()});
    add(Role::kO, p + "self_attn.o_proj.weight", {d, c.q_dim()});
    if (a.o_bias) add(Role::kBO, p + "self_attn.o_proj.bias", {d});
    // Gemma 2 names its post-attention norm what Llama calls the MLP's input norm.
    if (c.post_norms) {
      add(Role::kPostAttnNorm, p + "post_attention_layernorm.weight", {d});
      add(Role::kMlpNorm, p + "pre_feedforward_layernorm.weight", {d});
    } else {
      add(Role::kMlpNorm, p + "post_attention_layernorm.weight", {d});
    }
    add(Role::kGate, p + "mlp.gate_proj.weight", {f, d});
    if (c.mlp_bias) add(Role::kBGate, p + "mlp.gate_proj.bias", {f});
    add(Role::kUp, p + "mlp.up_proj.weight", {f, d});
    if (c.mlp_bias) add(Role::kBUp, p + "mlp.up_proj.bias", {f});
    add(Role::kDown, p + "mlp.down_proj.weight", {d, f});
    if (c.mlp_bias) add(Role::kBDown, p + "mlp.down_proj.bias", {d});
    if (c.post_norms) add(Role::kPostMlpNorm, p + "post_feedforward_layernorm.weight", {d});
  }
  layer = -1;
  add(Role::kFinalNorm, "model.norm.weight", {d});
  if (!c.tie_word_embeddings) add(Role::kLmHead, "lm_head.weight", {V, d});
  return t;
}

}  // namespace

std::vector<TensorInfo> parameter_layout(const ModelConfig& c) {
  std::vector<TensorInfo> t;
  for (Slot& s : layout_slots(c)) t.push_back(std::move(s.info));
  return t;
}

WeightViews bind_weights(const ModelConfig& c, float* flat) {
  WeightViews v{};
  v.layers.assign(size_t(c.num_hidden_layers), LayerWeights{});
  const size_t d = size_t(c.hidden_size);
  for (const Slot& s : layout_slots(c)) {
    float* p = flat + s.info.offset;
    LayerWeights* l = s.layer >= 0 ? &v.layers[size_t(s.layer)] : nullptr;
    switch (s.role) {
      case Role::kEmbed: v.embed = p; break;
      case Role::kPosEmbed: v.pos_embed = p; break;
      case Role::kFinalNorm: v.final_norm = p; break;
      case Role::kFinalNormBias: v.final_norm_bias = p; break;
      case Role::kLmHead: v.lm_head = p; break;
      case Role::kAttnNorm: l->attn_norm = p; break;
      case Role::kAttnNormBias: l->attn_norm_bias = p; break;
      case Role::kQ: l->wq = p; break;
      case Role::kK: l->wk = p; break;
      case Role::kV: l->wv = p; break;
      // Held (3d, d): q, k and v are consecutive (d, d) blocks of rows.
      case Role::kQKV: l->wq = p, l->wk = p + d * d, l->wv = p + 2 * d * d; break;
      case Role::kO: l->wo = p; break;
      case Role::kBQ: l->bq = p; break;
      case Role::kBK: l->bk = p; break;
      case Role::kBV: l->bv = p; break;
      case Role::kBQKV: l->bq = p, l->bk = p + d, l->bv = p + 2 * d; break;
      case Role::kBO: l->bo = p; break;
      case Role::kPostAttnNorm: l->post_attn_norm = p; break;
      case Role::kMlpNorm: l->mlp_norm = p; break;
      case Role::kMlpNormBias: l->mlp_norm_bias = p; break;
      case Role::kGate: l->w_gate = p; break;
      case Role::kUp: l->w_up = p; break;
      case Role::kDown: l->w_down = p; break;
      case Role::kBGate: l->b_gate = p; break;
      case Role::kBUp: l->b_up = p; break;
      case Role::kBDown: l->b_down = p; break;
      case Role::kPostMlpNorm: l->post_mlp_norm = p; break;
    }
  }
  if (c.tie_word_embeddings) v.lm_head = v.embed;
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
  const float norm_value = config.norm == NormKind::kRMSNormPlusOne ? 0.0f : 1.0f;
  for (const auto& t : layout) {
    float* p = data.data() + t.offset;
    if (t.shape.size() == 1) {
      const bool bias = t.name.size() > 5 && t.name.compare(t.name.size() - 5, 5, ".bias") == 0;
      std::fill(p, p + t.size, bias ? 0.0f : norm_value);
      continue;
    }
    const bool residual_out = t.name.find("o_proj") != std::string::npos ||
                              t.name.find("down_proj") != std::string::npos ||
                              t.name.find("c_proj") != std::string::npos;
    std::normal_distribution<float> dist(0.0f, residual_out ? residual_std : std);
    for (size_t k = 0; k < t.size; ++k) p[k] = dist(rng);
  }
}

}  // namespace strata
