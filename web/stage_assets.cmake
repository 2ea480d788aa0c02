# Run by the strata_web_assets target (cmake -P): puts index.html and the model (its .json
# and .safetensors files; notes and training records stay behind) next to strata_demo.js. Inputs: WEB_DIR (web/), MODEL_DIR (assets/model), OUT_DIR (bin/).
# The page fetches OUT_DIR/model/manifest.json, then every file it lists, into its
# in-memory file system at /model/ (see web/index.html). Copies only what changed and
# removes model files that are no longer in MODEL_DIR.
cmake_minimum_required(VERSION 3.21)
foreach(v WEB_DIR MODEL_DIR OUT_DIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "stage_assets.cmake: ${v} not set")
  endif()
endforeach()

file(MAKE_DIRECTORY "${OUT_DIR}/model")
file(COPY_FILE "${WEB_DIR}/index.html" "${OUT_DIR}/index.html" ONLY_IF_DIFFERENT)

set(entries "")
set(wanted "manifest.json")
if(IS_DIRECTORY "${MODEL_DIR}")
  file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${MODEL_DIR}" "${MODEL_DIR}/*")
  list(SORT files)
  foreach(f IN LISTS files)
    if(f MATCHES "(^|/)\\.")  # hidden files (.gitkeep, editor swap files)
      continue()
    endif()
    if(NOT f MATCHES "\\.(json|safetensors)$")  # only what the app loads, not TRAINING.md, loss.csv, ...
      continue()
    endif()
    get_filename_component(sub "${OUT_DIR}/model/${f}" DIRECTORY)
    file(MAKE_DIRECTORY "${sub}")
    file(COPY_FILE "${MODEL_DIR}/${f}" "${OUT_DIR}/model/${f}" ONLY_IF_DIFFERENT)
    file(SIZE "${MODEL_DIR}/${f}" bytes)
    list(APPEND entries "{\"name\": \"${f}\", \"bytes\": ${bytes}}")
    list(APPEND wanted "${f}")
  endforeach()
else()
  message(STATUS "strata web: ${MODEL_DIR} does not exist; the page will report that no model is bundled")
endif()

# Stale files from an earlier staging.
file(GLOB_RECURSE staged LIST_DIRECTORIES false RELATIVE "${OUT_DIR}/model" "${OUT_DIR}/model/*")
foreach(f IN LISTS staged)
  if(NOT f IN_LIST wanted)
    file(REMOVE "${OUT_DIR}/model/${f}")
  endif()
endforeach()

list(JOIN entries ",\n    " joined)
if(joined)
  set(joined "\n    ${joined}\n  ")
endif()
file(WRITE "${OUT_DIR}/model/manifest.json.tmp"
  "{\n  \"source\": \"assets/model\",\n  \"files\": [${joined}]\n}\n")
file(COPY_FILE "${OUT_DIR}/model/manifest.json.tmp" "${OUT_DIR}/model/manifest.json" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT_DIR}/model/manifest.json.tmp")
