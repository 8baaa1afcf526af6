// Vring sizes by the virtio split-ring layout, notify ids, and the device memory a table fixes.
#include <rproc/builder.hpp>
#include <rproc/resources.hpp>
#include <rproc/sim.hpp>

#include <catch2/catch.hpp>

#include <vector>

// Linux's vring_size(num, align) on the tables of the corpus.
static_assert(rproc::vring_size(256, 4096) == 10246);
static_assert(rproc::vring_size(16, 16) == 16 * 16 + 2 * 19 + 10 + 6 + 8 * 16);
static_assert(rproc::vring_size(8, 16) == 128 + 22 + 10 + 6 + 64);
// No overflow for any u32 inputs.
static_assert(rproc::vring_size(0xFFFFFFFFu, 0xFFFFFFFFu) > 0xFFFFFFFFu);
static_assert(rproc::round_up(10246, 4096) == 12288);

TEST_CASE("notify ids: lowest free first, reused after release", "[resources]") {
  rproc::notify_id_pool<64> ids;
  CHECK(ids.take() == 0u);
  CHECK(ids.take() == 1u);
  CHECK(ids.take() == 2u);
  ids.give_back(1);
  CHECK(ids.in_use() == 2);
  CHECK(ids.take() == 1u);
  for (std::uint32_t i = 3; i < 64; ++i) CHECK(ids.take() == i);
  CHECK_FALSE(ids.take().has_value());
  ids.give_back(40);
  CHECK(ids.take() == 40u);
  ids.give_back(1000);  // not ours: ignored
  CHECK(ids.in_use() == 64);
}

TEST_CASE("sim: the device memory a table fixes, for a test's board windows", "[resources][sim]") {
  namespace rsc = rproc::rsc;
  static constexpr auto table = rproc::make_table(
      rsc::carveout{.da = 0x30000000, .pa = 0x30000000, .len = 0x2000, .name = "fixed"},
      rsc::carveout{.len = 0x1000, .name = "anywhere"},   // FW_RSC_ADDR_ANY: allocated, not fixed
      rsc::carveout{.da = 0x31000000, .len = 0, .name = "empty"},
      rsc::trace{.da = 0x20008000, .len = 2048, .name = "log"},
      rsc::trace{.da = 0x20009000, .len = 0, .name = "none"},
      rsc::vdev{.id = rproc::virtio::id_rpmsg}.with_vrings(
          rsc::vring{.da = 0x32000000, .align = 16, .num = 8},
          rsc::vring{.align = 16, .num = 8}));
  std::vector<rproc::sim::fixed_range> ranges;
  rproc::sim::for_each_fixed_range(rproc::parse_table(table).value(),
                                   [&](const rproc::sim::fixed_range& r) { ranges.push_back(r); });
  REQUIRE(ranges.size() == 3);
  CHECK((ranges[0].da == 0x30000000 && ranges[0].len == 0x2000 && !ranges[0].is_trace));
  CHECK((ranges[1].da == 0x20008000 && ranges[1].len == 2048 && ranges[1].is_trace));
  // A vring spans its split-ring size rounded up to the board's page.
  CHECK((ranges[2].da == 0x32000000 && !ranges[2].is_trace));
  CHECK(ranges[2].len == rproc::sim::platform::page_size);
  CHECK(rproc::vring_size(8, 16) < rproc::sim::platform::page_size);
}
