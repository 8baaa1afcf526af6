// expect: a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#include "support.hpp"

auto f(rproc::remote<rproc::sim::platform, rproc::crashed> r) {
#ifdef RPROC_COMPILE_FAIL
  return r.recover(image{});
#else
  return std::move(r).recover(image{});
#endif
}
