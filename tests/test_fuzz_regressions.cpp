// Inputs on which a fuzzer stopped (tests/fuzz_regressions/HARNESS-what-it-showed.bin), each
// checked for what it showed. The clang configuration also replays them through their harness.
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>
#include <rproc/table.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;

fs::path regressions_dir() { return test::data_dir().parent_path() / "fuzz_regressions"; }

std::vector<fs::path> inputs(const std::string& prefix) {
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(regressions_dir()))
    if (e.path().filename().string().starts_with(prefix)) found.push_back(e.path());
  return found;
}

// fuzz_mutable_table's input: byte 0 the byte order (1: big-endian), 8 bytes that seed the
// values it writes, then the table.
constexpr std::size_t mutable_table_prefix = 9;

}  // namespace

// A 40- or 44-byte big-endian table whose 3 offsets all point at byte 4: its one vdev (3 entries
// at the same place) starts at the header's num word, so the vdev's dfeatures, gfeatures and
// config_len are offset[0..2]. SPEC accepts it, as Linux does; a host writing the vdev's
// gfeatures then writes offset[1] and the table no longer parses. fuzz_mutable_table took that
// for a bug of the mutable view; it now expects a table to stay valid only without shared bytes.
TEST_CASE("a vdev over the offset array is valid, and its gfeatures is offset[1]") {
  const auto files = inputs("fuzz_mutable_table-vdev-over-offsets");
  REQUIRE(files.size() == 2);
  for (const auto& path : files) {
    INFO(path.filename().string());
    const auto input = test::read_file(path);
    REQUIRE(input.size() > mutable_table_prefix);
    auto table = test::exact_copy(std::span(input).subspan(mutable_table_prefix));
    const auto parsed = rproc::parse_mutable_table(table, rproc::endian::big);
    REQUIRE(parsed);
    CHECK(parsed->num() == 3);
    for (std::uint32_t i = 0; i < 3; ++i) CHECK(parsed->offset(i) == 4);
    const auto vdev = (*parsed)[1].as<rproc::mutable_vdev_entry>();
    REQUIRE(vdev);
    CHECK(vdev->dfeatures() == 4);
    CHECK(vdev->gfeatures() == 4);
    CHECK(vdev->config_len() == 4);
    CHECK(vdev->num_of_vrings() == 0);
    CHECK(vdev->config().size() == 4);

    vdev->set_gfeatures(0x1000);
    CHECK(parsed->offset(1) == 0x1000);
    const auto again = rproc::parse_table(table, rproc::endian::big);
    REQUIRE_FALSE(again);
    CHECK(again.error() == rproc::error{rproc::errc::entry_offset_out_of_bounds, 20, 1u, 0x1000});
  }
}

// fuzz_lifecycle's input is the table; its last 6 bytes also tell the harness what to do. These
// two, 88-byte tables of one vdev with fixed vrings: c[1] = 6, the platform's sixth operation
// fails (its detach, after prepare, loaded_table, two vring allocations and attach); bit 6 of
// c[0], the firmware writes byte c[4] at offset c[2] + 256 c[3] while attached: into vring 0's
// da (a) and the vdev's gfeatures (b), fields the host writes too. The failed detach wrote the
// clean copy, then the host's copy back, then its own virtio values (resume_virtio) over the
// firmware's byte: the table was not as it was before the detach. It now is, byte for byte.
TEST_CASE("a failed detach leaves every byte as it was, the firmware's writes included") {
  using board_t = rproc::sim::platform;
  const auto files = inputs("fuzz_lifecycle-failed-detach-firmware-write");
  REQUIRE(files.size() == 2);
  for (const auto& path : files) {
    INFO(path.filename().string());
    const auto input = test::read_file(path);
    REQUIRE(input.size() == 88);
    const auto c = std::span(input).last(6);
    const std::size_t at = (std::to_integer<std::size_t>(c[2]) |
                            std::to_integer<std::size_t>(c[3]) << 8) % input.size();
    const std::byte value = c[4];
    const auto vdev = rproc::parse_table(input).value()[0].as<rproc::vdev_entry>().value();
    const std::size_t vring0_da = vdev.offset() + rproc::layout::vdev::vrings;
    // -a writes into vring 0's da, -b into the vdev's gfeatures.
    const bool into_gfeatures = path.stem().string().ends_with("-b");
    CHECK(at == (into_gfeatures ? vdev.offset() + rproc::layout::vdev::gfeatures.offset
                                : vring0_da + 1));

    // As the harness has it: the table in a block of its own, device memory at the fixed vrings.
    auto board = std::make_unique<board_t>();
    std::vector<std::byte> memory(input.size());
    constexpr std::uint64_t table_da = std::uint64_t{1} << 36;
    REQUIRE(board->add_window({table_da, memory.size(), memory, false}));
    for (const auto vring : vdev.vrings()) {
      const auto len = rproc::round_up(rproc::vring_size(vring.num(), vring.align()), 4096);
      REQUIRE(board->add_window({vring.da(), static_cast<std::size_t>(len), {}, true}));
    }
    REQUIRE(board->boot_loader_start(input, table_da));
    rproc::processor<board_t> proc(*board);
    auto attached = std::move(proc.claim<rproc::detached>().value()).attach().value();
    board->firmware_writes(at, value);
    const auto held = test::exact_copy(board->firmware_table());
    board->fail_operation(1);  // the platform's detach
    auto refused = std::move(attached).detach();
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == rproc::errc::platform_failure);
    CHECK(proc.current_state() == rproc::state::attached);
    CHECK(std::ranges::equal(board->firmware_table(), held));
    CHECK(board->firmware_table()[at] == value);

    // No change outside the host's fields: the detach writes the whole clean copy back.
    auto detached = std::move(refused).previous().detach();
    REQUIRE(detached.has_value());
    CHECK_FALSE(proc.last_restore().remote_changed);
    CHECK(std::ranges::equal(board->firmware_table(), input));
    CHECK(board->stats().outstanding_allocations == 0);
  }
}

// Made for fuzz_lifecycle rather than found by it (its invariants showed the way): 120 bytes of a
// vdev and a trace whose name holds a fake vdev (type 3, status 0x55), 2 of padding, then the
// harness's 6 bytes: keep_remote_changes, the firmware writes offset[0] so that entry 0 is the
// fake. The detach reset virtio in the live table as it then parsed: status 0 at the fake's
// status byte, a byte of the trace's name, which keep_remote_changes then kept. It now resets
// virtio in the live table only while it is laid out as at attach.
TEST_CASE("a detach writes nothing outside the host's fields of a table the firmware reshaped") {
  using board_t = rproc::sim::platform;
  const auto files = inputs("fuzz_lifecycle-keep-remote-changes-reshaped");
  REQUIRE(files.size() == 1);
  const auto input = test::read_file(files[0]);
  REQUIRE(input.size() == 128);
  const auto c = std::span(input).last(6);
  const std::size_t at = std::to_integer<std::size_t>(c[2]);
  const std::byte value = c[4];
  const auto table = rproc::parse_table(input).value();
  const auto trace = table[1].as<rproc::trace_entry>().value();
  const std::size_t fake = std::to_integer<std::size_t>(value);
  CHECK(at == rproc::layout::header::offsets);
  CHECK(fake == trace.offset() + rproc::layout::trace::name.offset);
  const std::size_t fake_status = fake + rproc::layout::vdev::status.offset;
  CHECK(input[fake_status] == std::byte{0x55});

  auto board = std::make_unique<board_t>();
  REQUIRE(board->boot_loader_start(input, board_t::firmware_ram_base));
  rproc::processor<board_t> proc(*board);
  auto attached = std::move(proc.claim<rproc::detached>().value()).attach().value();
  board->firmware_writes(at, value);
  const auto moved = rproc::parse_table(board->firmware_table()).value();
  REQUIRE(moved[0].as<rproc::vdev_entry>().has_value());
  CHECK(moved.offset(0) == fake);

  auto detached = std::move(attached).detach({rproc::on_remote_change::keep_remote_changes});
  REQUIRE(detached.has_value());
  CHECK(proc.last_restore().remote_changed);
  CHECK(board->firmware_table()[fake_status] == std::byte{0x55});
  // The clean copy with the firmware's one change: offset[0] now names the fake.
  auto expected = test::exact_copy(input);
  expected[at] = value;
  CHECK(std::ranges::equal(board->firmware_table(), expected));
}

// fuzz_rpmsg_firmware-echo-from-overlapping-buffer: tests/test_rpmsg.cpp, "an echo from a buffer
// that overlaps the one it is sent in", checks what it showed.

// Whatever else they show, no input is read outside of (exact-size heap copies, under ASan in
// the asan configuration), and the mutable parse agrees with the read-only one.
TEST_CASE("every regression input parses in both byte orders within its bytes") {
  std::size_t inputs_read = 0;
  for (const auto& e : fs::directory_iterator(regressions_dir())) {
    INFO(e.path().filename().string());
    ++inputs_read;
    const auto input = test::read_file(e.path());
    for (std::size_t skip : {std::size_t{0}, mutable_table_prefix}) {
      if (skip > input.size()) continue;
      const auto bytes = std::span(input).subspan(skip);
      for (const auto order : {rproc::endian::little, rproc::endian::big}) {
        const auto copy = test::exact_copy(bytes);
        auto writable = test::exact_copy(bytes);
        const auto parsed = rproc::parse_table(copy, order);
        const auto mutable_parsed = rproc::parse_mutable_table(writable, order);
        REQUIRE(parsed.has_value() == mutable_parsed.has_value());
        if (parsed) {
          CHECK(parsed->num() == mutable_parsed->num());
          CHECK(parsed->used_bytes() <= copy.size());
        } else {
          CHECK(parsed.error() == mutable_parsed.error());
        }
      }
    }
  }
  CHECK(inputs_read == 6);  // every file of tests/fuzz_regressions
}
