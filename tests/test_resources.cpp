// Vring sizes by the virtio split-ring layout, and notify ids.
#include <rproc/resources.hpp>
#include <rproc/sim.hpp>

#include <catch2/catch.hpp>

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
