// expect: detach_is_only_legal_on_an_attached_remote
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#ifdef RPROC_COMPILE_FAIL
using state = rproc::running;
#else
using state = rproc::attached;
#endif

auto f(rproc::remote<rproc::sim::platform, state> r) { return std::move(r).detach(); }
