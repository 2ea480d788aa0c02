# The WebAssembly side of the build (emcmake only). Included right after project(), before
# core/ is configured, by scripts/build_web.sh through -DCMAKE_PROJECT_INCLUDE=cmake/wasm.cmake.
#
# It gives em++ the few header-only libraries the core needs without ever passing
# -I/usr/include (that mixes glibc's headers into Emscripten's sysroot):
#   STRATA_WASM_INCLUDE_DIR  a folder of symlinks: nlohmann, Eigen, unsupported, hwy
#   Eigen3::Eigen, nlohmann_json::nlohmann_json
#                            imported targets over that folder; find_package() finds them
#                            through small package files written to the build tree
#   STRATA_HWY_SOURCES       hwy/targets.cc + hwy/aligned_allocator.cc from
#                            third_party/highway-src (scripts/setup.sh fetches them)
#   STRATA_PCRE2_SOURCES, STRATA_PCRE2_INCLUDE_DIRS, STRATA_UTF8PROC_SOURCES, STRATA_UTF8PROC_DIR
#                            the tokenizer's PCRE2 10.42 (8-bit, Unicode, no JIT) and utf8proc
#                            from third_party/pcre2-src and utf8proc-src (apt-get source)
# and sets the flags every WASM object shares:
#   STRATA_WASM_SIMD=ON      -msimd128: Highway's static target is HWY_WASM (4 float lanes)
#                            and clang auto-vectorizes Eigen and plain loops with SIMD128
#   STRATA_WASM_SIMD=OFF     scalar WASM (Highway's HWY_EMU128), the SIMD-off comparison
#   cmake/wasm_compat.h      force-included: std::bit_cast for libc++ 13
#   -fexceptions             strata::Error must be catchable (a bad model file is reported,
#                            the app keeps running). Debian's frozen cache has no
#                            -fwasm-exceptions runtime, so these are Emscripten's JS-based ones.
if(NOT EMSCRIPTEN)
  message(FATAL_ERROR "cmake/wasm.cmake is for emcmake builds only")
endif()
include_guard(GLOBAL)

option(STRATA_WASM_SIMD "Compile WebAssembly with SIMD128 (-msimd128)" ON)
set(STRATA_THIRD_PARTY_DIR "${PROJECT_SOURCE_DIR}/third_party" CACHE PATH
    "Where scripts/setup.sh put imgui-src and highway-src")

# --- Header folder of symlinks ---------------------------------------------------------
set(STRATA_WASM_INCLUDE_DIR "${CMAKE_BINARY_DIR}/wasm-include")
file(MAKE_DIRECTORY "${STRATA_WASM_INCLUDE_DIR}")
foreach(link_and_target
    "nlohmann=/usr/include/nlohmann"
    "Eigen=/usr/include/eigen3/Eigen"
    "unsupported=/usr/include/eigen3/unsupported"
    "hwy=/usr/include/hwy")
  string(REPLACE "=" ";" pair "${link_and_target}")
  list(GET pair 0 link_name)
  list(GET pair 1 link_target)
  if(NOT EXISTS "${link_target}")
    message(FATAL_ERROR "${link_target} not found: install the Debian package that provides it "
                        "(scripts/setup.sh: nlohmann-json3-dev, libeigen3-dev, libhwy-dev)")
  endif()
  file(CREATE_LINK "${link_target}" "${STRATA_WASM_INCLUDE_DIR}/${link_name}" SYMBOLIC)
endforeach()

# --- find_package(Eigen3) / find_package(nlohmann_json) -------------------------------
# Emscripten's toolchain only searches its sysroot for packages (and the system's config
# files would add -isystem /usr/include anyway), so point <Pkg>_DIR at package files that
# define the same imported targets over the symlink folder.
include(CMakePackageConfigHelpers)
function(_strata_wasm_header_package pkg target version)
  set(dir "${CMAKE_BINARY_DIR}/wasm-packages/${pkg}")
  file(WRITE "${dir}/${pkg}Config.cmake"
    "# Written by cmake/wasm.cmake: header-only ${pkg} for the WebAssembly build.\n"
    "if(NOT TARGET ${target})\n"
    "  add_library(${target} INTERFACE IMPORTED GLOBAL)\n"
    "  set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES \"${STRATA_WASM_INCLUDE_DIR}\")\n"
    "endif()\n")
  write_basic_package_version_file("${dir}/${pkg}ConfigVersion.cmake" VERSION ${version}
    COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
  set(${pkg}_DIR "${dir}" CACHE PATH "WebAssembly stand-in package (cmake/wasm.cmake)" FORCE)
endfunction()
# The versions Debian 12 ships (libeigen3-dev 3.4.0, nlohmann-json3-dev 3.11.2).
_strata_wasm_header_package(Eigen3 Eigen3::Eigen 3.4.0)
_strata_wasm_header_package(nlohmann_json nlohmann_json::nlohmann_json 3.11.2)

# --- Highway's run-time support (the core adds these to libstrata) ---------------------
set(STRATA_HWY_SOURCES
  "${STRATA_THIRD_PARTY_DIR}/highway-src/hwy/targets.cc"
  "${STRATA_THIRD_PARTY_DIR}/highway-src/hwy/aligned_allocator.cc")
foreach(f IN LISTS STRATA_HWY_SOURCES)
  if(NOT EXISTS "${f}")
    message(FATAL_ERROR "${f} not found: run scripts/setup.sh (it fetches `apt-get source highway`)")
  endif()
endforeach()

# --- The tokenizer's PCRE2 and utf8proc (the core builds them into strata_unicode) -------
set(STRATA_PCRE2_DIR "${STRATA_THIRD_PARTY_DIR}/pcre2-src/src")
set(STRATA_UTF8PROC_DIR "${STRATA_THIRD_PARTY_DIR}/utf8proc-src")
foreach(f "${STRATA_PCRE2_DIR}/pcre2_compile.c" "${STRATA_UTF8PROC_DIR}/utf8proc.c")
  if(NOT EXISTS "${f}")
    message(FATAL_ERROR "${f} not found: run scripts/setup.sh (it fetches `apt-get source pcre2 utf8proc`)")
  endif()
endforeach()
# PCRE2's generic config and header, used as shipped (its defaults: 8-bit code units with
# PCRE2_CODE_UNIT_WIDTH=8, Unicode with SUPPORT_UNICODE, no JIT).
set(STRATA_PCRE2_GENERATED "${CMAKE_BINARY_DIR}/pcre2-generic")
configure_file("${STRATA_PCRE2_DIR}/config.h.generic" "${STRATA_PCRE2_GENERATED}/config.h" COPYONLY)
configure_file("${STRATA_PCRE2_DIR}/pcre2.h.generic" "${STRATA_PCRE2_GENERATED}/pcre2.h" COPYONLY)
configure_file("${STRATA_PCRE2_DIR}/pcre2_chartables.c.dist" "${STRATA_PCRE2_GENERATED}/pcre2_chartables.c" COPYONLY)
set(STRATA_PCRE2_INCLUDE_DIRS "${STRATA_PCRE2_GENERATED}" "${STRATA_PCRE2_DIR}")
set(STRATA_PCRE2_SOURCES "${STRATA_PCRE2_GENERATED}/pcre2_chartables.c")
foreach(name auto_possess compile config context convert dfa_match error extuni find_bracket jit_compile
        maketables match match_data newline ord2utf pattern_info script_run serialize string_utils study
        substitute substring tables ucd valid_utf xclass)
  list(APPEND STRATA_PCRE2_SOURCES "${STRATA_PCRE2_DIR}/pcre2_${name}.c")
endforeach()
set(STRATA_UTF8PROC_SOURCES "${STRATA_UTF8PROC_DIR}/utf8proc.c")

# --- Flags shared by every WASM object and link ----------------------------------------
add_compile_options(-fexceptions)
add_link_options(-fexceptions)
if(STRATA_WASM_SIMD)
  add_compile_options(-msimd128)
  add_link_options(-msimd128)
endif()
# C++20 library pieces Emscripten 3.1.6's libc++ 13 lacks (std::bit_cast), see the header.
add_compile_options("SHELL:-include ${CMAKE_CURRENT_LIST_DIR}/wasm_compat.h")
# (HWY_COMPILE_ONLY_STATIC=1, Highway's single static target, is a PUBLIC definition of
# libstrata: core/CMakeLists.txt.)

# emcc -O1 and above run a JS optimizer that needs node to find `acorn`; NodeSource's node
# does not look in Debian's /usr/share/nodejs. Set it for every link, whatever the caller's
# environment.
if(EXISTS /usr/share/nodejs/acorn)
  set(CMAKE_CXX_LINKER_LAUNCHER "${CMAKE_COMMAND};-E;env;NODE_PATH=/usr/share/nodejs")
endif()

# ctest runs WASM test executables with node. Emscripten's default emulator is plain `node`,
# whose experimental fetch() then fails to load the .wasm ("Failed to parse URL").
if(NOT CMAKE_CROSSCOMPILING_EMULATOR MATCHES "no-experimental-fetch")
  find_program(STRATA_NODE NAMES node nodejs REQUIRED)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${STRATA_NODE};--no-experimental-fetch" CACHE STRING
      "Runs WASM test executables" FORCE)
endif()

# Tests are added under web/; ctest expects its file at the top of the build tree.
enable_testing()

message(STATUS "strata WASM: SIMD128 ${STRATA_WASM_SIMD}, headers from ${STRATA_WASM_INCLUDE_DIR}")
