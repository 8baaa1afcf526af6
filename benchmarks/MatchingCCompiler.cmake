# Enables C with the C compiler of the C++ compiler's family and version (g++-12 -> gcc-12,
# clang++-19 -> clang-19), so that a C baseline and the C++ it is compared with differ in code,
# not in compiler, and so that clang-only flags (-fsanitize=fuzzer) reach C files too.
# A C compiler chosen by the user (CC, CMAKE_C_COMPILER) wins.
if(NOT CMAKE_C_COMPILER AND NOT DEFINED ENV{CC})
  get_filename_component(rproc_cxx_dir "${CMAKE_CXX_COMPILER}" DIRECTORY)
  get_filename_component(rproc_cxx_name "${CMAKE_CXX_COMPILER}" NAME)
  string(REPLACE "clang++" "clang" rproc_c_name "${rproc_cxx_name}")
  string(REPLACE "g++" "gcc" rproc_c_name "${rproc_c_name}")
  if(NOT rproc_c_name STREQUAL rproc_cxx_name AND EXISTS "${rproc_cxx_dir}/${rproc_c_name}")
    set(CMAKE_C_COMPILER "${rproc_cxx_dir}/${rproc_c_name}")
  endif()
endif()
enable_language(C)
