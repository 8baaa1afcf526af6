// expect: recover_from_an_image_is_for_a_platform_that_does_not_attach_on_recovery
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#include "support.hpp"

using recovering = rproc::sim::basic_platform<rproc::sim::features{.attach_on_recovery = true}>;

#ifdef RPROC_COMPILE_FAIL
using board = recovering;
#else
using board = rproc::sim::platform;
#endif

auto f(rproc::remote<board, rproc::crashed> r) { return std::move(r).recover(image{}); }
