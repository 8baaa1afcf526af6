// expect: stop_needs_a_platform_that_can_stop_the_core
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#ifdef RPROC_COMPILE_FAIL
using board = rproc::sim::basic_platform<rproc::sim::features{.can_stop = false}>;
#else
using board = rproc::sim::platform;
#endif

auto f(rproc::remote<board, rproc::running> r) { return std::move(r).stop(); }
