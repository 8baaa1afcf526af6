// expect: a_transition_consumes_its_handle_call_it_on_std_move_of_the_handle
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

struct image {
  std::uint64_t boot_address() const { return 0; }
  std::optional<rproc::located_table> resource_table() const { return std::nullopt; }
  rproc::result<void> load(const rproc::address_translator&) const { return {}; }
};

auto f(rproc::remote<rproc::sim::platform, rproc::offline> r) {
#ifdef RPROC_COMPILE_FAIL
  return r.start(image{});
#else
  return std::move(r).start(image{});
#endif
}
