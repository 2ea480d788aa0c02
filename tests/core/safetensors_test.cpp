// safetensors reader/writer: exact round trips, exact F16/BF16 decoding from hand-built
// bytes, and rejection (with a useful message, never a crash) of every malformed or
// truncated file we can think of. Runs under ASan+UBSan, which turns any out-of-bounds
// read on a hostile file into a test failure.
#include "strata/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "strata/error.h"
#include "strata/file_util.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test (and process), since ctest may run tests concurrently.
std::string test_dir() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  fs::path p = fs::path(testing::TempDir()) /
               ("strata_st_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::string u64_le(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
  return s;
}

// A file whose header length field is exactly the header's size.
std::string file_bytes(const std::string& header, const std::string& data) {
  return u64_le(header.size()) + header + data;
}

std::string u16s_le(const std::vector<uint16_t>& v) {
  std::string s;
  for (uint16_t x : v) {
    s.push_back(char(x & 0xff));
    s.push_back(char(x >> 8));
  }
  return s;
}

// Plain write, not write_file_atomic: its fsync would make the every-cut-point loop slow.
std::string put(const std::string& dir, const std::string& name, const std::string& bytes) {
  const std::string path = (fs::path(dir) / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
  return path;
}

// The message of the Error that opening path throws; a test failure if it does not throw.
std::string open_error(const std::string& path) {
  try {
    SafetensorsReader::open(path);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << path << ": opened without error";
  return "";
}

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }

TEST(SafetensorsTest, RoundTripF32IsBitExact) {
  const std::string dir = test_dir();
  std::vector<float> a = {0.0f, -0.0f, 1.5f, std::numeric_limits<float>::denorm_min(),
                          std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
  std::vector<float> scalar = {std::bit_cast<float>(0x7fc12345u)};  // NaN with a payload
  std::vector<float> empty;
  std::vector<float> big(1000);
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  for (float& x : big) x = dist(rng);
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "h\xc3\xa9llo \"quoted\""}};

  const std::string path = (fs::path(dir) / "t.safetensors").string();
  write_safetensors(path,
                    {{"a", {2, 3}, a}, {"scalar", {}, scalar}, {"empty", {0, 4}, empty}, {"big", {10, 100}, big}},
                    meta);
  EXPECT_FALSE(fs::exists(path + ".tmp"));

  const auto r = SafetensorsReader::open(path);
  EXPECT_EQ(r.metadata(), meta);
  ASSERT_EQ(r.tensors().size(), 4u);
  EXPECT_EQ(r.tensors()[0].name, "a");  // file order
  EXPECT_EQ(r.tensors()[3].name, "big");

  auto check = [&](const std::string& name, std::vector<int64_t> shape, const std::vector<float>& want) {
    SCOPED_TRACE(name);
    const TensorEntry* e = r.find(name);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->dtype, "F32");
    EXPECT_EQ(e->shape, shape);
    EXPECT_EQ(e->numel, want.size());
    const std::vector<float> got = r.read_f32(*e);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(bits(got[i]), bits(want[i])) << "element " << i;
  };
  check("a", {2, 3}, a);
  check("scalar", {}, scalar);
  check("empty", {0, 4}, empty);
  check("big", {10, 100}, big);
  EXPECT_EQ(r.find("nope"), nullptr);
}

TEST(SafetensorsTest, F16FileReadsBackWithinHalfPrecision) {
  const std::string dir = test_dir();
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 0.1f);
  std::vector<float> values(1000);
  for (float& v : values) v = dist(rng);
  values[0] = 0.5f;  // exactly representable
  const std::string path = (fs::path(dir) / "half.safetensors").string();
  write_safetensors(path, {{"w", {int64_t(values.size())}, values}}, {}, DType::kF16);
  const auto reader = SafetensorsReader::open(path);
  ASSERT_EQ(reader.find("w")->dtype, "F16");
  const auto back = reader.read_f32(*reader.find("w"));
  EXPECT_EQ(back[0], 0.5f);
  for (size_t i = 0; i < values.size(); ++i)
    ASSERT_LE(std::abs(back[i] - values[i]), std::ldexp(std::abs(values[i]), -11) + 1e-7f) << values[i];
}

TEST(SafetensorsTest, WriterPadsHeaderWithSpacesToEightBytes) {
  const std::string dir = test_dir();
  std::vector<float> v = {1, 2, 3};
  for (const std::string name : {"x", "xy", "xyz", "xyzw", "abcde", "abcdef", "abcdefg", "abcdefgh"}) {
    const std::string path = (fs::path(dir) / "p.safetensors").string();
    write_safetensors(path, {{name, {3}, v}}, {{"format", "pt"}});
    const std::string b = read_file(path);
    ASSERT_GE(b.size(), 8u);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(b[size_t(i)]);
    EXPECT_EQ(n % 8, 0u) << name;
    EXPECT_EQ(b.size(), 8 + n + 12) << name;
    const std::string header = b.substr(8, size_t(n));
    EXPECT_EQ(header.front(), '{');
    const size_t close = header.rfind('}');
    EXPECT_EQ(header.find_first_not_of(' ', close + 1), std::string::npos) << "padding must be spaces";
    const auto j = nlohmann::json::parse(header);
    EXPECT_EQ(j["__metadata__"]["format"], "pt");
    EXPECT_EQ(j[name]["data_offsets"], nlohmann::json({0, 12}));
  }
}

TEST(SafetensorsTest, WriterRejectsBadInput) {
  const std::string dir = test_dir();
  const std::string path = (fs::path(dir) / "w.safetensors").string();
  std::vector<float> v = {1, 2, 3};
  EXPECT_THROW(write_safetensors(path, {{"a", {2, 2}, v}}), Error);
  EXPECT_THROW(write_safetensors(path, {{"a", {3}, v}, {"a", {3}, v}}), Error);
  EXPECT_THROW(write_safetensors(path, {{"__metadata__", {3}, v}}), Error);
  EXPECT_THROW(write_safetensors(path, {{"a", {-3}, v}}), Error);
  EXPECT_FALSE(fs::exists(path));
}

TEST(SafetensorsTest, DecodesF16AndBF16Exactly) {
  const std::string dir = test_dir();
  const float inf = std::numeric_limits<float>::infinity();
  // (half bits, exact float value); NaNs are checked separately.
  const std::vector<std::pair<uint16_t, float>> f16 = {
      {0x0000, 0.0f},
      {0x8000, -0.0f},
      {0x0001, std::ldexp(1.0f, -24)},      // smallest subnormal
      {0x8001, -std::ldexp(1.0f, -24)},
      {0x03ff, 1023 * std::ldexp(1.0f, -24)},  // largest subnormal
      {0x0200, std::ldexp(1.0f, -15)},
      {0x0400, std::ldexp(1.0f, -14)},      // smallest normal
      {0x3c00, 1.0f},
      {0x3bff, 0.99951171875f},
      {0x3555, 0.333251953125f},
      {0xc000, -2.0f},
      {0x7bff, 65504.0f},
      {0x7c00, inf},
      {0xfc00, -inf},
  };
  const std::vector<std::pair<uint16_t, float>> bf16 = {
      {0x0000, 0.0f},
      {0x8000, -0.0f},
      {0x0001, std::bit_cast<float>(0x00010000u)},  // a float32 subnormal
      {0x3f80, 1.0f},
      {0xc040, -3.0f},
      {0x4049, 3.140625f},
      {0x7f7f, std::bit_cast<float>(0x7f7f0000u)},  // largest finite
      {0x7f80, inf},
      {0xff80, -inf},
  };
  std::vector<uint16_t> h, b;
  for (auto [x, _] : f16) h.push_back(x);
  h.push_back(0x7e00);  // NaN
  h.push_back(0xfc01);  // NaN, negative, signalling payload
  for (auto [x, _] : bf16) b.push_back(x);
  b.push_back(0x7fc0);  // NaN

  const std::string data = u16s_le(h) + u16s_le(b);
  nlohmann::json header = {
      {"half", {{"dtype", "F16"}, {"shape", {h.size()}}, {"data_offsets", {0, 2 * h.size()}}}},
      {"brain", {{"dtype", "BF16"}, {"shape", {b.size()}}, {"data_offsets", {2 * h.size(), data.size()}}}},
  };
  const std::string path = put(dir, "half.safetensors", file_bytes(header.dump(), data));
  const auto r = SafetensorsReader::open(path);
  ASSERT_EQ(r.tensors().size(), 2u);
  EXPECT_EQ(r.tensors()[0].name, "half");  // file order, not the header's alphabetical order
  EXPECT_EQ(r.tensors()[0].dtype, "F16");
  EXPECT_EQ(r.tensors()[1].dtype, "BF16");

  const std::vector<float> hv = r.read_f32(*r.find("half"));
  ASSERT_EQ(hv.size(), h.size());
  for (size_t i = 0; i < f16.size(); ++i)
    EXPECT_EQ(bits(hv[i]), bits(f16[i].second)) << "half 0x" << std::hex << f16[i].first;
  EXPECT_TRUE(std::isnan(hv[f16.size()]));
  EXPECT_TRUE(std::isnan(hv[f16.size() + 1]));
  EXPECT_TRUE(std::signbit(hv[f16.size() + 1]));
  EXPECT_TRUE(std::signbit(hv[1]));  // -0 keeps its sign

  const std::vector<float> bv = r.read_f32(*r.find("brain"));
  ASSERT_EQ(bv.size(), b.size());
  for (size_t i = 0; i < bf16.size(); ++i)
    EXPECT_EQ(bits(bv[i]), bits(bf16[i].second)) << "bf16 0x" << std::hex << bf16[i].first;
  EXPECT_TRUE(std::isnan(bv[bf16.size()]));
  EXPECT_TRUE(std::signbit(bv[1]));
}

TEST(SafetensorsTest, EveryF16BitPatternMatchesReference) {
  // Reference: a half's value is (-1)^s * 2^(e-15) * (1 + m/1024), or 2^-14 * m/1024 for e == 0.
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i) all[i] = uint16_t(i);
  const std::string data = u16s_le(all);
  nlohmann::json header = {{"h", {{"dtype", "F16"}, {"shape", {256, 256}}, {"data_offsets", {0, data.size()}}}}};
  const std::string path = put(test_dir(), "all.safetensors", file_bytes(header.dump(), data));
  const auto r = SafetensorsReader::open(path);
  const std::vector<float> v = r.read_f32(*r.find("h"));
  for (uint32_t x = 0; x < 65536; ++x) {
    const int s = x >> 15, e = (x >> 10) & 31, m = x & 1023;
    double want;
    if (e == 31) {
      if (m) {
        ASSERT_TRUE(std::isnan(v[x])) << x;
        continue;
      }
      want = std::numeric_limits<double>::infinity();
    } else if (e == 0) {
      want = std::ldexp(double(m) / 1024, -14);
    } else {
      want = std::ldexp(1 + double(m) / 1024, e - 15);
    }
    if (s) want = -want;
    ASSERT_EQ(bits(v[x]), bits(float(want))) << "half 0x" << std::hex << x;
  }
}

TEST(SafetensorsTest, UnsupportedDtypeValidatesButRefusesToRead) {
  const std::string data(16, '\0');
  const std::string header =
      R"({"position_ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})";
  const std::string path = put(test_dir(), "i64.safetensors", file_bytes(header, data));
  const auto r = SafetensorsReader::open(path);
  const TensorEntry* e = r.find("position_ids");
  ASSERT_NE(e, nullptr);
  try {
    r.read_f32(*e);
    ADD_FAILURE() << "read an I64 tensor as float";
  } catch (const Error& err) {
    const std::string msg = err.what();
    EXPECT_TRUE(contains(msg, "position_ids")) << msg;
    EXPECT_TRUE(contains(msg, "I64")) << msg;
  }
}

TEST(SafetensorsTest, ReadIntoWrongSizedBufferIsAnError) {
  std::vector<float> v = {1, 2, 3, 4};
  const std::string path = (fs::path(test_dir()) / "s.safetensors").string();
  write_safetensors(path, {{"w", {2, 2}, v}});
  const auto r = SafetensorsReader::open(path);
  std::vector<float> small(3);
  EXPECT_THROW(r.read_f32(*r.find("w"), small), Error);
}

TEST(SafetensorsTest, RejectsMalformedFiles) {
  const std::string dir = test_dir();
  const std::string zeros8(8, '\0');
  auto entry = [](const std::string& fields) { return R"({"t":{)" + fields + "}}"; };
  struct Case {
    const char* label;
    std::string bytes;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"empty file", "", "too short"},
      {"7 bytes", std::string(7, '\x10'), "too short"},
      {"header longer than file", u64_le(1000) + "{}" + zeros8, "truncated: header length is 1000 bytes but only 10"},
      {"absurd header length", u64_le(200'000'000) + "{}", "implausibly large"},
      {"max header length", u64_le(~uint64_t(0)) + "{}", "implausibly large"},
      {"empty header", u64_le(0), "not valid JSON"},
      {"not JSON", file_bytes("{not json", zeros8), "not valid JSON"},
      {"binary header", file_bytes(std::string("\xff\x00\x01{", 4), zeros8), "not valid JSON"},
      {"not an object", file_bytes("[1,2]", zeros8), "not a JSON object"},
      {"entry not object", file_bytes(R"({"t":3})", zeros8), "tensor t: header entry is not a JSON object"},
      {"missing dtype", file_bytes(entry(R"("shape":[2],"data_offsets":[0,8])"), zeros8), "tensor t: missing \"dtype\""},
      {"missing shape", file_bytes(entry(R"("dtype":"F32","data_offsets":[0,8])"), zeros8), "tensor t: missing \"shape\""},
      {"missing offsets", file_bytes(entry(R"("dtype":"F32","shape":[2])"), zeros8), "tensor t: missing \"data_offsets\""},
      {"dtype not string", file_bytes(entry(R"("dtype":5,"shape":[2],"data_offsets":[0,8])"), zeros8), "\"dtype\" is not a string"},
      {"unknown dtype", file_bytes(entry(R"("dtype":"Q4","shape":[2],"data_offsets":[0,8])"), zeros8), "unknown dtype \"Q4\""},
      {"shape not array", file_bytes(entry(R"("dtype":"F32","shape":"x","data_offsets":[0,8])"), zeros8), "\"shape\" is not an array"},
      {"shape float", file_bytes(entry(R"("dtype":"F32","shape":[1.5],"data_offsets":[0,8])"), zeros8), "non-integer"},
      {"shape string", file_bytes(entry(R"("dtype":"F32","shape":["2"],"data_offsets":[0,8])"), zeros8), "non-integer"},
      {"negative shape", file_bytes(entry(R"("dtype":"F32","shape":[-2],"data_offsets":[0,8])"), zeros8), "negative dimension -2"},
      {"overflowing shape", file_bytes(entry(R"("dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8])"), zeros8), "overflows"},
      {"huge dimension", file_bytes(entry(R"("dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,8])"), zeros8), "overflows"},
      {"offsets not array", file_bytes(entry(R"("dtype":"F32","shape":[2],"data_offsets":"ab")"), zeros8), "not an array of two integers"},
      {"one offset", file_bytes(entry(R"("dtype":"F32","shape":[2],"data_offsets":[0])"), zeros8), "not an array of two integers"},
      {"three offsets", file_bytes(entry(R"("dtype":"F32","shape":[2],"data_offsets":[0,4,8])"), zeros8), "not an array of two integers"},
      {"negative offset", file_bytes(entry(R"("dtype":"F32","shape":[2],"data_offsets":[-8,0])"), zeros8), "negative value in \"data_offsets\""},
      {"float offset", file_bytes(entry(R"("dtype":"F32","shape":[2],"data_offsets":[0.0,8])"), zeros8), "non-integer"},
      {"end before begin", file_bytes(entry(R"("dtype":"F32","shape":[2],"data_offsets":[8,0])"), zeros8), "end before they begin"},
      {"beyond data", file_bytes(entry(R"("dtype":"F32","shape":[4],"data_offsets":[0,16])"), zeros8),
       "truncated: tensor t needs bytes [0,16) but the data section has only 8 bytes"},
      {"huge end offset", file_bytes(entry(R"("dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615])"), zeros8), "truncated: tensor t"},
      {"size mismatch", file_bytes(entry(R"("dtype":"F32","shape":[3],"data_offsets":[0,8])"), zeros8), "needs 12"},
      {"size mismatch bf16", file_bytes(entry(R"("dtype":"BF16","shape":[2],"data_offsets":[0,8])"), zeros8), "needs 4"},
      {"overlap",
       file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                  std::string(12, '\0')),
       "overlap"},
      {"metadata not object", file_bytes(R"({"__metadata__":[1]})", ""), "__metadata__ is not a JSON object"},
      {"metadata value not string", file_bytes(R"({"__metadata__":{"format":1}})", ""), "\"format\" is not a string"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    const std::string path = put(dir, "bad.safetensors", c.bytes);
    const std::string msg = open_error(path);
    EXPECT_TRUE(contains(msg, c.expect)) << "message: " << msg << "\nexpected to contain: " << c.expect;
    EXPECT_TRUE(contains(msg, path)) << "message should name the file: " << msg;
  }
}

TEST(SafetensorsTest, AcceptsSpacePaddingAndUnorderedHeader) {
  // A header as other writers produce it: keys not in data order, trailing spaces.
  std::string data(8, '\0');
  const float one = 1.0f, two = 2.0f;
  std::memcpy(data.data(), &two, 4);
  std::memcpy(data.data() + 4, &one, 4);
  const std::string header =
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}     )";
  const auto r = SafetensorsReader::open(put(test_dir(), "ok.safetensors", file_bytes(header, data)));
  ASSERT_EQ(r.tensors().size(), 2u);
  EXPECT_EQ(r.tensors()[0].name, "z");
  EXPECT_EQ(r.read_f32(*r.find("a")), std::vector<float>{1.0f});
  EXPECT_EQ(r.read_f32(*r.find("z")), std::vector<float>{2.0f});
  EXPECT_TRUE(r.metadata().empty());
}

TEST(SafetensorsTest, TruncatedFilesAreRejectedAtEveryCutPoint) {
  const std::string dir = test_dir();
  std::vector<float> a(6, 0.5f), b(10, -1.0f);
  const std::string good = (fs::path(dir) / "good.safetensors").string();
  write_safetensors(good, {{"a", {2, 3}, a}, {"b", {10}, b}}, {{"format", "pt"}});
  const std::string bytes = read_file(good);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(bytes[size_t(i)]);
  const size_t data_start = 8 + size_t(n);
  ASSERT_EQ(bytes.size(), data_start + 64);

  // Named cut points with the message each must give.
  const std::vector<std::pair<size_t, std::string>> named = {
      {1, "too short"},
      {7, "too short"},
      {8 + size_t(n) / 2, "truncated: header length"},
      {data_start, "truncated: tensor"},
      {data_start + 30, "truncated: tensor"},
      {bytes.size() - 1, "truncated: tensor b needs bytes [24,64) but the data section has only 63 bytes"},
  };
  for (const auto& [cut, expect] : named) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const std::string msg = open_error(put(dir, "cut.safetensors", bytes.substr(0, cut)));
    EXPECT_TRUE(contains(msg, expect)) << "message: " << msg;
  }
  // And every other length too: none may open, none may crash.
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const std::string path = put(dir, "cut.safetensors", bytes.substr(0, cut));
    EXPECT_THROW(SafetensorsReader::open(path), Error);
  }
  EXPECT_NO_THROW(SafetensorsReader::open(good));
}

TEST(SafetensorsTest, RandomCorruptionNeverCrashes) {
  // Flips bytes, mostly in the length field and header, where a bad value could steer a
  // careless reader out of bounds. Each result must either open and read cleanly or throw.
  const std::string dir = test_dir();
  std::vector<float> a(6, 0.5f), b(10, -1.0f);
  const std::string good = (fs::path(dir) / "good.safetensors").string();
  write_safetensors(good, {{"a", {2, 3}, a}, {"b", {10}, b}}, {{"format", "pt"}});
  const std::string bytes = read_file(good);
  std::mt19937 rng(123);
  int opened = 0;
  for (int iter = 0; iter < 400; ++iter) {
    std::string m = bytes;
    const int flips = 1 + int(rng() % 3);
    for (int k = 0; k < flips; ++k) {
      const size_t pos = rng() % 4 ? rng() % (bytes.size() - 64) : rng() % bytes.size();
      m[pos] = rng() % 2 ? char(rng()) : "0123456789[]{},:\"-e."[rng() % 19];
    }
    const std::string path = put(dir, "fuzz.safetensors", m);
    try {
      const auto r = SafetensorsReader::open(path);
      ++opened;
      for (const auto& e : r.tensors()) {
        try {
          std::vector<float> out(e.numel);
          r.read_f32(e, out);
        } catch (const Error&) {
        }
      }
    } catch (const Error&) {
    }
  }
  EXPECT_GT(opened, 0);  // some mutations (in the data) leave a valid file
}

TEST(SafetensorsTest, MissingFileIsAnError) {
  const std::string path = (fs::path(test_dir()) / "absent.safetensors").string();
  const std::string msg = open_error(path);
  EXPECT_TRUE(contains(msg, path)) << msg;
}

}  // namespace
}  // namespace strata
