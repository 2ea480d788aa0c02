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

namespace {

// Matrix views step by elements: a pointer or a WeightRef.
float* advance(float* p, size_t n) { return p + n; }
ops::WeightRef advance(ops::WeightRef r, size_t n) { return r.plus(n); }

// The table over slots(c), tensor i's matrix view matrix(i) and float view vector(i).
template <class Matrix, class MatrixAt, class VectorAt>
ModelTensors<Matrix> bind_table(const ModelConfig& c, MatrixAt matrix, VectorAt vector) {
  ModelTensors<Matrix> v{};
  v.layers.assign(size_t(c.num_hidden_layers), LayerTensors<Matrix>{});
  const size_t d = size_t(c.hidden_size);
  const std::vector<Slot> slots = layout_slots(c);
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot& s = slots[i];
    LayerTensors<Matrix>* l = s.layer >= 0 ? &v.layers[size_t(s.layer)] : nullptr;
    switch (s.role) {
      case Role::kEmbed: v.embed = matrix(i); break;
      case Role::kPosEmbed: v.pos_embed = matrix(i); break;
      case Role::kFinalNorm: v.final_norm = vector(i); break;
      case Role::kFinalNormBias: v.final_norm_bias = vector(i); break;
      case Role::kLmHead: v.lm_head = matrix(i); break;
      case Role::kAttnNorm: l->attn_norm = vector(i); break;
      case Role::kAttnNormBias: l->attn_norm_bias = vector(i); break;
      case Role::kQ: l->wq = matrix(i); break;
      case Role::kK: l->wk = matrix(i); break;
      case Role::kV: l->wv = matrix(i); break;
      // Held (3d, d): q, k and v are consecutive (d, d) blocks of rows.
      case Role::kQKV: {
        const Matrix m = matrix(i);
        l->wq = m, l->wk = advance(m, d * d), l->wv = advance(m, 2 * d * d);
        break;
      }
      case Role::kO: l->wo = matrix(i); break;
      case Role::kBQ: l->bq = vector(i); break;
      case Role::kBK: l->bk = vector(i); break;
      case Role::kBV: l->bv = vector(i); break;
      case Role::kBQKV: {
        float* b = vector(i);
        l->bq = b, l->bk = b + d, l->bv = b + 2 * d;
        break;
      }
      case Role::kBO: l->bo = vector(i); break;
      case Role::kPostAttnNorm: l->post_attn_norm = vector(i); break;
      case Role::kMlpNorm: l->mlp_norm = vector(i); break;
      case Role::kMlpNormBias: l->mlp_norm_bias = vector(i); break;
      case Role::kGate: l->w_gate = matrix(i); break;
      case Role::kUp: l->w_up = matrix(i); break;
      case Role::kDown: l->w_down = matrix(i); break;
      case Role::kBGate: l->b_gate = vector(i); break;
      case Role::kBUp: l->b_up = vector(i); break;
      case Role::kBDown: l->b_down = vector(i); break;
      case Role::kPostMlpNorm: l->post_mlp_norm = vector(i); break;
    }
  }
  if (c.tie_word_embeddings) v.lm_head = v.embed;
  return v;
}

// Bytes of RAM this machine has, or 0 when the system does not say.
uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? uint64_t(pages) * uint64_t(page_size) : 0;
}

// Zeroed buffers of n elements, refused before allocating when they exceed RAM: an
// allocation larger than RAM may succeed under overcommit and then be killed while it is
// zeroed, and sanitizers abort on it instead of throwing.
template <class T>
void allocate(std::vector<T>& v, size_t n, const ModelConfig& c) {
  const uint64_t bytes = uint64_t(n) * sizeof(T), ram = physical_memory_bytes();
  const std::string what = "the weights of a " + std::to_string(c.parameter_count()) + "-parameter model";
  if (ram > 0 && bytes > ram)
    throw Error(what + " need " + std::to_string(bytes >> 20) + " MiB, more than this machine's " +
                std::to_string(ram >> 20) + " MiB of RAM");
  try {
    v.assign(n, T{});
  } catch (const std::bad_alloc&) {
    throw Error("cannot allocate " + std::to_string(bytes >> 20) + " MiB for " + what);
  }
}

const ModelConfig& validated(const ModelConfig& c) {
  c.validate();
  return c;
}

}  // namespace

FlatViews bind_weights(const ModelConfig& c, float* flat) {
  const std::vector<TensorInfo> layout = parameter_layout(c);
  auto at = [&](size_t i) { return flat + layout[i].offset; };
  return bind_table<float*>(c, at, at);
}

Weights::Weights(const ModelConfig& c) : Weights(c, parameter_layout(validated(c)), {}) {}

Weights::Weights(const ModelConfig& c, std::vector<TensorInfo> held, std::vector<std::shared_ptr<const void>> maps)
    : config(c), layout(std::move(held)), mappings(std::move(maps)) {
  c.validate();
  if (layout.size() != parameter_layout(c).size()) throw Error("Weights: the layout does not match the config");
  size_t n32 = 0, n16 = 0;
  for (TensorInfo& t : layout) {
    if (t.shape.size() == 1 && t.dtype != DType::kF32) throw Error("Weights: vector " + t.name + " must be held in F32");
    if (t.mapped) continue;
    size_t& next = t.dtype == DType::kF32 ? n32 : n16;
    t.offset = next;
    next += t.size;
  }
  allocate(data, n32, c);
  allocate(data16, n16, c);
  bind();
}

Weights::Weights(const Weights& o)
    : config(o.config), layout(o.layout), data(o.data), data16(o.data16), mappings(o.mappings) {
  bind();
}

Weights& Weights::operator=(const Weights& o) {
  if (this != &o) {
    config = o.config;
    layout = o.layout;
    data = o.data;
    data16 = o.data16;
    mappings = o.mappings;
    bind();
  }
  return *this;
}

void Weights::bind() {
  // Vectors are F32 (checked at construction), so their views are never mapped.
  view = bind_table<ops::WeightRef>(
      config, [&](size_t i) { return ops::WeightRef(tensor_data(layout[i]), layout[i].dtype); },
      [&](size_t i) { return data.data() + layout[i].offset; });
}

const void* Weights::tensor_data(const TensorInfo& t) const {
  if (t.mapped) return t.mapped;
  if (t.dtype == DType::kF32) return data.data() + t.offset;
  return data16.data() + t.offset;
}

void* Weights::owned_tensor_data(const TensorInfo& t) {
  if (t.mapped) throw Error("Weights: tensor " + t.name + " is mapped read-only from its checkpoint");
  return const_cast<void*>(tensor_data(t));  // owned: data or data16, which this object may write
}

bool Weights::flat_f32() const {
  const std::vector<TensorInfo> flat = parameter_layout(config);
  for (size_t i = 0; i < layout.size(); ++i)
    if (layout[i].dtype != DType::kF32 || layout[i].mapped || layout[i].offset != flat[i].offset) return false;
  return true;
}

size_t Weights::owned_bytes() const { return data.size() * sizeof(float) + data16.size() * sizeof(uint16_t); }

size_t Weights::mapped_bytes() const {
  size_t n = 0;
  for (const TensorInfo& t : layout)
    if (t.mapped) n += t.size * dtype_size(t.dtype);
  return n;
}

std::string Weights::matrix_dtypes() const {
  bool held[3] = {};
  for (const TensorInfo& t : layout)
    if (t.shape.size() == 2) held[int(t.dtype)] = true;
  std::string s;
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16})
    if (held[int(t)]) {
      if (!s.empty()) s += '+';
      s += dtype_name(t);
    }
  return s;
}

const TensorInfo* Weights::find(const std::string& name) const {
  for (const auto& t : layout)
    if (t.name == name) return &t;
  return nullptr;
}

void Weights::init_random(uint64_t seed, float std) {
  if (!flat_f32()) throw Error("init_random: the weights are not held in one float buffer");
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
