// expect: a vdev has at most 2 vrings
#include <rproc/builder.hpp>

constexpr rproc::rsc::vring ring{.align = 16, .num = 8};
#ifdef RPROC_COMPILE_FAIL
constexpr auto table = rproc::make_table(rproc::rsc::vdev{}.with_vrings(ring, ring, ring));
#else
constexpr auto table = rproc::make_table(rproc::rsc::vdev{}.with_vrings(ring, ring));
#endif
