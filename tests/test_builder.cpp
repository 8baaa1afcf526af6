// The builder reproduces every real table of tests/data byte for byte (padding included), at
// compile time; builds round-trip through the parser in both byte orders.
#include <rproc/builder.hpp>
#include <rproc/table.hpp>

#include <catch2/catch.hpp>

#include <corpus_fixtures.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <array>
#include <cstdint>
#include <vector>

#include "support.hpp"

namespace {

namespace rsc = rproc::rsc;
using rproc::fw_rsc_addr_any;

constexpr rsc::vring vr(std::uint32_t da, std::uint32_t align, std::uint32_t num,
                        std::uint32_t notifyid) {
  return {.da = da, .align = align, .num = num, .notifyid = notifyid};
}
constexpr rsc::vdev rpmsg(std::uint32_t notifyid = 0) {
  return {.id = rproc::virtio::id_rpmsg, .notifyid = notifyid, .dfeatures = 1};
}
template <std::size_t N>
constexpr bool same_bytes(const rproc::table_image<N>& built, std::span<const std::byte> real) {
  return real.size() == N && std::equal(built.begin(), built.end(), real.begin());
}

// NXP MCUXpresso rpmsg-lite: one vdev with fixed vrings.
constexpr auto imx8mm = rproc::make_table(
    rpmsg().with_vrings(vr(0x40000000, 4096, 256, 0), vr(0x40008000, 4096, 256, 1)));
static_assert(same_bytes(imx8mm, fixtures::nxp_imx8mm_cm4_rpmsg_str_echo));
static_assert(same_bytes(imx8mm, fixtures::nxp_imx8mn_cm7_rpmsg_pingpong));

// NXP empty_rsc_table.c: a header with no entries.
constexpr auto imx8mq = rproc::make_table();
static_assert(same_bytes(imx8mq, fixtures::nxp_imx8mq_cm4_hello_world));

// Two rpmsg vdevs, notify ids 0..3.
constexpr auto imx8qx = rproc::make_table(
    rpmsg(0).with_vrings(vr(0x90000000, 4096, 256, 0), vr(0x90008000, 4096, 256, 1)),
    rpmsg(1).with_vrings(vr(0x90010000, 4096, 256, 2), vr(0x90018000, 4096, 256, 3)));
static_assert(same_bytes(imx8qx, fixtures::nxp_imx8qx_cm4_rpmsg_str_echo));

// ST STM32Cube OpenAMP: vrings at FW_RSC_ADDR_ANY and a trace buffer.
constexpr auto stm32mp15 = rproc::make_table(
    rpmsg().with_vrings(vr(fw_rsc_addr_any, 16, 16, 0), vr(fw_rsc_addr_any, 16, 16, 1)),
    rsc::trace{.da = 0x1002051c, .len = 124000, .name = "cm4_log"});
static_assert(same_bytes(stm32mp15, fixtures::st_stm32mp15_cm4_bst_v0_9_3));

// TI PRU: vrings at da 0, and a type-5 entry (TI's custom interrupt map).
constexpr auto am335x_pru = rproc::make_table(
    rpmsg().with_vrings(vr(0, 16, 16, 0), vr(0, 16, 16, 0)),
    rsc::raw<28>{.type_id = 5, .body = {0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00,
                                        0x00, 0xff, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0x02, 0x00, 0x00, 0x00, 0x98, 0x03, 0x00, 0x00}});
static_assert(same_bytes(am335x_pru, fixtures::ti_am335x_pru0_adc));

// TI MCU+ SDK: vdev and trace, the section padded to 1 or 4 KiB.
constexpr auto ti_ipc_vdev =
    rpmsg().with_vrings(vr(fw_rsc_addr_any, 4096, 256, 1), vr(fw_rsc_addr_any, 4096, 256, 2));
constexpr auto am62a = rproc::make_table<rproc::table_options{.size = 1024}>(
    ti_ipc_vdev, rsc::trace{.da = 0x9b900400, .len = 0x1000, .name = "trace:mcu_r5fss0_0"});
static_assert(same_bytes(am62a, fixtures::ti_am62a_mcu_r5f_ipc_echo));
constexpr auto am62x = rproc::make_table<rproc::table_options{.size = 4096}>(
    ti_ipc_vdev, rsc::trace{.da = 0x34000, .len = 0x1000, .name = "trace:m4fss0_0"});
static_assert(same_bytes(am62x, fixtures::ti_am62x_m4f_ipc_echo));
constexpr auto am64x = rproc::make_table<rproc::table_options{.size = 4096}>(
    ti_ipc_vdev, rsc::trace{.da = 0xa0106080, .len = 0x1000, .name = "trace:r5fss0_0"});
static_assert(same_bytes(am64x, fixtures::ti_am64x_r5f0_0_ipc_echo));

// TI OMAP5 IPU (2012): 15 entries, carveouts with pa 0, ten devmems.
constexpr rsc::devmem devmem(std::uint32_t da, std::uint32_t pa, std::uint32_t len,
                             rproc::resource_name name) {
  return {.da = da, .pa = pa, .len = len, .name = name};
}
constexpr auto omap5 = rproc::make_table(
    rpmsg().with_vrings(vr(0xa0000000, 4096, 256, 1), vr(0xa0004000, 4096, 256, 2)),
    rsc::carveout{.da = 0, .pa = 0, .len = 0x600000, .name = "IPU_MEM_TEXT"},
    rsc::carveout{.da = 0x80000000, .pa = 0, .len = 0x6000000, .name = "IPU_MEM_DATA"},
    rsc::carveout{.da = 0x9f000000, .pa = 0, .len = 0x100000, .name = "IPU_MEM_IPC_DATA"},
    rsc::trace{.da = 0x9f000000, .len = 0x8000, .name = "trace:sysm3"},
    devmem(0xa0000000, 0xa9000000, 0x100000, "IPU_MEM_IPC_VRING"),
    devmem(0x88000000, 0xba300000, 0x5a00000, "IPU_MEM_IOBUFS"),
    devmem(0x60000000, 0x60000000, 0x10000000, "IPU_TILER_MODE_0_1"),
    devmem(0x70000000, 0x70000000, 0x8000000, "IPU_TILER_MODE_2"),
    devmem(0x78000000, 0x78000000, 0x8000000, "IPU_TILER_MODE_3"),
    devmem(0xaa000000, 0x4a000000, 0x1000000, "IPU_PERIPHERAL_L4CFG"),
    devmem(0xa8000000, 0x48000000, 0x1000000, "IPU_PERIPHERAL_L4PER"),
    devmem(0xba000000, 0x5a000000, 0x1000000, "IPU_IVAHD_CONFIG"),
    devmem(0xbb000000, 0x5b000000, 0x1000000, "IPU_IVAHD_SL2"),
    devmem(0xae000000, 0x4e000000, 0x100000, "IPU_PERIPHERAL_DMM"));
static_assert(same_bytes(omap5, fixtures::ti_omap5_ipu_dce_15rsc));

// Zephyr OpenAMP on MicroBlaze V: vdev notifyid 31, fixed vrings.
constexpr auto kr260 = rproc::make_table(
    rpmsg(31).with_vrings(vr(0x2ed40000, 4096, 256, 1), vr(0x2ed44000, 4096, 256, 2)));
static_assert(same_bytes(kr260, fixtures::xilinx_kr260_mbv_zephyr_openamp));

// Xilinx Vitis OpenAMP: an offset array sized for 8 entries, 256-byte section.
constexpr auto zynqmp = rproc::make_table<rproc::table_options{.offset_slots = 8, .size = 256}>(
    rpmsg(31).with_vrings(vr(fw_rsc_addr_any, 4096, 256, 1), vr(fw_rsc_addr_any, 4096, 256, 2)),
    rsc::trace{.da = 0x3ed201b8, .len = 4096, .name = "r5_trace"});
static_assert(same_bytes(zynqmp, fixtures::xilinx_zynqmp_r5_rtos_echo));

// The pre-3.4 OMAP4 table is not a version-1 table: nothing can build it, and it does not parse.
static_assert(rproc::parse_table(fixtures::ti_omap4_ducati_dce_oldformat).error().code ==
              rproc::errc::unsupported_version);

// Every field of an entry, as text.
std::string describe(const rproc::resource_entry& e) {
  char line[256];
  e.visit(rproc::overloaded{
      [&](const rproc::carveout_entry& c) {
        std::snprintf(line, sizeof line, "carveout %x %x %x %x %s", c.da(), c.pa(), c.len(),
                      c.flags(), std::string(c.name()).c_str());
      },
      [&](const rproc::trace_entry& t) {
        std::snprintf(line, sizeof line, "trace %x %x %s", t.da(), t.len(),
                      std::string(t.name()).c_str());
      },
      [&](const rproc::vdev_entry& v) {
        int n = std::snprintf(line, sizeof line, "vdev %u %u %u %u %u %u %u ", v.id(),
                              v.notifyid(), v.dfeatures(), v.gfeatures(), v.config_len(),
                              v.status(), v.num_of_vrings());
        for (const auto r : v.vrings())
          n += std::snprintf(line + n, sizeof line - static_cast<std::size_t>(n),
                             "[%x %u %u %u %u]", r.da(), r.align(), r.num(), r.notifyid(), r.pa());
      },
      [&](const auto& other) { std::snprintf(line, sizeof line, "type %u", other.type_id()); }});
  return line;
}

}  // namespace

TEST_CASE("every fixture of tests/data is reproduced by the builder or is rejected", "[builder]") {
  // Run-time twin of the static_asserts above, so a failure shows which table differs.
  const std::pair<std::string_view, std::vector<std::byte>> built[] = {
      {"nxp-imx8mm-cm4-rpmsg-str-echo", test::to_vector(imx8mm)},
      {"nxp-imx8mn-cm7-rpmsg-pingpong", test::to_vector(imx8mm)},
      {"nxp-imx8mq-cm4-hello-world", test::to_vector(imx8mq)},
      {"nxp-imx8qx-cm4-rpmsg-str-echo", test::to_vector(imx8qx)},
      {"st-stm32mp15-cm4-bst-v0.9.3", test::to_vector(stm32mp15)},
      {"ti-am335x-pru0-adc", test::to_vector(am335x_pru)},
      {"ti-am62a-mcu-r5f-ipc-echo", test::to_vector(am62a)},
      {"ti-am62x-m4f-ipc-echo", test::to_vector(am62x)},
      {"ti-am64x-r5f0_0-ipc-echo", test::to_vector(am64x)},
      {"ti-omap5-ipu-dce-15rsc", test::to_vector(omap5)},
      {"xilinx-kr260-mbv-zephyr-openamp", test::to_vector(kr260)},
      {"xilinx-zynqmp-r5-rtos-echo", test::to_vector(zynqmp)},
  };
  std::size_t checked = 0;
  for (const auto& fixture : fixtures::all) {
    INFO(fixture.name);
    const auto file = test::read_file(test::data_dir() / (std::string(fixture.name) + ".rsc"));
    CHECK(std::equal(file.begin(), file.end(), fixture.bytes.begin(), fixture.bytes.end()));
    if (fixture.name == "ti-omap4-ducati-dce-oldformat") {
      CHECK(rproc::parse_table(file).error().code == rproc::errc::unsupported_version);
      ++checked;
      continue;
    }
    const auto match = std::find_if(std::begin(built), std::end(built),
                                    [&](const auto& b) { return b.first == fixture.name; });
    REQUIRE(match != std::end(built));
    CHECK(match->second == file);
    ++checked;
  }
  CHECK(checked == 13);
}

TEST_CASE("builder output round-trips through the parser with every field", "[builder]") {
  constexpr auto image = rproc::make_table(
      rsc::carveout{.da = 0x10000000, .pa = fw_rsc_addr_any, .len = 0x8000, .flags = 3,
                    .name = "text"},
      rsc::devmem{.da = 0x40000000, .pa = 0x50000000, .len = 0x1000, .flags = 1, .name = "regs"},
      rsc::trace{.da = 0x20000000, .len = 0x800, .name = "12345678901234567890123456789012"},
      rsc::vdev{.id = 3, .notifyid = 9, .dfeatures = 0x10001, .gfeatures = 1, .status = 7}
          .with_vrings(vr(fw_rsc_addr_any, 64, 32, 4), vr(0x30000000, 4096, 256, 5))
          .with_config(std::array<std::uint8_t, 3>{0xAA, 0xBB, 0xCC}),
      rsc::raw<4>{.type_id = 200, .body = {1, 2, 3, 4}});
  const auto table = rproc::parse_table(image).value();
  REQUIRE(table.num() == 5);
  // A vendor entry's size is the platform's business: used_bytes() counts its type word only.
  CHECK(table.used_bytes() == image.size() - 4);

  const auto c = table[0].as<rproc::carveout_entry>().value();
  CHECK(c.da() == 0x10000000u);
  CHECK(c.pa() == fw_rsc_addr_any);
  CHECK(c.len() == 0x8000u);
  CHECK(c.flags() == 3u);
  CHECK(c.name() == "text");
  const auto d = table[1].as<rproc::devmem_entry>().value();
  CHECK(d.pa() == 0x50000000u);
  CHECK(d.name() == "regs");
  const auto t = table[2].as<rproc::trace_entry>().value();
  CHECK(t.name() == "12345678901234567890123456789012");  // 32 bytes, no NUL
  const auto v = table[3].as<rproc::vdev_entry>().value();
  CHECK(v.id() == 3u);
  CHECK(v.notifyid() == 9u);
  CHECK(v.dfeatures() == 0x10001u);
  CHECK(v.gfeatures() == 1u);
  CHECK(v.status() == 7);
  CHECK(v.config_len() == 3u);
  CHECK(v.vring(1).da() == 0x30000000u);
  CHECK(v.vring(1).notifyid() == 5u);
  REQUIRE(v.config().size() == 3);
  CHECK(v.config()[2] == std::byte{0xCC});
  const auto vendor = table[4].as<rproc::vendor_entry>().value();
  CHECK(vendor.type_id() == 200u);
  CHECK(vendor.body().u8(3) == 4);
}

TEST_CASE("the same description in both byte orders parses to the same values", "[builder]") {
  constexpr auto little = rproc::make_table(
      rsc::carveout{.da = 0x12345678, .len = 0x1000, .name = "c"},
      rpmsg(2).with_vrings(vr(0xDEADBEEF, 16, 8, 1), vr(fw_rsc_addr_any, 16, 8, 2)),
      rsc::trace{.da = 0xCAFE0000, .len = 0x400, .name = "t"});
  constexpr auto big = rproc::make_table<rproc::table_options{.order = rproc::endian::big}>(
      rsc::carveout{.da = 0x12345678, .len = 0x1000, .name = "c"},
      rpmsg(2).with_vrings(vr(0xDEADBEEF, 16, 8, 1), vr(fw_rsc_addr_any, 16, 8, 2)),
      rsc::trace{.da = 0xCAFE0000, .len = 0x400, .name = "t"});
  static_assert(little.bytes != big.bytes);
  const auto l = rproc::parse_table(little, rproc::endian::little).value();
  const auto b = rproc::parse_table(big, rproc::endian::big).value();
  REQUIRE(l.num() == b.num());
  for (std::uint32_t i = 0; i < l.num(); ++i) {
    CHECK(l.offset(i) == b.offset(i));
    CHECK(describe(l[i]) == describe(b[i]));
  }
  CHECK(describe(b[0]) == "carveout 12345678 ffffffff 1000 0 c");
  CHECK(describe(b[1]) == "vdev 7 2 1 0 0 0 2 [deadbeef 16 8 1 0][ffffffff 16 8 2 0]");
  CHECK(b[2].as<rproc::trace_entry>()->name() == "t");
  CHECK(b[1].as<rproc::vdev_entry>()->vring(0).da() == 0xDEADBEEFu);
  CHECK(b[1].as<rproc::vdev_entry>()->num_of_vrings() == 2);
}

TEST_CASE("try_make_table reports a bad description as an error at run time", "[builder]") {
  std::uint32_t num = 0;  // known only at run time
  const auto bad = rproc::try_make_table(
      rsc::trace{.len = 16, .name = "t"},
      rpmsg().with_vrings(vr(0, 16, 8, 0), vr(0, 16, num, 1)));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == rproc::errc::vring_invalid);
  CHECK(bad.error().entry == 1u);
  CHECK(bad.error().offset == 24 + 48 + 28 + 20 + 8);  // vring 1's num in the built table

  const auto raw_standard = rproc::try_make_table(rsc::raw<52>{.type_id = 0});
  REQUIRE_FALSE(raw_standard);
  CHECK(raw_standard.error().code == rproc::errc::raw_standard_type);

  CHECK(rproc::resource_name::from("0123456789012345678901234567890123").error().code ==
        rproc::errc::name_too_long);
  const auto name = rproc::resource_name::from("runtime").value();
  const auto ok = rproc::try_make_table(rsc::carveout{.len = 4, .name = name});
  REQUIRE(ok);
  CHECK((*rproc::parse_table(*ok))[0].as<rproc::carveout_entry>()->name() == "runtime");
}
