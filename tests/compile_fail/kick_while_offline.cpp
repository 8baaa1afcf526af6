// expect: kick_is_only_legal_on_a_running_or_attached_remote
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#ifdef RPROC_COMPILE_FAIL
using state = rproc::offline;
#else
using state = rproc::running;
#endif

auto f(rproc::remote<rproc::sim::platform, state> r) { return std::move(r).kick(0); }
