// expect: a resource name holds at most 32 bytes
#include <rproc/builder.hpp>

#ifdef RPROC_COMPILE_FAIL
constexpr auto table = rproc::make_table(
    rproc::rsc::trace{.len = 64, .name = "a_name_of_thirty_three_characters"});
#else
constexpr auto table = rproc::make_table(
    rproc::rsc::trace{.len = 64, .name = "a_name_of_thirty_two_characters_"});
#endif
