// expect: start_needs_a_platform_that_can_start_the_core
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#include "support.hpp"

#ifdef RPROC_COMPILE_FAIL
using board = rproc::sim::basic_platform<rproc::sim::features{.can_start = false}>;
#else
using board = rproc::sim::platform;
#endif

auto f(rproc::remote<board, rproc::offline> r) { return std::move(r).start(image{}); }
