# Builds and runs one consumer of rproc from ctest, in a fresh WORK_DIR:
#   MODE=find_package      install RPROC_BUILD_DIR into WORK_DIR/prefix, then find_package(rproc)
#   MODE=add_subdirectory  add RPROC_SOURCE_DIR as a subdirectory
# Also: GENERATOR, CXX_COMPILER (the consumer uses the same ones as the build under test),
# BINDIR and INSPECT_EXPECTED (1 when the build has rproc-inspect, which must then be installed).
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS MODE RPROC_SOURCE_DIR RPROC_BUILD_DIR WORK_DIR GENERATOR CXX_COMPILER)
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

file(REMOVE_RECURSE "${WORK_DIR}")
set(consumer_dir "${RPROC_SOURCE_DIR}/tests/consumer/${MODE}")
set(configure_args -S "${consumer_dir}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
                   "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DCMAKE_BUILD_TYPE=Release)

if(MODE STREQUAL "find_package")
  set(prefix "${WORK_DIR}/prefix")
  run("${CMAKE_COMMAND}" --install "${RPROC_BUILD_DIR}" --prefix "${prefix}")
  foreach(file IN ITEMS include/rproc/rproc.hpp include/rproc/table.hpp
                        share/cmake/rproc/rprocConfig.cmake
                        share/cmake/rproc/rprocConfigVersion.cmake
                        share/cmake/rproc/rprocTargets.cmake)
    if(NOT EXISTS "${prefix}/${file}")
      message(FATAL_ERROR "cmake --install did not install ${file}")
    endif()
  endforeach()
  if(INSPECT_EXPECTED)
    set(inspect "${prefix}/${BINDIR}/rproc-inspect")
    run("${inspect}" "${RPROC_SOURCE_DIR}/tests/data/st-stm32mp15-cm4-bst-v0.9.3.rsc")
    message(STATUS "installed rproc-inspect runs")
  endif()
  # Only the prefix just installed: no user package registry, no system rproc.
  list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${prefix}" "-DEXPECTED_PREFIX=${prefix}"
       -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
elseif(MODE STREQUAL "add_subdirectory")
  list(APPEND configure_args "-DRPROC_SOURCE_DIR=${RPROC_SOURCE_DIR}")
else()
  message(FATAL_ERROR "MODE is find_package or add_subdirectory, not ${MODE}")
endif()

run("${CMAKE_COMMAND}" ${configure_args})
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/consumer")
message(STATUS "${MODE} consumer: ${run_output}")
