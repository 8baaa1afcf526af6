// expect: recover_is_only_legal_on_a_crashed_remote
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#include "support.hpp"

#ifdef RPROC_COMPILE_FAIL
using state = rproc::running;
#else
using state = rproc::crashed;
#endif

auto f(rproc::remote<rproc::sim::platform, state> r) { return std::move(r).recover(image{}); }
