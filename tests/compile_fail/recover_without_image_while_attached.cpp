// expect: recover_is_only_legal_on_a_crashed_remote
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

using recovering = rproc::sim::basic_platform<rproc::sim::features{.attach_on_recovery = true}>;

#ifdef RPROC_COMPILE_FAIL
using state = rproc::attached;
#else
using state = rproc::crashed;
#endif

auto f(rproc::remote<recovering, state> r) { return std::move(r).recover(); }
