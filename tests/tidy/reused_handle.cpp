// A handle reused after a transition consumed it: clang-tidy must flag it.
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

void reuse(rproc::remote<rproc::sim::platform, rproc::attached> attached) {
  auto first = std::move(attached).detach();
  auto second = std::move(attached).detach();
  (void)first;
  (void)second;
}
