// rproc/fmt.hpp: every formatter, on tables built here, compared with the exact text.
#if __has_include(<rproc/rproc.hpp>)
#include <rproc/rproc.hpp>
#endif
#ifdef RPROC_HAS_FMT
#error "the core headers must not include rproc/fmt.hpp"
#endif

#include <rproc/builder.hpp>
#include <rproc/fmt.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <array>
#include <string>

#include "elf_fixtures.hpp"

static_assert(RPROC_HAS_FMT == 1);

namespace {

namespace rsc = rproc::rsc;

constexpr auto entries_of_every_kind() {
  return std::tuple{
      rsc::carveout{.len = 0x10000, .flags = 0x3, .name = "text"},
      rsc::devmem{.da = 0x40000000, .pa = 0x40000000, .len = 0x1000, .flags = 0x50,
                  .name = "regs"},
      rsc::trace{.da = 0x20000000, .len = 0x800, .name = "trace:log"},
      rsc::vdev{.id = 7, .notifyid = 4, .dfeatures = 0x10000001, .gfeatures = 0x1, .status = 0x0F}
          .with_vrings(rsc::vring{.align = 16, .num = 8},
                       rsc::vring{.da = 0x9000, .align = 4096, .num = 256, .notifyid = 1,
                                  .pa = 0x80009000})
          .with_config(std::array<std::uint8_t, 2>{0xDE, 0xAD}),
      rsc::raw<4>{.type_id = 130, .body = {1, 2, 3, 4}},
      rsc::raw<0>{.type_id = 5}};
}

template <rproc::table_options Options>
consteval auto every_kind() {
  constexpr auto e = entries_of_every_kind();
  return rproc::make_table<Options>(std::get<0>(e), std::get<1>(e), std::get<2>(e),
                                    std::get<3>(e), std::get<4>(e), std::get<5>(e));
}

constexpr auto table_bytes = every_kind<rproc::table_options{}>();

constexpr auto padded_bytes = rproc::make_table<rproc::table_options{.size = 512}>(
    rsc::trace{.da = 0x1000, .len = 0x100, .name = "t"});

}  // namespace

TEST_CASE("a table: header, offsets, every entry with every field", "[fmt]") {
  const auto table = rproc::parse_table(table_bytes).value();
  CHECK(fmt::format("{}", table) ==
        "Resource table: version 1, 6 entries, 282 bytes, little-endian\n"
        "  Entry offsets: 0x28 0x60 0x98 0xc8 0x10e 0x116\n"
        "  [0] carveout (type 0) at offset 0x28\n"
        "      da             0xffffffff (FW_RSC_ADDR_ANY)\n"
        "      pa             0xffffffff (FW_RSC_ADDR_ANY)\n"
        "      len            0x10000 (65536)\n"
        "      flags          0x3 (IOMMU_READ|IOMMU_WRITE)\n"
        "      reserved       0\n"
        "      name           \"text\"\n"
        "  [1] devmem (type 1) at offset 0x60\n"
        "      da             0x40000000\n"
        "      pa             0x40000000\n"
        "      len            0x1000 (4096)\n"
        "      flags          0x50 (IOMMU_MMIO|0x40)\n"
        "      reserved       0\n"
        "      name           \"regs\"\n"
        "  [2] trace (type 2) at offset 0x98\n"
        "      da             0x20000000\n"
        "      len            0x800 (2048)\n"
        "      reserved       0\n"
        "      name           \"trace:log\"\n"
        "  [3] vdev (type 3) at offset 0xc8\n"
        "      id             7 (rpmsg)\n"
        "      notifyid       4\n"
        "      dfeatures      0x10000001 (VIRTIO_RPMSG_F_NS|VIRTIO_RING_F_INDIRECT_DESC)\n"
        "      gfeatures      0x1 (VIRTIO_RPMSG_F_NS)\n"
        "      config_len     2\n"
        "      status         0xf (ACKNOWLEDGE|DRIVER|DRIVER_OK|FEATURES_OK)\n"
        "      num_of_vrings  2\n"
        "      reserved       0 0\n"
        "      vring 0        da 0xffffffff (FW_RSC_ADDR_ANY), align 16, num 8, notifyid 0, "
        "pa 0x0\n"
        "      vring 1        da 0x9000, align 4096, num 256, notifyid 1, pa 0x80009000\n"
        "      config         de ad\n"
        "  [4] vendor (type 130) at offset 0x10e, for the platform\n"
        "  [5] unknown (type 5) at offset 0x116, skipped");
}

TEST_CASE("padding after the last entry, an empty table, a big-endian table", "[fmt]") {
  const auto padded = rproc::parse_table(padded_bytes).value();
  CHECK(fmt::format("{}", padded) ==
        "Resource table: version 1, 1 entry, 512 bytes (68 used, then padding), little-endian\n"
        "  Entry offsets: 0x14\n"
        "  [0] trace (type 2) at offset 0x14\n"
        "      da             0x1000\n"
        "      len            0x100 (256)\n"
        "      reserved       0\n"
        "      name           \"t\"");
  constexpr auto empty = rproc::make_table();
  CHECK(fmt::format("{}", rproc::parse_table(empty).value()) ==
        "Resource table: version 1, 0 entries, 16 bytes, little-endian");
  constexpr auto big = every_kind<rproc::table_options{.order = rproc::endian::big}>();
  const auto big_table = rproc::parse_table(big, rproc::endian::big).value();
  const auto little_table = rproc::parse_table(table_bytes).value();
  std::string from_big = fmt::format("{}", big_table);
  const std::string from_little = fmt::format("{}", little_table);
  from_big.replace(from_big.find("big-endian"), 10, "little-endian");
  CHECK(from_big == from_little);
}

TEST_CASE("each entry view alone, the mutable ones too", "[fmt]") {
  auto bytes = table_bytes;
  const auto table = rproc::parse_mutable_table(bytes).value();
  const auto trace = table[2].as<rproc::mutable_trace_entry>().value();
  const std::string trace_text =
      "[2] trace (type 2) at offset 0x98\n"
      "    da             0x20000000\n"
      "    len            0x800 (2048)\n"
      "    reserved       0\n"
      "    name           \"trace:log\"";
  CHECK(fmt::format("{}", trace) == trace_text);
  CHECK(fmt::format("{}", rproc::trace_entry(trace)) == trace_text);
  CHECK(fmt::format("{}", rproc::resource_entry(table[2])) == trace_text);
  CHECK(fmt::format("{}", table[2]) == trace_text);

  const auto carveout = rproc::parse_table(table_bytes)->operator[](0).as<rproc::carveout_entry>();
  CHECK(fmt::format("{}", *carveout).starts_with("[0] carveout (type 0) at offset 0x28\n    da"));
  const auto vdev = rproc::parse_table(table_bytes)->operator[](3).as<rproc::vdev_entry>();
  CHECK(fmt::format("{}", vdev->vring(1)) ==
        "da 0x9000, align 4096, num 256, notifyid 1, pa 0x80009000");
  CHECK(fmt::format("{}", rproc::parse_table(table_bytes)->operator[](4)) ==
        "[4] vendor (type 130) at offset 0x10e, for the platform");

  // Status bits and features as the host writes them.
  const auto live = table[3].as<rproc::mutable_vdev_entry>().value();
  live.set_status(0xC1);
  live.set_gfeatures(0x20000000);
  const std::string text = fmt::format("{}", live);
  CHECK(text.find("status         0xc1 (ACKNOWLEDGE|NEEDS_RESET|FAILED)") != std::string::npos);
  CHECK(text.find("gfeatures      0x20000000 (VIRTIO_RING_F_EVENT_IDX)") != std::string::npos);
}

TEST_CASE("a vdev of another device: no rpmsg feature names, unknown bits in hex", "[fmt]") {
  constexpr auto bytes = rproc::make_table(
      rsc::vdev{.id = 42, .dfeatures = 0x1, .status = 0x31}.with_vrings(
          rsc::vring{.align = 16, .num = 2}));
  const auto vdev = rproc::parse_table(bytes)->operator[](0).as<rproc::vdev_entry>().value();
  const std::string text = fmt::format("{}", vdev);
  CHECK(text.find("    id             42\n") != std::string::npos);
  CHECK(text.find("    dfeatures      0x1\n") != std::string::npos);
  CHECK(text.find("    status         0x31 (ACKNOWLEDGE|0x30)\n") != std::string::npos);
  CHECK(text.find("    config         (none)") != std::string::npos);
}

TEST_CASE("names are data: quotes, backslashes and bytes outside ASCII are escaped", "[fmt]") {
  auto bytes = rproc::make_table(rsc::carveout{.len = 1, .name = "a\"b\\c"});
  bytes.bytes[20 + 24 + 5] = std::byte{0x1B};  // ESC: would drive a terminal
  bytes.bytes[20 + 24 + 6] = std::byte{0xC3};
  const auto table = rproc::parse_table(bytes).value();
  CHECK(fmt::format("{}", table[0]).ends_with(R"(name           "a\"b\\c\x1b\xc3")"));
  // A 32-character name has no NUL: all 32 bytes are the name.
  constexpr auto full =
      rproc::make_table(rsc::trace{.len = 1, .name = "0123456789abcdef0123456789ABCDEF"});
  CHECK(fmt::format("{}", rproc::parse_table(full).value()[0])
            .ends_with("\"0123456789abcdef0123456789ABCDEF\""));
  // Any text from a file, a path for instance: quotes stay, the rest is escaped the same way.
  CHECK(fmt::format("{}", rproc::escaped{"dir/\"a\\b\x1b[2J\xc3.elf"}) ==
        R"(dir/"a\\b\x1b[2J\xc3.elf)");
}

TEST_CASE("errors, warnings, codes and kinds", "[fmt]") {
  const rproc::error e{rproc::errc::vring_invalid, 0x5c, 2u, 0};
  CHECK(fmt::format("{}", e) ==
        "entry 2: vring_invalid at offset 0x5c: a vring has num 0 or align 0 (found 0x0)");
  CHECK(fmt::format("{}", e) == std::string(rproc::message(e).view()));
  CHECK(fmt::format("{}", rproc::errc::empty_table_section) == "empty_table_section");
  CHECK(fmt::format("[{:>8}]", rproc::errc::busy) == "[    busy]");
  CHECK(fmt::format("{}", rproc::entry_kind::vdev) == "vdev");
  const auto parsed = rproc::parse_table(std::span(table_bytes).first(15));
  CHECK(fmt::format("{}", parsed.error()) ==
        "table_too_small at offset 0x0: the table is smaller than its 16-byte header (size 15)");
}

TEST_CASE("an ELF image's summary", "[fmt]") {
  using be64 = fx::sample<rproc::elf::class64, rproc::endian::big>;
  using le32 = fx::sample<rproc::elf::class32, rproc::endian::little>;
  CHECK(fmt::format("{}", *rproc::read_elf(be64::image)) ==
        "ELF64 big-endian, machine 243 (RISC-V), entry 0x1001");
  CHECK(fmt::format("{}", *rproc::read_elf(le32::image)) ==
        "ELF32 little-endian, machine 40 (ARM), entry 0x1001");
  const auto other = le32::with_u16(le32::elf.e_machine, 4242);
  CHECK(fmt::format("{}", *rproc::read_elf(other)) ==
        "ELF32 little-endian, machine 4242, entry 0x1001");
}

TEST_CASE("a format spec is refused", "[fmt]") {
  const auto table = rproc::parse_table(table_bytes).value();
  CHECK_THROWS_AS(fmt::format(fmt::runtime("{:x}"), table), fmt::format_error);
  CHECK_THROWS_AS(fmt::format(fmt::runtime("{:>4}"), table[0]), fmt::format_error);
}
