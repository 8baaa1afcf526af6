// expect: a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

using recovering = rproc::sim::basic_platform<rproc::sim::features{.attach_on_recovery = true}>;

auto f(rproc::remote<recovering, rproc::crashed> r) {
#ifdef RPROC_COMPILE_FAIL
  return r.recover();
#else
  return std::move(r).recover();
#endif
}
