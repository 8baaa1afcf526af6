// expect: report_crash_is_only_legal_on_a_running_or_attached_remote
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#ifdef RPROC_COMPILE_FAIL
using state = rproc::detached;
#else
using state = rproc::attached;
#endif

auto f(rproc::remote<rproc::sim::platform, state> r) { return std::move(r).report_crash(); }
