# The ways to consume rproc, each a ctest test (included from tests/CMakeLists.txt): the single
# header, the package the README's install commands install (find_package, make and Meson through
# pkg-config) and a source tree (add_subdirectory); and the README's other shell commands.

set(rproc_amalgamate "${PROJECT_SOURCE_DIR}/scripts/amalgamate.cmake")
add_custom_target(rproc_amalgamate
  COMMAND "${CMAKE_COMMAND}" -P "${rproc_amalgamate}"
  COMMENT "Regenerating single_include/rproc.hpp" VERBATIM)
add_test(NAME single_include_up_to_date
  COMMAND "${CMAKE_COMMAND}" -DCHECK=ON "-DFRESH=${CMAKE_CURRENT_BINARY_DIR}/rproc.hpp.fresh"
          -P "${rproc_amalgamate}")

add_test(NAME headers_at_most_450_lines
  COMMAND "${CMAKE_COMMAND}" -P "${PROJECT_SOURCE_DIR}/scripts/check-header-lines.cmake")

# Only single_include/ on the include path: not linked to rproc::rproc.
add_executable(test_single_include "${PROJECT_SOURCE_DIR}/tests/test_single_include.cpp")
target_include_directories(test_single_include PRIVATE "${PROJECT_SOURCE_DIR}/single_include")
target_compile_features(test_single_include PRIVATE cxx_std_20)
target_link_libraries(test_single_include PRIVATE rproc_project_options)
add_test(NAME test_single_include COMMAND test_single_include)

# The README's shell blocks: each one that a test runs is named here (readme_shell.sh checks that
# every other one is skipped with a reason), and run by rproc_add_readme_shell_test.
set(rproc_readme_shell "${PROJECT_SOURCE_DIR}/tests/readme_shell.sh")
add_test(NAME readme_shell_marked
  COMMAND bash "${rproc_readme_shell}" check "${PROJECT_SOURCE_DIR}/README.md" demo install firmware board
          remote crash rpmsg)

# rproc_add_readme_shell_test(BLOCK [CXX compiler] [FIXTURE name]): the test "readme_shell: BLOCK"
# runs the block in a fresh copy of the tracked files, in WORK_DIR/readme_<BLOCK>[_<compiler>];
# an install lands in that folder's stage/ (DESTDIR), which FIXTURE's tests then use.
function(rproc_add_readme_shell_test block)
  cmake_parse_arguments(ARG "" "CXX;FIXTURE" "" ${ARGN})
  set(name "readme_shell: ${block}")
  set(work "${PROJECT_BINARY_DIR}/tests/readme_${block}")
  if(ARG_CXX)
    get_filename_component(compiler "${ARG_CXX}" NAME)
    string(APPEND name " (${compiler})")
    string(APPEND work "_${compiler}")
  endif()
  add_test(NAME "${name}"
    COMMAND bash "${rproc_readme_shell}" run "${PROJECT_SOURCE_DIR}/README.md" "${block}"
            "${PROJECT_SOURCE_DIR}" "${work}" ${ARG_CXX})
  set_tests_properties("${name}" PROPERTIES LABELS readme TIMEOUT 600)
  if(ARG_FIXTURE)
    set_tests_properties("${name}" PROPERTIES FIXTURES_SETUP "${ARG_FIXTURE}")
    set(rproc_readme_stage "${work}/stage" PARENT_SCOPE)
  endif()
endfunction()

# The consumers and the README's blocks build projects of their own (10 to 60 s each). What they
# check does not depend on the compiler of this build, so by default one configuration runs them:
# GCC, not sanitized (the gcc preset, which asks for them outright), when the tools they use are
# here.
find_program(RPROC_GIT git)
find_program(RPROC_MAKE make)
find_program(RPROC_PKG_CONFIG pkg-config)
find_program(RPROC_MESON meson)
find_program(RPROC_README_CLANG clang++-19)
set(rproc_consumer_tools RPROC_GIT RPROC_MAKE RPROC_PKG_CONFIG RPROC_MESON RPROC_README_CLANG)
set(rproc_consumer_default OFF)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT RPROC_SANITIZE)
  set(rproc_consumer_default ON)
  foreach(tool IN LISTS rproc_consumer_tools)
    if(NOT ${tool})
      set(rproc_consumer_default OFF)
    endif()
  endforeach()
endif()
option(RPROC_CONSUMER_TESTS
       "Run the README's commands, and the consumers of what they install and of the source tree"
       ${rproc_consumer_default})
# The README's blocks run in a copy of the files git tracks: not from an archive, nor from the
# copy itself.
set(rproc_readme_runnable OFF)
if(RPROC_CONSUMER_TESTS AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
  set(rproc_readme_runnable ON)
endif()
if(NOT RPROC_CONSUMER_TESTS)
  return()
endif()
foreach(tool IN LISTS rproc_consumer_tools)
  if(NOT ${tool})
    message(FATAL_ERROR "RPROC_CONSUMER_TESTS needs git, make, pkg-config, meson and clang++-19 "
                        "(${tool} not found; bash scripts/dev.sh test installs them)")
  endif()
endforeach()

add_test(NAME consumer_add_subdirectory
  COMMAND "${CMAKE_COMMAND}" -DMODE=add_subdirectory "-DRPROC_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
          "-DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer_add_subdirectory"
          "-DGENERATOR=${CMAKE_GENERATOR}" "-DCXX_COMPILER=${CMAKE_CXX_COMPILER}"
          "-DWERROR=${RPROC_WERROR}" -P "${PROJECT_SOURCE_DIR}/tests/consumer/run_consumer.cmake")
set_tests_properties(consumer_add_subdirectory PROPERTIES LABELS consumer TIMEOUT 180)

if(NOT rproc_readme_runnable)
  message(STATUS "Not a git work tree: the README's commands are not run")
  return()
endif()
rproc_add_readme_shell_test(demo)
rproc_add_readme_shell_test(board)

# The README's install commands with the default compiler and with clang, then a CMake, a make
# and a Meson project built with the same compiler against the prefix they installed.
foreach(compiler IN ITEMS "" "${RPROC_README_CLANG}")
  set(suffix "")
  set(fixture rproc_readme_install)
  if(compiler)
    get_filename_component(suffix "${compiler}" NAME)
    set(fixture "${fixture}_${suffix}")
    set(suffix " (${suffix})")
  endif()
  rproc_add_readme_shell_test(install CXX ${compiler} FIXTURE ${fixture})
  foreach(mode IN ITEMS find_package make meson)
    set(name "consumer_${mode}${suffix}")
    string(MAKE_C_IDENTIFIER "${name}" work)
    add_test(NAME "${name}"
      COMMAND "${CMAKE_COMMAND}" -DMODE=${mode} "-DRPROC_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
              "-DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/${work}" "-DSTAGE=${rproc_readme_stage}"
              "-DGENERATOR=${CMAKE_GENERATOR}" "-DCXX_COMPILER=${compiler}"
              "-DWERROR=${RPROC_WERROR}" "-DMAKE=${RPROC_MAKE}" "-DMESON=${RPROC_MESON}"
              -P "${PROJECT_SOURCE_DIR}/tests/consumer/run_consumer.cmake")
    set_tests_properties("${name}" PROPERTIES LABELS consumer TIMEOUT 180
                         FIXTURES_REQUIRED ${fixture})
  endforeach()
endforeach()
