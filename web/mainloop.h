// The main-loop shim of Dear ImGui's Emscripten examples (examples/libs/emscripten/
// emscripten_mainloop_stub.h in ImGui 1.89+; 1.86 predates it). The loop body becomes a
// lambda that the browser calls once per animation frame:
//
//   #ifdef __EMSCRIPTEN__
//     EMSCRIPTEN_MAINLOOP_BEGIN
//   #else
//     while (!glfwWindowShouldClose(window))
//   #endif
//     { ...one frame... }
//   #ifdef __EMSCRIPTEN__
//     EMSCRIPTEN_MAINLOOP_END;
//   #endif
//
// emscripten_set_main_loop(..., simulate_infinite_loop = 1) never returns: main()'s stack
// is kept, so the lambda's by-reference captures stay valid.
#pragma once
#ifdef __EMSCRIPTEN__
#include <emscripten.h>

#include <functional>

inline std::function<void()> g_strata_main_loop;
inline void strata_main_loop_trampoline() { g_strata_main_loop(); }

#define EMSCRIPTEN_MAINLOOP_BEGIN g_strata_main_loop = [&]()
#define EMSCRIPTEN_MAINLOOP_END ; emscripten_set_main_loop(strata_main_loop_trampoline, 0, 1)
#endif
