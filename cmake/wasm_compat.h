// Force-included into every WebAssembly translation unit (cmake/wasm.cmake): fills in C++20
// library pieces that Debian's Emscripten 3.1.6 lacks (its libc++ is LLVM 13), so the core
// stays plain C++20. Each shim steps aside when the library has the real thing.
#pragma once
#ifdef __cplusplus
#include <version>

// std::bit_cast (<bit>): libc++ 13 has no bit_cast; clang 14 has the builtin it wraps.
#if !defined(__cpp_lib_bit_cast)
#include <bit>
#include <type_traits>
namespace std {
template <class To, class From>
  requires(sizeof(To) == sizeof(From) && is_trivially_copyable_v<To> && is_trivially_copyable_v<From>)
constexpr To bit_cast(const From& from) noexcept {
  return __builtin_bit_cast(To, from);
}
}  // namespace std
#endif

#endif  // __cplusplus
