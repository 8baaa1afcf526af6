// rproc/memory_map.hpp: the regions of small synthetic tables and images, at compile time and at
// run time, and every finding code on an image made to show it (and on its legal twin).
#include <rproc/builder.hpp>
#include <rproc/memory_map.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <string_view>
#include <vector>

namespace {

namespace rsc = rproc::rsc;
using rproc::finding_code;
using rproc::map_finding;
using rproc::region_kind;

// One of each kind: a fixed carveout holding a trace buffer, a carveout and a vring the host
// places, a fixed vring, a devmem window.
constexpr auto mixed_table = rproc::make_table(
    rsc::carveout{.da = 0x1000, .pa = 0, .len = 0x4000, .name = "text"},
    rsc::carveout{.len = 0x2000, .name = "heap"},
    rsc::devmem{.da = 0x40000000, .pa = 0x4a000000, .len = 0x1000, .name = "regs"},
    rsc::trace{.da = 0x2000, .len = 0x400, .name = "log"},
    rsc::vdev{}.with_vrings(rsc::vring{.da = 0x8000, .align = 16, .num = 8},
                            rsc::vring{.align = 4096, .num = 256, .notifyid = 1}));

// A table at no known address (a raw table): its entries only.
constexpr rproc::map_sources from_table(const auto& table) {
  return {.table = rproc::located_table{table.bytes}};
}

// The codes of a map's findings, with the labels of the regions each names.
template <class Map>
std::vector<std::string> findings_of(const Map& map) {
  std::vector<std::string> out;
  for (const map_finding& f : map.findings()) {
    std::string line(rproc::to_string(f.code));
    line += std::string(": ") + rproc::region_label(map.regions()[f.region]).c_str();
    if (f.other) line += std::string(" / ") + rproc::region_label(map.regions()[*f.other]).c_str();
    out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("a table's regions, by address, with the ones the host places last",
          "[memory_map]") {
  static constexpr rproc::memory_map<8, 8> map(from_table(mixed_table));
  static_assert(map.regions().size() == 6 && map.findings().empty());
  static_assert(rproc::map_region_count(from_table(mixed_table)) == 6);

  constexpr auto text = map.regions()[0];
  static_assert(text.kind == region_kind::carveout && text.index == 0 && text.fixed);
  static_assert(text.da == 0x1000 && text.size == 0x4000 && text.last() == 0x4fff);
  static_assert(text.pa == 0);
  constexpr auto trace = map.regions()[1];
  static_assert(trace.kind == region_kind::trace && trace.index == 3 && trace.da == 0x2000);
  static_assert(text.contains(trace) && !trace.contains(text));
  // vring_size(8, 16): 128 + 22 bytes aligned to 160, then 6 + 64: 230 bytes in one page.
  constexpr auto fixed_vring = map.regions()[2];
  static_assert(fixed_vring.kind == region_kind::vring && fixed_vring.index == 4);
  static_assert(fixed_vring.vring == 0 && fixed_vring.da == 0x8000 && fixed_vring.fixed);
  static_assert(fixed_vring.ring_size == 230 && fixed_vring.size == 4096);
  static_assert(fixed_vring.num == 8 && fixed_vring.align == 16);
  constexpr auto devmem = map.regions()[3];
  static_assert(devmem.kind == region_kind::devmem && devmem.da == 0x40000000);
  static_assert(devmem.pa == 0x4a000000 && devmem.size == 0x1000);
  // FW_RSC_ADDR_ANY: no address until a host assigns one.
  constexpr auto heap = map.regions()[4];
  static_assert(heap.kind == region_kind::carveout && heap.index == 1);
  static_assert(!heap.placed() && !heap.fixed && !heap.assigned && !heap.pa);
  constexpr auto any_vring = map.regions()[5];
  static_assert(any_vring.kind == region_kind::vring && any_vring.vring == 1);
  static_assert(!any_vring.placed() && any_vring.size == 3 * 4096);  // 10246 bytes

  CHECK(std::string_view(rproc::region_label(text).c_str()) == "[0] carveout");
  CHECK(std::string_view(rproc::region_label(fixed_vring).c_str()) == "[4] vring 0");
}

TEST_CASE("a host with larger pages rounds each vring up to them", "[memory_map]") {
  auto sources = from_table(mixed_table);
  sources.page_size = 65536;
  const rproc::memory_map<8, 8> map(sources);
  CHECK(map.regions()[2].size == 65536);
  CHECK(map.regions()[5].size == 65536);
}

TEST_CASE("the addresses a host assigned come from its live table, and are not judged",
          "[memory_map]") {
  auto live_bytes = mixed_table.bytes;
  auto live = rproc::parse_mutable_table(live_bytes).value();
  live[1].as<rproc::mutable_carveout_entry>()->set_da(0x2100);  // over the trace buffer
  live[1].as<rproc::mutable_carveout_entry>()->set_pa(0x90002100);
  live[4].as<rproc::mutable_vdev_entry>()->vring(1).set_da(0x8000);  // on the fixed vring
  auto sources = from_table(mixed_table);
  sources.live = rproc::located_table{live_bytes};
  const rproc::memory_map<8, 8> map(sources);
  REQUIRE(map.regions().size() == 6);
  const auto& heap = map.regions()[2];  // between the trace buffer and the vrings
  CHECK(heap.kind == region_kind::carveout);
  CHECK(heap.assigned);
  CHECK_FALSE(heap.fixed);
  CHECK(heap.da == 0x2100u);
  CHECK(heap.pa == 0x90002100u);
  const auto& vring = map.regions()[3];  // before the fixed one at its address: it is larger
  CHECK(vring.kind == region_kind::vring);
  CHECK(vring.vring == 1);
  CHECK(vring.assigned);
  CHECK(vring.da == 0x8000u);
  // Both collide with what the firmware fixed, but a host's choices are its own.
  CHECK(map.findings().empty());

  // A vring the host released reads da 0: not an address it holds.
  live[4].as<rproc::mutable_vdev_entry>()->vring(1).set_da(0);
  const rproc::memory_map<8, 8> released(sources);
  CHECK_FALSE(released.regions()[5].placed());
}

TEST_CASE("containment is normal, a partial overlap is a finding", "[memory_map]") {
  // A devmem window inside a carveout, a trace buffer inside both: nothing to say.
  static constexpr auto nested = rproc::make_table(
      rsc::carveout{.da = 0x10000, .len = 0x10000, .name = "ddr"},
      rsc::devmem{.da = 0x12000, .pa = 0x12000, .len = 0x2000, .name = "sram"},
      rsc::trace{.da = 0x12000, .len = 0x100, .name = "log"});
  static constexpr rproc::memory_map<4, 4> fine(from_table(nested));
  static_assert(fine.findings().empty());

  // The same window pushed over the carveout's end.
  static constexpr auto crossing = rproc::make_table(
      rsc::carveout{.da = 0x10000, .len = 0x10000, .name = "ddr"},
      rsc::devmem{.da = 0x1f000, .pa = 0x1f000, .len = 0x2000, .name = "sram"});
  static constexpr rproc::memory_map<4, 4> map(from_table(crossing));
  static_assert(map.findings().size() == 1);
  static_assert(map.findings()[0] == map_finding{finding_code::regions_overlap, 1, 0});
  // The same maps built at run time.
  CHECK(rproc::memory_map<4, 4>(from_table(nested)).findings().empty());
  CHECK(rproc::memory_map<4, 4>(from_table(crossing)).findings().size() == 1);
}

TEST_CASE("buffers with different uses never share bytes, even one inside the other",
          "[memory_map]") {
  static constexpr auto table = rproc::make_table(
      rsc::trace{.da = 0x8100, .len = 0x100, .name = "log"},
      rsc::vdev{}.with_vrings(rsc::vring{.da = 0x8000, .align = 16, .num = 8},
                              rsc::vring{.da = 0x8000, .align = 16, .num = 8, .notifyid = 1}));
  const rproc::memory_map<4, 4> map(from_table(table));
  CHECK(findings_of(map) == std::vector<std::string>{"buffers_overlap: [1] vring 1 / [1] vring 0",
                                                      "buffers_overlap: [0] trace / [1] vring 0",
                                                      "buffers_overlap: [0] trace / [1] vring 1"});
}

TEST_CASE("buffers too small keep what fits and say what did not", "[memory_map]") {
  static constexpr auto table = rproc::make_table(
      rsc::vdev{}.with_vrings(rsc::vring{.da = 0x8000, .align = 16, .num = 8},
                              rsc::vring{.da = 0x8000, .align = 16, .num = 8, .notifyid = 1}),
      rsc::trace{.da = 0x8000, .len = 0x100, .name = "log"});
  static constexpr rproc::memory_map<2, 4> two_regions(from_table(table));
  static_assert(two_regions.regions().size() == 2 && two_regions.view().regions_omitted == 1);
  static_assert(two_regions.findings().size() == 1 && !two_regions.view().findings_truncated);
  static constexpr rproc::memory_map<3, 1> one_finding(from_table(table));
  static_assert(one_finding.regions().size() == 3 && one_finding.view().regions_omitted == 0);
  static_assert(one_finding.findings().size() == 1 && one_finding.view().findings_truncated);

  std::array<rproc::map_region, 3> regions{};
  std::array<map_finding, 8> findings{};
  const auto view = rproc::make_memory_map(from_table(table), regions, findings);
  CHECK(view.regions.size() == 3);
  CHECK(view.regions_omitted == 0);
  CHECK(view.findings.size() == 3);  // each pair of the three buffers
  CHECK_FALSE(view.findings_truncated);
  CHECK(view.regions.data() == regions.data());
}

TEST_CASE("a range that ends at the top of a 64-bit address space keeps its last byte",
          "[memory_map]") {
  constexpr rproc::map_region top{.da = 0xFFFFFFFFFFFFF000u, .size = 0x2000};
  static_assert(top.last() == 0xFFFFFFFFFFFFFFFFu);
  constexpr rproc::map_region last_page{.da = 0xFFFFFFFFFFFFF000u, .size = 0x1000};
  static_assert(last_page.last() == 0xFFFFFFFFFFFFFFFFu);
  static_assert(top.contains(last_page) && last_page.contains(top));
  constexpr rproc::map_region below{.da = 0xFFFFFFFFFFFFE000u, .size = 0x1000};
  static_assert(!below.overlaps(top) && !top.overlaps(below));
  constexpr rproc::map_region empty{.da = 0x1000, .size = 0};
  static_assert(!empty.overlaps(empty));
  constexpr rproc::map_region unplaced{.fixed = false, .size = 0x1000};
  static_assert(!unplaced.overlaps(unplaced));
  // And at run time, where the arithmetic is the processor's.
  const rproc::map_region runtime_top = top;
  CHECK(runtime_top.last() == 0xFFFFFFFFFFFFFFFFu);
  CHECK(!below.overlaps(runtime_top));
}

TEST_CASE("every finding code has a name and a meaning", "[memory_map]") {
  std::vector<std::string_view> names;
  for (const auto code :
       {finding_code::table_outside_segments, finding_code::outside_firmware_memory,
        finding_code::regions_overlap, finding_code::buffers_overlap,
        finding_code::vring_overlaps_segment, finding_code::segment_straddles_carveout}) {
    CHECK(rproc::to_string(code) != "unknown");
    CHECK(rproc::describe(code) != "unknown finding");
    names.push_back(rproc::to_string(code));
  }
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
  CHECK(rproc::to_string(region_kind::devmem) == "devmem");
}
