// The coredump writer: an ELF core of a remote's memory (carveouts, vrings, devmem, firmware
// segments) as readelf and gdb read it, a known pattern at its address, regions the host cannot
// read left out and said so, and every way the writer refuses before it writes.
#include <rproc/coredump.hpp>
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "elf_writer.hpp"
#include "inspect_support.hpp"
#include "lifecycle_support.hpp"

namespace {

using rproc::dump_region;
using rproc::dump_source;

constexpr std::uint32_t pattern_offset = 0x40;  // in the first carveout
constexpr std::array<std::uint8_t, 16> pattern{0xEF, 0xBE, 0xAD, 0xDE, 0x0D, 0xF0, 0xFE, 0xCA,
                                               0x01, 0x02, 0x03, 0x04, 0x55, 0xAA, 0x55, 0xAA};
constexpr std::uint64_t unreachable_da = 0x40000000;

bool have(const char* tool) {
  return test::run_tool("sh", {"-c", std::string("command -v ") + tool}).status == 0;
}

std::vector<std::byte> collect(std::vector<std::byte>& file, std::span<const std::byte> bytes) {
  file.insert(file.end(), bytes.begin(), bytes.end());
  return file;
}

// The core and the image it is of, kept in the build tree as NAME.core and NAME.elf for readelf
// and gdb (and for a look after the test).
std::pair<std::filesystem::path, std::filesystem::path> keep(const std::string& name,
                                                             std::span<const std::byte> core,
                                                             std::span<const std::byte> elf) {
  std::pair paths{std::filesystem::absolute(name + ".core"), std::filesystem::absolute(name + ".elf")};
  std::ofstream(paths.first, std::ios::binary)
      .write(reinterpret_cast<const char*>(core.data()), static_cast<std::streamsize>(core.size()));
  std::ofstream(paths.second, std::ios::binary)
      .write(reinterpret_cast<const char*>(elf.data()), static_cast<std::streamsize>(elf.size()));
  return paths;
}

// A board running the ELF fixture (text at 0x1000, table at 0x2000 in a window of the host's
// memory) with the lifecycle tests' table: a carveout and two vrings in the pool.
struct running_board {
  std::unique_ptr<rproc::sim::platform> board = std::make_unique<rproc::sim::platform>();
  std::vector<std::byte> low_memory = std::vector<std::byte>(0x2000);
  std::vector<std::byte> elf_bytes = fx::make_image(test::zephyr_table);
  rproc::elf_image image = rproc::read_elf(elf_bytes).value();
  rproc::processor<rproc::sim::platform> proc{*board};

  running_board() {
    REQUIRE(board->add_window({0x1000, low_memory.size(), low_memory, true}));
    board->set_firmware_table(fx::default_table_address, test::zephyr_table.size(),
                              rproc::endian::little);
    auto started = std::move(proc.claim<rproc::offline>().value()).start(image);
    REQUIRE(started.has_value());
    (void)std::move(started).value();  // the handle goes; the processor stays running
  }
  std::uint32_t carveout_da() const { return proc.resources().carveouts()[0].region.da; }
};

}  // namespace

TEST_CASE("a coredump holds each region the host reaches at its address", "[crash][coredump]") {
  running_board b;
  const std::uint32_t at = b.carveout_da() + pattern_offset;
  auto target = b.board->da_to_va(at, pattern.size());
  REQUIRE(target.size() == pattern.size());
  std::memcpy(target.data(), pattern.data(), pattern.size());

  rproc::dump_plan plan;
  REQUIRE(plan.add_resources(b.proc));
  REQUIRE(plan.add_segments(b.image));
  REQUIRE(plan.add({unreachable_da, 0x100}));
  REQUIRE(plan.regions().size() == 6);  // carveout, two vrings, two segments, the unreachable one
  CHECK(plan.regions()[0].source == dump_source::carveout);
  CHECK(plan.regions()[1].source == dump_source::vring);
  CHECK(plan.regions()[3].source == dump_source::segment);
  CHECK(plan.regions()[3].flags == 5);  // the segment's own R+X

  std::vector<std::byte> core;
  const auto written = rproc::write_coredump(
      rproc::core_format_of(b.image), plan.regions(),
      [&](std::uint64_t da, std::size_t len) {
        return std::span<const std::byte>(b.board->da_to_va(da, len));
      },
      [&](std::span<const std::byte> bytes) { return !collect(core, bytes).empty(); });
  REQUIRE(written.has_value());
  CHECK(written->segments == 5);
  CHECK(written->left_out == std::uint64_t{1} << 5);
  CHECK(written->was_left_out(5));
  CHECK(written->size == core.size());

  // The core read back: ET_CORE, the image's class, order and machine, the pattern at the file
  // offset its program header gives for its address.
  const auto parsed = rproc::read_elf(core);
  REQUIRE(parsed.has_value());
  CHECK(parsed->bits() == 32);
  CHECK(parsed->machine() == 40);
  std::size_t loads = 0;
  bool pattern_found = false;
  for (const rproc::elf_segment s : parsed->segments()) {
    if (!s.is_load()) continue;
    ++loads;
    CHECK(s.paddr == s.vaddr);
    CHECK(s.filesz == s.memsz);
    if (at >= s.vaddr && at + pattern.size() <= s.vaddr + s.filesz) {
      const auto offset = static_cast<std::size_t>(s.offset + (at - s.vaddr));
      pattern_found = std::memcmp(core.data() + offset, pattern.data(), pattern.size()) == 0;
    }
  }
  CHECK(loads == 5);
  CHECK(pattern_found);

  // readelf and gdb, when installed, read it as a core of the remote's memory. The files stay in
  // the build tree.
  const auto [core_path, elf_path] = keep("test_coredump", core, b.elf_bytes);
  if (!have("readelf")) {
    WARN("readelf not installed: the core's headers are not checked with it");
    return;
  }
  const auto header = test::run_tool("readelf", {"-h", "-l", core_path.string()});
  INFO(header.out << header.err);
  REQUIRE(header.status == 0);
  CHECK(header.err.empty());
  CHECK(header.out.find("CORE (Core file)") != std::string::npos);
  CHECK(header.out.find("ARM") != std::string::npos);
  std::size_t load_lines = 0;
  for (auto at_load = header.out.find("\n  LOAD "); at_load != std::string::npos;
       at_load = header.out.find("\n  LOAD ", at_load + 1))
    ++load_lines;
  CHECK(load_lines == 5);
  char load[64];  // the carveout's program header: where, how large, read-write
  std::snprintf(load, sizeof load, "0x%08x 0x%08x 0x08000 0x08000 RW", b.carveout_da(),
                b.carveout_da());
  CHECK(header.out.find(load) != std::string::npos);
  if (!have("gdb-multiarch")) {
    WARN("gdb-multiarch not installed: the core is not opened with gdb");
    return;
  }
  char address[32];
  std::snprintf(address, sizeof address, "x/4wx 0x%x", at);
  const auto gdb = test::run_tool(
      "gdb-multiarch", {"-nx", "-batch", "-ex", address, elf_path.string(), core_path.string()});
  INFO(gdb.out << gdb.err);
  CHECK(gdb.out.find("0xdeadbeef\t0xcafef00d\t0x04030201\t0xaa55aa55") != std::string::npos);
}

TEST_CASE("an ELF64 big-endian core, and an empty one", "[crash][coredump]") {
  std::array<std::byte, 32> memory{};
  for (std::size_t i = 0; i < memory.size(); ++i) memory[i] = std::byte(i);
  const std::array<dump_region, 2> regions{dump_region{0x80000000, 32},
                                           dump_region{0x90000000, 16}};
  std::vector<std::byte> core;
  const auto read = [&](std::uint64_t da, std::size_t len) {
    return da == 0x80000000 && len <= memory.size() ? std::span<const std::byte>(memory).first(len)
                                                    : std::span<const std::byte>{};
  };
  const auto sink = [&](std::span<const std::byte> bytes) { return !collect(core, bytes).empty(); };
  const rproc::core_format format{64, rproc::endian::big, 21, 0};  // PowerPC64
  const auto written = rproc::write_coredump(format, regions, read, sink);
  REQUIRE(written.has_value());
  CHECK(written->segments == 1);
  CHECK(written->left_out == 2);
  CHECK(core.size() == 64 + 56 + 32);
  const auto parsed = rproc::read_elf(core);
  REQUIRE(parsed.has_value());
  CHECK(parsed->bits() == 64);
  CHECK(parsed->order() == rproc::endian::big);
  const rproc::elf_segment s = *parsed->segments().begin();
  CHECK(s.paddr == 0x80000000);
  CHECK(s.offset == 120);
  CHECK(core[120 + 7] == std::byte{7});

  core.clear();
  const auto empty = rproc::write_coredump(format, std::span<const dump_region>{}, read, sink);
  REQUIRE(empty.has_value());
  CHECK(empty->segments == 0);
  CHECK(core.size() == 64);  // the header alone, e_phnum 0
}

TEST_CASE("the registers at the crash in a PT_NOTE before the memory, as gdb reads them",
          "[crash][coredump]") {
  running_board b;
  rproc::arm_registers registers;
  for (std::uint32_t i = 0; i < 16; ++i) registers.r[i] = 0x01010101u * i;
  registers.r[15] = 0x1004;  // pc, in the image's text
  registers.psr = 0x01000000;
  const auto note = rproc::arm_prstatus_note(registers, rproc::endian::little, 11);
  // namesz 5, descsz 148, NT_PRSTATUS, "CORE", the signal at 12 of the body, pc at 72 + 60
  CHECK(note[0] == std::byte{5});
  CHECK(note[4] == std::byte{148});
  CHECK(note[8] == std::byte{1});
  CHECK(std::memcmp(note.data() + 12, "CORE", 5) == 0);
  CHECK(note[20 + 12] == std::byte{11});
  CHECK(note[20 + 72 + 60] == std::byte{0x04});
  CHECK(note[20 + 72 + 61] == std::byte{0x10});
  const auto big = rproc::arm_prstatus_note(registers, rproc::endian::big);
  CHECK(big[3] == std::byte{5});
  CHECK(big[20 + 72 + 63] == std::byte{0x04});

  rproc::dump_plan plan;
  REQUIRE(plan.add_resources(b.proc));
  std::vector<std::byte> core;
  const auto written = rproc::write_coredump(
      rproc::core_format_of(b.image), plan.regions(),
      [&](std::uint64_t da, std::size_t len) {
        return std::span<const std::byte>(b.board->da_to_va(da, len));
      },
      [&](std::span<const std::byte> bytes) { return !collect(core, bytes).empty(); }, note);
  REQUIRE(written.has_value());
  CHECK(written->segments == 3);
  CHECK(written->size == core.size());
  const auto parsed = rproc::read_elf(core);
  REQUIRE(parsed.has_value());
  std::vector<rproc::elf_segment> segments;
  for (const rproc::elf_segment s : parsed->segments()) segments.push_back(s);
  REQUIRE(segments.size() == 4);
  CHECK(segments[0].type == 4);  // PT_NOTE, first, its bytes right after the program headers
  CHECK(segments[0].offset == 52 + 4 * 32);
  CHECK(segments[0].filesz == note.size());
  CHECK(std::memcmp(core.data() + segments[0].offset, note.data(), note.size()) == 0);
  CHECK(segments[1].offset == segments[0].offset + note.size());

  const auto [core_path, elf_path] = keep("test_coredump_registers", core, b.elf_bytes);
  if (!have("readelf")) {
    WARN("readelf not installed: the core's note is not checked with it");
    return;
  }
  const auto notes = test::run_tool("readelf", {"-n", core_path.string()});
  INFO(notes.out << notes.err);
  CHECK(notes.out.find("NT_PRSTATUS") != std::string::npos);
  if (!have("gdb-multiarch")) {
    WARN("gdb-multiarch not installed: the core's registers are not read with gdb");
    return;
  }
  const auto gdb = test::run_tool("gdb-multiarch", {"-nx", "-batch", "-ex", "info registers r1 sp pc",
                                                    elf_path.string(), core_path.string()});
  INFO(gdb.out << gdb.err);
  CHECK(gdb.out.find("r1             0x1010101") != std::string::npos);
  CHECK(gdb.out.find("sp             0xd0d0d0d") != std::string::npos);
  CHECK(gdb.out.find("pc             0x1004") != std::string::npos);
}

TEST_CASE("the writer refuses before it writes, and stops when the sink does",
          "[crash][coredump]") {
  std::vector<std::byte> memory(0x2000);
  std::size_t calls = 0;
  const auto read = [&](std::uint64_t, std::size_t len) {
    return std::span<const std::byte>(memory).first(len < memory.size() ? len : memory.size());
  };
  const auto counting = [&](std::span<const std::byte>) { return ++calls > 0; };
  const rproc::core_format elf32{};

  // Above an ELF32 core's address space: nothing written.
  const std::array<dump_region, 1> high{dump_region{0xFFFFF000, 0x2000}};
  const auto too_large = rproc::write_coredump(elf32, high, read, counting);
  REQUIRE_FALSE(too_large.has_value());
  CHECK(too_large.error().code == rproc::errc::coredump_too_large);
  CHECK(too_large.error().value == 0xFFFFF000);
  CHECK(calls == 0);

  std::vector<dump_region> many(rproc::max_dump_regions + 1, dump_region{0, 16});
  const auto too_many = rproc::write_coredump(elf32, many, read, counting);
  REQUIRE_FALSE(too_many.has_value());
  CHECK(too_many.error().code == rproc::errc::too_many_resources);
  CHECK(calls == 0);

  // A sink that takes the header and refuses the first program header.
  const std::array<dump_region, 1> one{dump_region{0x1000, 0x100}};
  const auto refused = rproc::write_coredump(elf32, one, read, [&](std::span<const std::byte>) {
    return ++calls == 1;
  });
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == rproc::errc::coredump_sink_failed);
  CHECK(refused.error().value == 52);  // the bytes it took
}

TEST_CASE("a dump plan keeps each byte once, within its capacity", "[crash][coredump]") {
  rproc::dump_plan<2> plan;
  CHECK(plan.add({0x1000, 0x1000, 6, dump_source::carveout, 0}));
  CHECK(plan.add({0x1800, 0x100, 5, dump_source::segment, 1}));  // inside the carveout
  CHECK(plan.add({0x2000, 0}));                                   // empty
  CHECK(plan.regions().size() == 1);
  CHECK(plan.add({0x1800, 0x1000}));  // overlaps without being inside: its own region
  CHECK_FALSE(plan.add({0x9000, 0x10}));
  CHECK(plan.regions().size() == 2);
}
