// rproc's ranges in range-v3 pipelines (rproc/ranges.hpp) and as std::ranges views.
#include <rproc/builder.hpp>
#include <rproc/ranges.hpp>
#include <rproc/table.hpp>

#include <catch2/catch.hpp>
#include <range/v3/algorithm/count_if.hpp>
#include <range/v3/range/conversion.hpp>
#include <range/v3/view/filter.hpp>
#include <range/v3/view/transform.hpp>

#include <ranges>
#include <string>
#include <vector>

namespace {
namespace rsc = rproc::rsc;
constexpr auto bytes = rproc::make_table(
    rsc::carveout{.len = 0x1000, .name = "a"},
    rsc::vdev{.id = 7}.with_vrings(rsc::vring{.align = 16, .num = 8, .notifyid = 3},
                                   rsc::vring{.align = 16, .num = 4, .notifyid = 4}),
    rsc::carveout{.len = 0x2000, .name = "b"}, rsc::raw<4>{.type_id = 9, .body = {}});

static_assert(ranges::view_<rproc::table_view>);
static_assert(ranges::borrowed_range<rproc::table_view>);
static_assert(ranges::random_access_range<rproc::table_view>);
static_assert(ranges::view_<rproc::vdev_entry::vring_range>);
static_assert(std::ranges::view<rproc::table_view>);
static_assert(std::ranges::view<rproc::vdev_entry::vring_range>);
}  // namespace

TEST_CASE("entries in range-v3 pipelines", "[ranges]") {
  const auto table = rproc::parse_table(bytes).value();
  const auto names = table |
                     ranges::views::filter([](auto e) { return e.kind() == rproc::entry_kind::carveout; }) |
                     ranges::views::transform([](auto e) {
                       return std::string(e.template as<rproc::carveout_entry>()->name());
                     }) |
                     ranges::to<std::vector>();
  CHECK(names == std::vector<std::string>{"a", "b"});
  // A temporary table_view is a borrowed view: the pipeline may hold it.
  const auto types = rproc::parse_table(bytes).value() |
                     ranges::views::transform([](auto e) { return e.type_id(); }) |
                     ranges::to<std::vector>();
  CHECK(types == std::vector<std::uint32_t>{0, 3, 0, 9});
  CHECK(ranges::count_if(table.warnings(), [](const rproc::warning& w) { return w.value == 9; }) == 1);
}

TEST_CASE("vrings in range-v3 and std::views pipelines", "[ranges]") {
  const auto vdev = rproc::parse_table(bytes).value()[1].as<rproc::vdev_entry>().value();
  const auto ids = vdev.vrings() | ranges::views::transform([](auto v) { return v.notifyid(); }) |
                   ranges::to<std::vector>();
  CHECK(ids == std::vector<std::uint32_t>{3, 4});
  auto nums = vdev.vrings() | std::views::transform([](auto v) { return v.num(); });
  CHECK(std::vector<std::uint32_t>(nums.begin(), nums.end()) == std::vector<std::uint32_t>{8, 4});
}
