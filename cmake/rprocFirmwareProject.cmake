# What each firmware project under examples/ does first, after setting RPROC_SOURCE_DIR: insist
# on the Cortex-M toolchain, default to a size-optimised build, and bring in rproc::rproc.
if(NOT CMAKE_CROSSCOMPILING)
  message(FATAL_ERROR "Configure with -DCMAKE_TOOLCHAIN_FILE=<rproc>/cmake/arm-none-eabi.cmake")
endif()
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE MinSizeRel CACHE STRING "" FORCE)
endif()
add_subdirectory("${RPROC_SOURCE_DIR}" rproc EXCLUDE_FROM_ALL)
