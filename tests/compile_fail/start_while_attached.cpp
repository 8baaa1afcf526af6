// expect: start_is_only_legal_on_an_offline_remote
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

struct image {
  std::uint64_t boot_address() const { return 0; }
  std::optional<rproc::located_table> resource_table() const { return std::nullopt; }
  rproc::result<void> load(const rproc::address_translator&) const { return {}; }
};

#ifdef RPROC_COMPILE_FAIL
using state = rproc::attached;
#else
using state = rproc::offline;
#endif

auto f(rproc::remote<rproc::sim::platform, state> r) { return std::move(r).start(image{}); }
