// expect: recover_without_an_image_needs_a_platform_that_attaches_on_recovery
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

using recovering = rproc::sim::basic_platform<rproc::sim::features{.attach_on_recovery = true}>;

#ifdef RPROC_COMPILE_FAIL
using board = rproc::sim::platform;
#else
using board = recovering;
#endif

auto f(rproc::remote<board, rproc::crashed> r) { return std::move(r).recover(); }
