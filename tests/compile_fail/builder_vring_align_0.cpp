// expect: a_vring_has_align_0
#include <rproc/builder.hpp>

#ifdef RPROC_COMPILE_FAIL
constexpr std::uint32_t align = 0;
#else
constexpr std::uint32_t align = 16;
#endif

constexpr auto table = rproc::make_table(
    rproc::rsc::vdev{}.with_vrings(rproc::rsc::vring{.align = align, .num = 8}));
