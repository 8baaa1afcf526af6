# The three ways to consume rproc, each a ctest test (included from tests/CMakeLists.txt):
# the single header, an installed package (find_package) and a source tree (add_subdirectory).

set(rproc_amalgamate "${PROJECT_SOURCE_DIR}/scripts/amalgamate.cmake")
add_custom_target(rproc_amalgamate
  COMMAND "${CMAKE_COMMAND}" -P "${rproc_amalgamate}"
  COMMENT "Regenerating single_include/rproc.hpp" VERBATIM)
add_test(NAME single_include_up_to_date
  COMMAND "${CMAKE_COMMAND}" -DCHECK=ON "-DFRESH=${CMAKE_CURRENT_BINARY_DIR}/rproc.hpp.fresh"
          -P "${rproc_amalgamate}")

# Only single_include/ on the include path: not linked to rproc::rproc.
add_executable(test_single_include "${PROJECT_SOURCE_DIR}/tests/test_single_include.cpp")
target_include_directories(test_single_include PRIVATE "${PROJECT_SOURCE_DIR}/single_include")
target_compile_features(test_single_include PRIVATE cxx_std_20)
target_link_libraries(test_single_include PRIVATE rproc_project_options)
add_test(NAME test_single_include COMMAND test_single_include)

# Each consumer configures and builds a project of its own (10 to 20 s). What they check does
# not depend on the compiler, so by default one configuration runs them: GCC, not sanitized (the
# gcc preset), as for the firmware tests.
set(rproc_consumer_default OFF)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT RPROC_SANITIZE)
  set(rproc_consumer_default ON)
endif()
option(RPROC_CONSUMER_TESTS "Test the find_package and add_subdirectory consumers"
       ${rproc_consumer_default})
if(NOT RPROC_CONSUMER_TESTS)
  return()
endif()

foreach(mode IN ITEMS find_package add_subdirectory)
  add_test(NAME "consumer_${mode}"
    COMMAND "${CMAKE_COMMAND}" -DMODE=${mode}
            "-DRPROC_SOURCE_DIR=${PROJECT_SOURCE_DIR}" "-DRPROC_BUILD_DIR=${PROJECT_BINARY_DIR}"
            "-DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer_${mode}"
            "-DGENERATOR=${CMAKE_GENERATOR}" "-DCXX_COMPILER=${CMAKE_CXX_COMPILER}"
            "-DBINDIR=${CMAKE_INSTALL_BINDIR}"
            "-DINSPECT_EXPECTED=$<AND:$<TARGET_EXISTS:rproc-inspect>,$<BOOL:${RPROC_INSTALL}>>"
            -P "${PROJECT_SOURCE_DIR}/tests/consumer/run_consumer.cmake")
  set_tests_properties("consumer_${mode}" PROPERTIES LABELS consumer TIMEOUT 180)
endforeach()
# cmake --install needs an install rule set.
if(NOT RPROC_INSTALL)
  set_tests_properties(consumer_find_package PROPERTIES DISABLED ON)
endif()
