// expect: start_is_only_legal_on_an_offline_remote
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#include "support.hpp"

#ifdef RPROC_COMPILE_FAIL
using state = rproc::attached;
#else
using state = rproc::offline;
#endif

auto f(rproc::remote<rproc::sim::platform, state> r) { return std::move(r).start(image{}); }
