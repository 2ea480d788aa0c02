// The browser demo's entry point, platform only: a GLFW window with an OpenGL ES 3 / WebGL2
// context, Dear ImGui's GLFW + OpenGL3 backends, and the frame loop, in the shape of ImGui's
// own examples (the loop body sits between EMSCRIPTEN_MAINLOOP_BEGIN/END, see mainloop.h).
// Each frame: update_app (run.h), then draw_app (panels.h). The look is style.h's. This
// file also exports the C functions the page and the tests call (test_api.h):
//   const char* strata_state_json()             the app's state as JSON
//   const char* strata_command(const char* json) one command, e.g. {"cmd":"select_target","index":3}
//   double strata_bench_forward(int n, int reps)  ms per forward pass over n tokens (run.h)
// The same file builds natively (GLFW + desktop GL 3.0), with the exports left unused.
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "imgui.h"
#include "imgui_impl_glfw.h"
#include "imgui_impl_opengl3.h"
#include "mainloop.h"
#include "panels.h"
#include "run.h"
#include "state.h"
#include "strata/ops.h"
#include "style.h"
#include "test_api.h"

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#include <emscripten/html5.h>
#define GLFW_INCLUDE_ES3
#endif
#include <GLFW/glfw3.h>

namespace {

strata::web::App g_app;
GLFWwindow* g_window = nullptr;

void glfw_error(int code, const char* what) { std::fprintf(stderr, "GLFW error %d: %s\n", code, what); }

}  // namespace

#ifdef __EMSCRIPTEN__
// ---- Page glue (web/index.html defines strataFatal and reads these) -------------------

// Shows the page's error overlay; the app cannot continue.
EM_JS(void, js_fatal, (const char* title, const char* detail), {
  if (typeof strataFatal === "function") strataFatal(UTF8ToString(title), UTF8ToString(detail));
});

// Keeps the canvas's drawing buffer at its CSS size (1 canvas pixel per CSS pixel). Uses
// Module.setCanvasSize, which also tells GLFW; glfwSetWindowSize would request fullscreen
// when the size equals the screen's, which a full-window canvas in a headless browser does.
EM_JS(void, js_fit_canvas, (), {
  const c = Module.canvas;
  const w = Math.max(1, Math.floor(c.clientWidth)), h = Math.max(1, Math.floor(c.clientHeight));
  if (c.width !== w || c.height !== h) Module.setCanvasSize(w, h);
});

// ImGui's copy goes to the system clipboard; paste arrives through the page's paste event
// (strata_command {"cmd":"paste"}), as browsers only hand clipboard text to such events.
EM_JS(void, js_set_clipboard, (const char* text), {
  if (navigator.clipboard) navigator.clipboard.writeText(UTF8ToString(text)).catch(() => {});
});
void set_clipboard(void*, const char* text) { js_set_clipboard(text); }
const char* get_clipboard(void*) { return nullptr; }

extern "C" {
EMSCRIPTEN_KEEPALIVE const char* strata_state_json() {
  static std::string out;
  try {
    out = strata::web::state_json(g_app);
  } catch (const std::exception& e) {  // e.g. a predicted id the tokenizer does not know
    out = std::string("{\"ready\":false,\"error\":") + nlohmann::json(e.what()).dump() + "}";
  }
  return out.c_str();
}
EMSCRIPTEN_KEEPALIVE const char* strata_command(const char* json) {
  static std::string out;
  out = strata::web::command(g_app, json ? json : "");
  return out.c_str();
}
EMSCRIPTEN_KEEPALIVE double strata_bench_forward(int n, int reps) {
  try {
    return strata::web::bench_forward(g_app, n, reps);
  } catch (const std::exception&) {
    return -1;
  }
}
}
#endif

int main(int, char**) {
  strata::web::init_app(g_app);

  glfwSetErrorCallback(glfw_error);
  if (!glfwInit()) {
#ifdef __EMSCRIPTEN__
    js_fatal("The app could not start", "glfwInit() failed.");
#endif
    return 1;
  }
#ifdef __EMSCRIPTEN__
  // WebGL2 = OpenGL ES 3.0.
  const char* glsl_version = "#version 300 es";
  glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
#else
  const char* glsl_version = "#version 130";
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
#endif
  g_window = glfwCreateWindow(1280, 800, "strata", nullptr, nullptr);
  if (!g_window) {
#ifdef __EMSCRIPTEN__
    js_fatal("WebGL2 is not available",
             "The page could not create a WebGL2 context. Use a current Chrome, Edge or Firefox "
             "with hardware acceleration (or WebGL) enabled.");
#endif
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(g_window);
  glfwSwapInterval(1);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  strata::web::style::apply();

  g_app.platform.font = "ImGui default";
  g_app.platform.simd_target = strata::ops::simd_target();
#ifdef __EMSCRIPTEN__
  io.IniFilename = nullptr;  // no imgui.ini in the browser
  g_app.platform.platform = "wasm";
#ifdef __wasm_simd128__
  g_app.platform.simd128 = true;
#endif
  // web/CMakeLists.txt preloads a TrueType font here (STRATA_WEB_FONT).
  // Latin-1 and Latin Extended-A, general punctuation (curly quotes, dashes), arrows and
  // geometric shapes (the step buttons' triangles), dingbats (the pause bars).
  static const ImWchar kRanges[] = {0x0020, 0x017F, 0x2000, 0x206F, 0x2190, 0x21FF,
                                    0x25A0, 0x25FF, 0x2758, 0x275B, 0};
  if (std::FILE* f = std::fopen("/fonts/ui.ttf", "rb")) {
    std::fclose(f);
    if (io.Fonts->AddFontFromFileTTF("/fonts/ui.ttf", 16.0f, nullptr, kRanges)) g_app.platform.font = "DejaVu Sans 16px";
  }
#endif

  ImGui_ImplGlfw_InitForOpenGL(g_window, true);
  ImGui_ImplOpenGL3_Init(glsl_version);
#ifdef __EMSCRIPTEN__
  io.SetClipboardTextFn = set_clipboard;
  io.GetClipboardTextFn = get_clipboard;
#endif
  if (const GLubyte* v = glGetString(GL_VERSION)) g_app.platform.gl_version = reinterpret_cast<const char*>(v);

#ifdef __EMSCRIPTEN__
  EMSCRIPTEN_MAINLOOP_BEGIN
#else
  while (!glfwWindowShouldClose(g_window))
#endif
  {
#ifdef __EMSCRIPTEN__
    js_fit_canvas();
#endif
    glfwPollEvents();
    strata::web::update_app(g_app, ImGui::GetTime());
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    strata::web::draw_app(g_app);
    ImGui::Render();

    int w = 0, h = 0;
    glfwGetFramebufferSize(g_window, &w, &h);
    glViewport(0, 0, w, h);
    const ImVec4 bg = strata::web::style::kBackground;
    glClearColor(bg.x, bg.y, bg.z, bg.w);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    glfwSwapBuffers(g_window);

    g_app.width = int(io.DisplaySize.x);
    g_app.height = int(io.DisplaySize.y);
    g_app.fps = io.Framerate;
    ++g_app.frame;
  }
#ifdef __EMSCRIPTEN__
  EMSCRIPTEN_MAINLOOP_END;
#endif

  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(g_window);
  glfwTerminate();
  return 0;
}
