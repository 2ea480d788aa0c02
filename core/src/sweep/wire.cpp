// Encoding and decoding sweeps and rows as bytes (sweep_wire.h). A message opens with a
// magic tag, a format version and a probe of the byte order, so a message from another
// build or architecture is refused instead of misread; every field follows in a fixed order,
// doubles as their exact bits, so merging decoded parts gives what merging the originals does.
#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "strata/error.h"
#include "strata/sweep_wire.h"

namespace strata {

namespace {

constexpr char kSweepMagic[8] = {'S', 'T', 'R', 'A', 'S', 'W', 'E', 'P'};
constexpr char kRowsMagic[8] = {'S', 'T', 'R', 'A', 'R', 'O', 'W', 'S'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kByteOrderProbe = 0x01020304;

class Writer {
 public:
  explicit Writer(const char (&magic)[8]) {
    bytes_.append(magic, 8);
    put(kVersion);
    put(kByteOrderProbe);
  }
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  template <class T>
  void put_vector(const std::vector<T>& v) {
    put(uint64_t(v.size()));
    if (!v.empty()) bytes_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void put_raw(const void* data, size_t n) { bytes_.append(static_cast<const char*>(data), n); }
  void put_string(const std::string& s) {
    put(uint64_t(s.size()));
    bytes_.append(s);
  }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class Reader {
 public:
  Reader(std::string_view bytes, const char (&magic)[8], const char* what) : bytes_(bytes), what_(what) {
    if (bytes_.size() < 16 || std::memcmp(bytes_.data(), magic, 8) != 0) fail("not a message of this kind");
    pos_ = 8;
    if (get<uint32_t>() != kVersion) fail("another format version");
    if (get<uint32_t>() != kByteOrderProbe) fail("another byte order");
  }
  template <class T>
  T get() {
    T v;
    need(sizeof v);
    std::memcpy(&v, bytes_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  template <class T>
  std::vector<T> get_vector() {
    const uint64_t n = get<uint64_t>();
    if (n > (bytes_.size() - pos_) / sizeof(T)) fail("truncated");
    std::vector<T> v(n);
    if (n) std::memcpy(v.data(), bytes_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return v;
  }
  std::string get_string() {
    const uint64_t n = get<uint64_t>();
    need(n);
    std::string s(bytes_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  void finish() const {
    if (pos_ != bytes_.size()) fail("trailing bytes");
  }
  [[noreturn]] void fail(const char* why) const { throw Error(std::string(what_) + ": cannot decode (" + why + ")"); }

 private:
  void need(uint64_t n) const {
    if (n > bytes_.size() - pos_) fail("truncated");
  }
  std::string_view bytes_;
  const char* what_;
  size_t pos_ = 0;
};

void put_spent(Writer& w, const SweepSpent& s) {
  w.put(s.token_forwards);
  w.put(s.padding);
  w.put(s.flops);
  w.put(s.forward_calls);
  w.put(s.passes);
  w.put(s.seconds);
  w.put(s.gram_seconds);
}

SweepSpent get_spent(Reader& r) {
  SweepSpent s;
  s.token_forwards = r.get<int64_t>();
  s.padding = r.get<int64_t>();
  s.flops = r.get<double>();
  s.forward_calls = r.get<int64_t>();
  s.passes = r.get<int64_t>();
  s.seconds = r.get<double>();
  s.gram_seconds = r.get<double>();
  return s;
}

static_assert(std::is_trivially_copyable_v<Moments> && std::is_trivially_copyable_v<SweepRow>);

}  // namespace

std::string encode_sweep(const SweepResult& result) {
  Writer w(kSweepMagic);
  w.put_vector(result.targets);
  w.put(uint64_t(result.schedules.size()));
  for (const ScheduleSweep& s : result.schedules) {
    w.put_string(s.name);
    w.put(uint8_t(s.shared));
    w.put_vector(s.context_len);
    w.put_vector(s.surprisal.moments());
    w.put_vector(s.final_surprisal);
    w.put(int32_t(s.gram.columns()));
    w.put(s.gram.targets());
    w.put_vector(s.gram.gram());
    w.put(s.token_forwards);
    w.put(s.flops);
    w.put(s.seconds);
  }
  put_spent(w, result.shared);
  put_spent(w, result.per_target);
  w.put(int32_t(result.gram_form));
  w.put(result.peak_targets_in_flight);
  w.put(result.peak_state_bytes);
  return w.take();
}

SweepResult decode_sweep(std::string_view bytes) {
  Reader r(bytes, kSweepMagic, "sweep message");
  SweepResult result;
  result.targets = r.get_vector<int64_t>();
  const uint64_t n = r.get<uint64_t>();
  if (n > bytes.size()) r.fail("truncated");
  result.schedules.resize(n);
  for (ScheduleSweep& s : result.schedules) {
    s.name = r.get_string();
    s.shared = r.get<uint8_t>() != 0;
    s.context_len = r.get_vector<int>();
    s.surprisal = SeriesAccumulator::from_moments(r.get_vector<Moments>());
    s.final_surprisal = r.get_vector<double>();
    const int32_t columns = r.get<int32_t>();
    const int64_t targets = r.get<int64_t>();
    s.gram = StreamingGram::from_state(columns, targets, r.get_vector<double>());
    s.token_forwards = r.get<int64_t>();
    s.flops = r.get<double>();
    s.seconds = r.get<double>();
  }
  result.shared = get_spent(r);
  result.per_target = get_spent(r);
  const int32_t form = r.get<int32_t>();
  if (form < int32_t(GramForm::kAuto) || form > int32_t(GramForm::kVocabulary)) r.fail("an unknown Gram form");
  result.gram_form = GramForm(form);
  result.peak_targets_in_flight = r.get<int64_t>();
  result.peak_state_bytes = r.get<int64_t>();
  r.finish();
  return result;
}

std::string encode_rows(std::span<const SweepRow> rows) {
  Writer w(kRowsMagic);
  w.put(uint64_t(rows.size()));
  w.put_raw(rows.data(), rows.size() * sizeof(SweepRow));
  return w.take();
}

std::vector<SweepRow> decode_rows(std::string_view bytes) {
  Reader r(bytes, kRowsMagic, "rows message");
  std::vector<SweepRow> rows = r.get_vector<SweepRow>();
  r.finish();
  return rows;
}

}  // namespace strata
