// Typed entry views, visiting, the entries as a C++20 range, and the mutable view a host writes
// through (SPEC section 3).
#include <rproc/builder.hpp>
#include <rproc/table.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <ranges>
#include <string>
#include <vector>

#include "support.hpp"

namespace {

namespace rsc = rproc::rsc;
using rproc::fw_rsc_addr_any;

template <rproc::endian Order>
constexpr auto zephyr_like() {
  return rproc::make_table<rproc::table_options{.order = Order}>(
      rsc::carveout{.len = 0x10000, .name = "heap"},
      rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = 1}.with_vrings(
          rsc::vring{.align = 16, .num = 8, .notifyid = 0},
          rsc::vring{.align = 16, .num = 8, .notifyid = 1}),
      rsc::trace{.da = 0x20008000, .len = 2048, .name = "Zephyr_log"},
      rsc::raw<8>{.type_id = 7, .body = {}});
}
constexpr auto table_bytes = zephyr_like<rproc::endian::little>();
constexpr auto table = rproc::parse_table(table_bytes).value();

static_assert(std::ranges::random_access_range<rproc::table_view>);
static_assert(std::ranges::sized_range<rproc::table_view>);
static_assert(std::ranges::borrowed_range<rproc::table_view>);
static_assert(std::ranges::random_access_range<rproc::vdev_entry::vring_range>);
static_assert(std::ranges::forward_range<decltype(table.warnings())>);

// Parsing and the typed views work in constant expressions.
static_assert(table.num() == 4);
static_assert(table[0].kind() == rproc::entry_kind::carveout);
static_assert(table[0].as<rproc::carveout_entry>()->da() == fw_rsc_addr_any);
static_assert(table[1].as<rproc::vdev_entry>()->vring(1).notifyid() == 1);
static_assert(table[2].as<rproc::trace_entry>()->name_equals("Zephyr_log"));
static_assert(!table[2].as<rproc::trace_entry>()->name_equals("Zephyr_lo"));
static_assert(!table[2].as<rproc::vdev_entry>().has_value());
static_assert(table[3].kind() == rproc::entry_kind::unknown);

constexpr int count_vdevs() {
  int n = 0;
  for (const auto entry : table)
    entry.visit(rproc::overloaded{[&](rproc::vdev_entry) { ++n; }, [](auto) {}});
  return n;
}
static_assert(count_vdevs() == 1);

}  // namespace

TEST_CASE("entries are a range usable with std::ranges algorithms", "[entries]") {
  const auto vdev_it = std::ranges::find(table, rproc::entry_kind::vdev,
                                         [](const rproc::resource_entry& e) { return e.kind(); });
  REQUIRE(vdev_it != table.end());
  CHECK((*vdev_it).index() == 1);
  CHECK(vdev_it - table.begin() == 1);
  CHECK(std::ranges::count_if(table, [](auto e) { return e.kind() == rproc::entry_kind::trace; }) ==
        1);

  std::vector<std::uint32_t> offsets;
  for (const auto entry : table) offsets.push_back(entry.offset());
  CHECK(offsets == std::vector<std::uint32_t>{32, 88, 156, 204});

  auto types = table | std::views::transform([](auto e) { return e.type_id(); });
  CHECK(std::vector<std::uint32_t>(types.begin(), types.end()) ==
        std::vector<std::uint32_t>{0, 3, 2, 7});
  CHECK(std::ranges::distance(table) == 4);
  CHECK(table.end()[-1].type_id() == 7u);
}

TEST_CASE("visit calls the overload of the entry's type", "[entries]") {
  std::vector<std::string> seen;
  for (const auto entry : table) {
    entry.visit(rproc::overloaded{
        [&](rproc::carveout_entry c) { seen.push_back("carveout " + std::string(c.name())); },
        [&](rproc::devmem_entry) { seen.push_back("devmem"); },
        [&](rproc::trace_entry t) { seen.push_back("trace " + std::string(t.name())); },
        [&](rproc::vdev_entry v) { seen.push_back("vdev " + std::to_string(v.num_of_vrings())); },
        [&](rproc::vendor_entry) { seen.push_back("vendor"); },
        [&](rproc::unknown_entry u) { seen.push_back("unknown " + std::to_string(u.type_id())); },
    });
  }
  CHECK(seen == std::vector<std::string>{"carveout heap", "vdev 2", "trace Zephyr_log", "unknown 7"});
  const auto kind_name = rproc::visit([](auto e) { return rproc::to_string(e.kind); }, table[1]);
  CHECK(kind_name == "vdev");
}

TEST_CASE("a vdev's vrings and config", "[entries]") {
  const auto vdev = table[1].as<rproc::vdev_entry>().value();
  CHECK(vdev.num_of_vrings() == 2);
  CHECK(vdev.vrings().size() == 2);
  std::vector<std::uint32_t> nums;
  for (const auto vring : vdev.vrings()) nums.push_back(vring.num());
  CHECK(nums == std::vector<std::uint32_t>{8, 8});
  CHECK(vdev.vring(1).index() == 1);
  CHECK(vdev.vring(2).num() == 0);  // out of range reads nothing
  CHECK(vdev.config().empty());
  CHECK(vdev.reserved() == std::array<std::uint8_t, 2>{0, 0});
  CHECK(std::ranges::all_of(vdev.vrings(), [](auto v) { return v.da() == fw_rsc_addr_any; }));
}

TEST_CASE("a name is cut at its first NUL or at 32 bytes, never read further", "[entries]") {
  auto bytes = test::to_vector(table_bytes);
  const std::size_t name_at = 32 + 24;
  for (std::size_t i = 0; i < 32; ++i) bytes[name_at + i] = std::byte{'A'};
  const auto parsed = rproc::parse_table(bytes).value();
  const auto name = parsed[0].as<rproc::carveout_entry>()->name();
  CHECK(name.size() == 32);
  CHECK(name == std::string(32, 'A'));
  // A name with text after its NUL stops at the NUL.
  bytes[name_at + 3] = std::byte{0};
  CHECK(rproc::parse_table(bytes).value()[0].as<rproc::carveout_entry>()->name() == "AAA");
  // A printf-style name is data.
  const auto fmt = rproc::make_table(rsc::carveout{.len = 1, .name = "%s%n%x"});
  CHECK(rproc::parse_table(fmt).value()[0].as<rproc::carveout_entry>()->name() == "%s%n%x");
}

TEST_CASE("the mutable view writes the host's fields in the table's byte order", "[entries]") {
  for (const auto order : {rproc::endian::little, rproc::endian::big}) {
    INFO((order == rproc::endian::little ? "little" : "big"));
    auto bytes = order == rproc::endian::little
                     ? test::to_vector(zephyr_like<rproc::endian::little>())
                     : test::to_vector(zephyr_like<rproc::endian::big>());
    const auto before = bytes;
    auto live = rproc::parse_mutable_table(bytes, order).value();

    auto carveout = live[0].as<rproc::mutable_carveout_entry>().value();
    carveout.set_da(0x10000000);
    carveout.set_pa(0x90000000);
    carveout.set_len(0x20000);
    auto vdev = live[1].as<rproc::mutable_vdev_entry>().value();
    vdev.vring(0).set_da(0x10040000);
    vdev.vring(0).set_notifyid(0);
    vdev.vring(1).set_da(0x10044000);
    vdev.vring(1).set_notifyid(1);
    vdev.set_gfeatures(1);
    vdev.set_status(rproc::virtio::status_driver_ok);
    vdev.set_notifyid(2);

    // Read back through a fresh read-only parse.
    const auto reread = rproc::parse_table(bytes, order).value();
    const auto c = reread[0].as<rproc::carveout_entry>().value();
    CHECK(c.da() == 0x10000000u);
    CHECK(c.pa() == 0x90000000u);
    CHECK(c.len() == 0x20000u);
    const auto v = reread[1].as<rproc::vdev_entry>().value();
    CHECK(v.vring(1).da() == 0x10044000u);
    CHECK(v.vring(1).notifyid() == 1u);
    CHECK(v.gfeatures() == 1u);
    CHECK(v.status() == rproc::virtio::status_driver_ok);
    CHECK(v.notifyid() == 2u);

    // Exactly the bytes of those fields changed.
    std::vector<std::size_t> changed;
    for (std::size_t i = 0; i < bytes.size(); ++i)
      if (bytes[i] != before[i]) changed.push_back(i);
    for (const std::size_t at : changed) {
      const bool carveout_fields = at >= 32 + 4 && at < 32 + 16;
      const bool vdev_fields = (at >= 88 + 8 && at < 88 + 12) || (at >= 88 + 16 && at < 88 + 20) ||
                               at == 88 + 24;
      const bool vring_fields = (at >= 88 + 28 && at < 88 + 32) ||
                                (at >= 88 + 40 && at < 88 + 44) ||
                                (at >= 88 + 48 && at < 88 + 52) || (at >= 88 + 60 && at < 88 + 64);
      CHECK((carveout_fields || vdev_fields || vring_fields));
    }
    CHECK(changed.size() >= 12);
    // The byte order is the table's: the carveout da's most significant byte sits first in big.
    CHECK(bytes[32 + 4] == (order == rproc::endian::big ? std::byte{0x10} : std::byte{0x00}));
  }
}

TEST_CASE("a mutable view reads as a read-only one", "[entries]") {
  auto bytes = test::to_vector(table_bytes);
  const auto live = rproc::parse_mutable_table(bytes).value();
  const rproc::table_view view = live;
  CHECK(view.num() == live.num());
  const rproc::vdev_entry v = live[1].as<rproc::mutable_vdev_entry>().value();
  CHECK(v.num_of_vrings() == 2);
}

namespace {
namespace L = rproc::layout;

// Each holder of layout.hpp lists its fields in offset order, each beginning where the previous
// one ends, and the last ending at the holder's size: no byte of the format is left out.
template <class Holder>
constexpr bool fields_tile(std::size_t size) {
  std::size_t at = 0;
  for (const rproc::field& f : Holder::fields) {
    if (f.offset != at) return false;
    at = f.end();
  }
  return at == size;
}
static_assert(fields_tile<L::header>(L::header::size));
static_assert(fields_tile<L::carveout>(L::carveout::size));
static_assert(fields_tile<L::devmem>(L::devmem::size));
static_assert(fields_tile<L::trace>(L::trace::size));
static_assert(fields_tile<L::vdev>(L::vdev::size));
static_assert(fields_tile<L::vring>(L::vring::size));
static_assert(L::vdev::vrings == L::vdev::size);

// SPEC section 3 by hand: the fields a host writes, nothing else.
template <class Holder>
constexpr std::size_t host_field_count() {
  std::size_t n = 0;
  for (const rproc::field& f : Holder::fields) n += f.host_writes() ? 1 : 0;
  return n;
}
static_assert(L::carveout::da.host_writes() && L::carveout::pa.host_writes() &&
              L::carveout::len.host_writes() && host_field_count<L::carveout>() == 3);
static_assert(host_field_count<L::devmem>() == 0 && host_field_count<L::trace>() == 0);
static_assert(L::vdev::gfeatures.host_writes() && L::vdev::status.host_writes() &&
              host_field_count<L::vdev>() == 2);
static_assert(L::vring::da.host_writes() && L::vring::notifyid.host_writes() &&
              host_field_count<L::vring>() == 2);
static_assert(!L::vdev::notifyid.host_writes() && L::vdev::notifyid.writable());

// A setter exists exactly where the field is writable and the view mutable.
template <class View>
concept sets_da = requires(View v) { v.set_da(1u); };
template <class View>
concept sets_pa_and_len = requires(View v) {
  v.set_pa(1u);
  v.set_len(1u);
};
template <class View>
concept sets_vdev_fields = requires(View v, std::uint8_t status) {
  v.set_notifyid(1u);
  v.set_gfeatures(1u);
  v.set_status(status);
};
template <class View>
concept sets_vring_fields = requires(View v) {
  v.set_da(1u);
  v.set_notifyid(1u);
  v.set_pa(1u);
};
static_assert(sets_da<rproc::mutable_carveout_entry> &&
              sets_pa_and_len<rproc::mutable_carveout_entry>);
static_assert(!sets_da<rproc::mutable_devmem_entry> &&
              !sets_pa_and_len<rproc::mutable_devmem_entry>);
static_assert(!sets_da<rproc::carveout_entry> && !sets_pa_and_len<rproc::carveout_entry>);
static_assert(sets_vdev_fields<rproc::mutable_vdev_entry> && !sets_vdev_fields<rproc::vdev_entry>);
static_assert(sets_vring_fields<rproc::mutable_vring_view> && !sets_da<rproc::vring_view>);
}  // namespace

TEST_CASE("get and set by field: set() refuses the firmware's fields", "[entries]") {
  auto bytes = test::to_vector(table_bytes);
  const auto before = bytes;
  const auto vdev = rproc::parse_mutable_table(bytes).value()[1].as<rproc::mutable_vdev_entry>();
  REQUIRE(vdev);
  CHECK(vdev->get(L::vdev::dfeatures) == 1u);
  CHECK(vdev->get(L::vdev::num_of_vrings) == 2u);
  CHECK(vdev->get(L::vdev::reserved) == 0u);  // two bytes: neither a word nor a byte
  CHECK_FALSE(vdev->set(L::vdev::dfeatures, 5));
  CHECK_FALSE(vdev->set(L::vdev::num_of_vrings, 3));
  CHECK(bytes == before);
  CHECK(vdev->set(L::vdev::status, 0x0F));
  CHECK(vdev->status() == 0x0F);
  CHECK(bytes[88 + 24] == std::byte{0x0F});
  CHECK(vdev->vring(1).set(L::vring::da, 0x10044000));
  CHECK(vdev->vring(1).da() == 0x10044000u);
}
