// The host's bookkeeping for one remote has fixed capacities (no heap): a table that needs more
// than they hold is too_many_resources, not out_of_memory; and `limits` is what sizeof(processor)
// is made of.
#include <rproc/builder.hpp>
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#include <catch2/catch.hpp>

#include <memory>

#include "lifecycle_support.hpp"

namespace {

struct small_limits {
  static constexpr std::size_t max_table_size = 512;
  static constexpr std::size_t max_resources = 2;
  static constexpr std::size_t max_vdevs = 1;
  static constexpr std::uint32_t max_notify_ids = 64;
};
struct small_board : rproc::sim::platform {
  using limits = small_limits;
};

// The cached copy and the clean copy (max_table_size each), and the records of max_resources
// carveouts, vrings, traces and devmems make most of a processor; see the README.
static_assert(sizeof(rproc::processor<rproc::sim::platform>) > 2 * 4096 + 32 * (80 + 48 + 24 + 20));
static_assert(sizeof(rproc::processor<small_board>) < 2 * 512 + 2 * (80 + 48 + 24 + 20) + 1024);
static_assert(sizeof(rproc::processor<small_board>) * 7 < sizeof(rproc::processor<rproc::sim::platform>));

}  // namespace

TEST_CASE("more resources than the limits hold: too_many_resources, with the limit", "[limits]") {
  auto board = std::make_unique<small_board>();
  // A carveout and a vdev with two vrings: three slots where two are kept.
  REQUIRE(board->boot_loader_start(test::zephyr_table, test::table_da));
  rproc::processor<small_board> proc(*board);
  auto attaching = std::move(proc.claim<rproc::detached>().value()).attach();
  REQUIRE_FALSE(attaching);
  CHECK(attaching.error().code == rproc::errc::too_many_resources);
  CHECK(attaching.error().value == small_limits::max_resources);
  CHECK(attaching.error().entry == 1u);  // the vdev, at its second vring
  CHECK(board->stats().outstanding_allocations == 0);
  CHECK(board->table_is_original());
}

TEST_CASE("a vring whose size does not fit in 32 bits: vring_too_large", "[limits]") {
  constexpr auto huge = rproc::make_table(
      rproc::rsc::vdev{.id = rproc::virtio::id_rpmsg}.with_vrings(
          rproc::rsc::vring{.align = 16, .num = 0x10000000}));
  auto board = std::make_unique<rproc::sim::platform>();
  REQUIRE(board->boot_loader_start(huge, test::table_da));
  rproc::processor<rproc::sim::platform> proc(*board);
  auto attaching = std::move(proc.claim<rproc::detached>().value()).attach();
  REQUIRE_FALSE(attaching);
  CHECK(attaching.error().code == rproc::errc::vring_too_large);
  CHECK(attaching.error().value == 0x10000000u);
  CHECK(attaching.error().offset ==
        rproc::parse_table(huge)->offset(0) + rproc::layout::vdev::vrings +
            rproc::layout::vring::num.offset);
  CHECK(board->stats().outstanding_allocations == 0);
}
