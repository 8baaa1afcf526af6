// expect: recover_from_an_image_is_for_a_platform_that_does_not_attach_on_recovery
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

struct image {
  std::uint64_t boot_address() const { return 0; }
  std::optional<rproc::located_table> resource_table() const { return std::nullopt; }
  rproc::result<void> load(const rproc::address_translator&) const { return {}; }
};

using recovering = rproc::sim::basic_platform<rproc::sim::features{.attach_on_recovery = true}>;

#ifdef RPROC_COMPILE_FAIL
using board = recovering;
#else
using board = rproc::sim::platform;
#endif

auto f(rproc::remote<board, rproc::crashed> r) { return std::move(r).recover(image{}); }
