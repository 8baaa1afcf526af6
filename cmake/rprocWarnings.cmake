# Flags for rproc's own targets (tests, examples, tools, benchmarks); consumers get none of them.
add_library(rproc_project_options INTERFACE)
target_compile_options(rproc_project_options INTERFACE -Wall -Wextra -Wpedantic -Wconversion)
if(RPROC_WERROR)
  target_compile_options(rproc_project_options INTERFACE -Werror)
endif()
if(RPROC_SANITIZE)
  target_compile_options(rproc_project_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(rproc_project_options INTERFACE -fsanitize=address,undefined)
endif()
if(RPROC_SANITIZE_THREAD)
  target_compile_options(rproc_project_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(rproc_project_options INTERFACE -fsanitize=thread)
endif()

# rproc_add_program(NAME source... [LIBS lib...]): an executable of this project with its flags.
function(rproc_add_program name)
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE rproc::rproc rproc_project_options ${ARG_LIBS})
endfunction()
