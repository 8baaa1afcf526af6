// expect: a_vring_has_num_0
#include <rproc/builder.hpp>

#ifdef RPROC_COMPILE_FAIL
constexpr std::uint32_t num = 0;
#else
constexpr std::uint32_t num = 8;
#endif

constexpr auto table = rproc::make_table(
    rproc::rsc::vdev{}.with_vrings(rproc::rsc::vring{.align = 16, .num = num}));
