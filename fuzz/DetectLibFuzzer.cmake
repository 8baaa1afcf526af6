# RPROC_FUZZERS_DEFAULT: ON when rproc builds its tests (the harnesses' short runs are tests) and
# the C++ compiler is clang with a libFuzzer that links (clang-19 + libfuzzer-19-dev); the default
# of RPROC_BUILD_FUZZERS.
set(RPROC_FUZZERS_DEFAULT OFF)
if(RPROC_BUILD_TESTS AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer")
  check_cxx_source_compiles([[
    #include <cstddef>
    #include <cstdint>
    extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }
  ]] RPROC_LIBFUZZER_LINKS)
  unset(CMAKE_REQUIRED_FLAGS)
  if(RPROC_LIBFUZZER_LINKS)
    set(RPROC_FUZZERS_DEFAULT ON)
  endif()
endif()
