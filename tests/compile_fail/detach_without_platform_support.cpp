// expect: detach_needs_a_platform_that_can_detach
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#ifdef RPROC_COMPILE_FAIL
using board = rproc::sim::basic_platform<rproc::sim::features{.can_detach = false}>;
#else
using board = rproc::sim::platform;
#endif

auto f(rproc::remote<board, rproc::attached> r) { return std::move(r).detach(); }
