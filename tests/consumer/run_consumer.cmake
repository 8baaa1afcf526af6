# Builds and runs one consumer of rproc from ctest, in a fresh WORK_DIR:
#   MODE=find_package      CMake's find_package(rproc), from the prefix installed under STAGE
#   MODE=make              make with pkg-config's rproc.pc, from the same prefix
#   MODE=meson             Meson's dependency('rproc') through pkg-config, from the same prefix
#   MODE=add_subdirectory  add RPROC_SOURCE_DIR as a subdirectory
# STAGE is the DESTDIR into which a test ran the README's install commands (readme_shell.sh);
# the prefix is where include/rproc/rproc.hpp landed under it. Also: GENERATOR (CMake modes),
# CXX_COMPILER (empty: the default compiler), WERROR (warnings as errors), and MAKE or MESON.
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS MODE RPROC_SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer.cmake needs -D${var}=...")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    string(REPLACE ";" " " shown "${ARGN}")
    message(FATAL_ERROR "failed (${status}): ${shown}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

# Only what this script sets reaches the consumer's build: no compiler, flags or search path of
# the caller's environment.
foreach(var IN ITEMS CC CXX CFLAGS CXXFLAGS CPPFLAGS LDFLAGS DESTDIR MAKEFLAGS MFLAGS
                     PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR CMAKE_PREFIX_PATH
                     CMAKE_GENERATOR CMAKE_BUILD_TYPE CMAKE_TOOLCHAIN_FILE)
  unset(ENV{${var}})
endforeach()
if(CXX_COMPILER)
  set(ENV{CXX} "${CXX_COMPILER}")
endif()
set(warnings -Wall -Wextra -Wpedantic -Wconversion)
if(WERROR)
  list(APPEND warnings -Werror)
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
set(consumer_dir "${RPROC_SOURCE_DIR}/tests/consumer/${MODE}")
set(build_dir "${WORK_DIR}/build")

if(NOT MODE STREQUAL "add_subdirectory")
  file(GLOB_RECURSE headers "${STAGE}/rproc.hpp")
  list(FILTER headers INCLUDE REGEX "/include/rproc/rproc\\.hpp$")
  list(LENGTH headers count)
  if(NOT count EQUAL 1)
    message(FATAL_ERROR "not one include/rproc/rproc.hpp under ${STAGE}: ${headers}")
  endif()
  get_filename_component(prefix "${headers}/../../.." ABSOLUTE)
  foreach(file IN ITEMS include/rproc/table.hpp share/cmake/rproc/rprocConfig.cmake
                        share/cmake/rproc/rprocConfigVersion.cmake
                        share/cmake/rproc/rprocTargets.cmake share/pkgconfig/rproc.pc
                        bin/rproc-inspect bin/rproc-ctl)
    if(NOT EXISTS "${prefix}/${file}")
      message(FATAL_ERROR "the README's install commands did not install ${file}")
    endif()
  endforeach()
  # pkg-config sees this prefix and nothing of the system's.
  set(ENV{PKG_CONFIG_LIBDIR} "${prefix}/share/pkgconfig")
endif()

if(MODE STREQUAL "find_package" OR MODE STREQUAL "add_subdirectory")
  set(configure_args -S "${consumer_dir}" -B "${build_dir}" -G "${GENERATOR}"
                     -DCMAKE_BUILD_TYPE=Release "-DRPROC_WERROR=${WERROR}")
  if(MODE STREQUAL "find_package")
    run("${prefix}/bin/rproc-inspect" "${RPROC_SOURCE_DIR}/tests/data/st-stm32mp15-cm4-bst-v0.9.3.rsc")
    run("${prefix}/bin/rproc-ctl" --version)
    message(STATUS "installed rproc-inspect and rproc-ctl run")
    # Only the prefix just installed: no user package registry, no system rproc.
    list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${prefix}" "-DEXPECTED_PREFIX=${prefix}"
         -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
  else()
    list(APPEND configure_args "-DRPROC_SOURCE_DIR=${RPROC_SOURCE_DIR}")
  endif()
  run("${CMAKE_COMMAND}" ${configure_args})
  run("${CMAKE_COMMAND}" --build "${build_dir}")

elseif(MODE STREQUAL "make")
  # The include path pkg-config gives is the prefix's.
  run(pkg-config --cflags rproc)
  string(STRIP "${run_output}" cflags)
  string(REGEX REPLACE "^-I" "" include_dir "${cflags}")
  file(REAL_PATH "${include_dir}" include_dir)
  file(REAL_PATH "${prefix}/include" expected)
  if(NOT include_dir STREQUAL expected)
    message(FATAL_ERROR "pkg-config --cflags rproc gives \"${cflags}\", not -I${expected}")
  endif()
  string(JOIN " " flags ${warnings})
  set(ENV{CXXFLAGS} "${flags}")
  file(MAKE_DIRECTORY "${build_dir}")
  run("${MAKE}" -C "${build_dir}" -f "${consumer_dir}/Makefile")

elseif(MODE STREQUAL "meson")
  # warning_level=3 (meson.build) is -Wall -Wextra -Wpedantic.
  set(werror false)
  if(WERROR)
    set(werror true)
  endif()
  run("${MESON}" setup "${build_dir}" "${consumer_dir}" -Dbuildtype=release
      -Dcpp_args=-Wconversion -Dwerror=${werror})
  run("${MESON}" compile -C "${build_dir}")

else()
  message(FATAL_ERROR "MODE is find_package, make, meson or add_subdirectory, not ${MODE}")
endif()

run("${build_dir}/consumer")
message(STATUS "${MODE} consumer: ${run_output}")
