// expect: stop_is_only_legal_on_a_running_attached_or_crashed_remote
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#ifdef RPROC_COMPILE_FAIL
using state = rproc::detached;
#else
using state = rproc::running;
#endif

auto f(rproc::remote<rproc::sim::platform, state> r) { return std::move(r).stop(); }
