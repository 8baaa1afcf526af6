// expect: attach_needs_a_platform_that_reports_the_loaded_table
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#ifdef RPROC_COMPILE_FAIL
using board = rproc::sim::basic_platform<rproc::sim::features{.can_attach = false, .can_detach = false}>;
#else
using board = rproc::sim::platform;
#endif

auto f(rproc::remote<board, rproc::detached> r) { return std::move(r).attach(); }
