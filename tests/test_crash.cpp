// Crashes: Linux's reasons carried with the crash (typed handles, processor, machine), the
// firmware's crash report entry (AMD's layout, crash.hpp), the recovery mode, and what every
// failure during a recovery leaves behind on the simulated platform.
#include <rproc/crash.hpp>
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <memory>

#include "lifecycle_support.hpp"

namespace {

using rproc::crash_reason;
using rproc::state;

static_assert(static_cast<std::uint32_t>(crash_reason::mmu_fault) == 0);
static_assert(static_cast<std::uint32_t>(crash_reason::watchdog) == 1);
static_assert(static_cast<std::uint32_t>(crash_reason::fatal_error) == 2);
static_assert(rproc::amd_crash_report_type == rproc::vendor_type_first);

// The Zephyr-like table of the lifecycle tests with AMD's crash report after it.
template <rproc::endian Order>
constexpr auto crash_table = rproc::make_table<rproc::table_options{.order = Order}>(
    rproc::rsc::carveout{.len = 0x8000, .name = "heap"},
    rproc::rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = 1}.with_vrings(
        rproc::rsc::vring{.align = 16, .num = 8, .notifyid = 0},
        rproc::rsc::vring{.align = 16, .num = 8, .notifyid = 1}),
    rproc::rsc::trace{.da = test::trace_da, .len = 2048, .name = "Zephyr_log"},
    rproc::rsc::raw{rproc::amd_crash_report_type, std::array<std::uint8_t, 8>{}});

constexpr rproc::sim::features amd_like{.attach_on_recovery = true,
                                        .crash_report_type = rproc::amd_crash_report_type};
using amd_board = rproc::sim::basic_platform<amd_like>;
using reloading_board =
    rproc::sim::basic_platform<rproc::sim::features{.crash_report_type = rproc::amd_crash_report_type}>;

}  // namespace

TEST_CASE("crash reasons in Linux's words", "[crash]") {
  CHECK(rproc::to_string(crash_reason::mmu_fault) == "mmufault");
  CHECK(rproc::to_string(crash_reason::watchdog) == "watchdog");
  CHECK(rproc::to_string(crash_reason::fatal_error) == "fatal error");
  CHECK(rproc::to_string(crash_reason{7}) == "unknown");  // a firmware may report any number
  CHECK(rproc::to_string(rproc::recovery_mode::enabled) == "enabled");
  CHECK(rproc::to_string(rproc::recovery_mode::disabled) == "disabled");
}

TEMPLATE_TEST_CASE_SIG("a firmware's crash report is read from its vendor entry", "[crash]",
                       ((rproc::endian Order), Order), rproc::endian::little,
                       rproc::endian::big) {
  auto bytes = test::bytes_of(crash_table<Order>);
  const auto clean = rproc::find_crash_report(rproc::parse_table(bytes, Order).value());
  REQUIRE(clean);
  CHECK(clean->entry == 3);
  CHECK_FALSE(clean->crashed());
  const rproc::basic_byte_view<std::byte> view(std::span<std::byte>(bytes), Order);
  REQUIRE(view.write_u32(clean->offset + 4, 1));
  REQUIRE(view.write_u32(clean->offset + 8, 1));
  const auto crashed = rproc::find_crash_report(rproc::parse_table(bytes, Order).value());
  REQUIRE(crashed);
  CHECK(crashed->crashed());
  CHECK(crashed->reason() == crash_reason::watchdog);
  // Another vendor's type, or a body cut short by the end of the table: no report.
  CHECK_FALSE(rproc::find_crash_report(rproc::parse_table(bytes, Order).value(), 129));
  bytes.resize(bytes.size() - 4);
  CHECK_FALSE(rproc::find_crash_report(rproc::parse_table(bytes, Order).value()));
}

TEST_CASE("a typed crash carries its reason through the recovery", "[crash]") {
  auto board = std::make_unique<rproc::sim::platform>();
  const auto image = test::zephyr_image();
  board->set_firmware_table(image.table_da, image.table_bytes.size(), rproc::endian::little);
  rproc::processor<rproc::sim::platform> proc(*board);
  CHECK_FALSE(proc.last_crash());
  auto running = std::move(proc.claim<rproc::offline>().value()).start(image).value();
  auto crashed = std::move(running).report_crash(crash_reason::mmu_fault);
  REQUIRE(proc.last_crash());
  CHECK(proc.last_crash()->reason == crash_reason::mmu_fault);
  CHECK(proc.last_crash()->from == state::running);
  auto recovered = std::move(crashed).recover(image).value();
  CHECK(proc.current_state() == state::running);
  CHECK(proc.last_crash()->reason == crash_reason::mmu_fault);  // kept after the recovery
  (void)std::move(recovered).report_crash();                      // fatal error by default
  CHECK(proc.last_crash()->reason == crash_reason::fatal_error);
}

TEST_CASE("the firmware reports its crash and recovery enabled detaches and attaches again",
          "[crash]") {
  auto board = std::make_unique<amd_board>();
  REQUIRE(board->boot_loader_start(crash_table<rproc::endian::little>, test::table_da));
  rproc::machine<amd_board> m(*board);
  CHECK(m.recovery() == rproc::recovery_mode::enabled);  // Linux's default
  REQUIRE(m.start());
  board->run_firmware();
  REQUIRE(board->firmware().phase == rproc::sim::firmware_phase::connected);
  CHECK(m.processor().warnings().empty());  // the platform handles its crash report entry
  CHECK(m.check_crash_report().value() == false);

  board->firmware_crashes(crash_reason::watchdog);
  CHECK(board->firmware().phase == rproc::sim::firmware_phase::crashed);
  REQUIRE(m.processor().firmware_crash_report());
  CHECK(m.processor().firmware_crash_report()->crashed());
  CHECK(m.check_crash_report().value() == true);

  CHECK(m.current_state() == state::attached);
  CHECK(m.processor().last_crash()->reason == crash_reason::watchdog);
  CHECK(m.processor().last_crash()->from == state::attached);
  // The re-attach started from the firmware's own table: report clear, resources from scratch.
  CHECK_FALSE(m.processor().firmware_crash_report()->crashed());
  CHECK(board->firmware().pristine_at_attach == 2);
  CHECK(board->stats().detaches == 1);
  CHECK(board->stats().stops == 0);
  CHECK(board->stats().outstanding_allocations == 3);  // carveout and two fresh vrings
  CHECK(board->stats().allocations == 6);
  board->run_firmware();
  CHECK(board->firmware().phase == rproc::sim::firmware_phase::connected);
  CHECK(board->firmware().connections == 2);
  CHECK(m.check_crash_report().value() == false);  // nothing new
}

TEST_CASE("recovery disabled: crashed until told and then one recovery", "[crash]") {
  auto board = std::make_unique<amd_board>();
  REQUIRE(board->boot_loader_start(crash_table<rproc::endian::little>, test::table_da));
  rproc::machine<amd_board> m(*board);
  m.set_recovery(rproc::recovery_mode::disabled);
  REQUIRE(m.start());
  board->firmware_crashes(crash_reason::mmu_fault);
  CHECK(m.check_crash_report().value() == true);
  CHECK(m.current_state() == state::crashed);
  CHECK(m.check_crash_report().value() == false);  // already crashed: not reported twice
  CHECK(board->stats().outstanding_allocations == 3);  // everything held until the recovery
  REQUIRE(m.recover());                                  // the one-shot recover
  CHECK(m.current_state() == state::attached);
  CHECK(m.recovery() == rproc::recovery_mode::disabled);
  board->firmware_crashes(crash_reason::fatal_error);
  CHECK(m.check_crash_report().value() == true);
  CHECK(m.current_state() == state::crashed);
  CHECK(m.processor().last_crash()->reason == crash_reason::fatal_error);
  CHECK(m.report_crash().error().code == rproc::errc::invalid_state);  // crashed already
}

TEST_CASE("a platform that declares no crash report never reads one", "[crash]") {
  auto board = std::make_unique<rproc::sim::basic_platform<
      rproc::sim::features{.attach_on_recovery = true}>>();
  REQUIRE(board->boot_loader_start(crash_table<rproc::endian::little>, test::table_da));
  rproc::machine<std::remove_reference_t<decltype(*board)>> m(*board);
  REQUIRE(m.start());
  board->firmware_crashes(crash_reason::watchdog);
  CHECK_FALSE(m.processor().firmware_crash_report());
  CHECK(m.check_crash_report().value() == false);
  CHECK(m.current_state() == state::attached);
  REQUIRE(m.report_crash(crash_reason::watchdog));  // the platform's own signal, recovered
  CHECK(m.current_state() == state::attached);
  CHECK(board->firmware().crashes == 1);
}

TEST_CASE("a crash while running is recovered from the image by policy", "[crash]") {
  auto board = std::make_unique<reloading_board>();
  const auto image = test::zephyr_image();
  board->set_firmware_table(image.table_da, image.table_bytes.size(), rproc::endian::little);
  rproc::machine<reloading_board> m(*board);
  m.set_firmware(image);
  REQUIRE(m.start());
  REQUIRE(m.report_crash(crash_reason::fatal_error));
  CHECK(m.current_state() == state::running);
  CHECK(board->stats().stops == 1);
  CHECK(board->stats().starts == 2);
  CHECK(board->stats().outstanding_allocations == 3);
  CHECK(m.processor().last_crash()->from == state::running);
}

namespace {

// Recovers a crashed remote with its k-th platform operation failing, and checks the state the
// failure left: crashed with everything held (the first step failed), or between the two steps
// with nothing held and the firmware's table as it wrote it. Then the way out of that state
// works. Returns whether a fault was injected (false once k is past the recovery's operations).
template <class Board>
bool recover_with_failure(std::uint64_t k, bool from_image) {
  auto board = std::make_unique<Board>();
  const auto image = test::zephyr_image();
  if (from_image)
    board->set_firmware_table(image.table_da, image.table_bytes.size(), rproc::endian::little);
  else
    REQUIRE(board->boot_loader_start(crash_table<rproc::endian::little>, test::table_da));
  rproc::machine<Board> m(*board);
  m.set_firmware(image);
  m.set_recovery(rproc::recovery_mode::disabled);
  REQUIRE(m.start());
  board->firmware_crashes(crash_reason::watchdog);
  REQUIRE(m.report_crash(crash_reason::watchdog));
  const auto held = board->stats().outstanding_allocations;
  board->fail_operation(k);
  const auto recovered = m.recover();
  const bool injected = board->stats().faults_injected == 1;
  board->fail_operation(0);
  INFO("operation " << k << (from_image ? " of a recovery from the image" : " of a re-attach"));
  CHECK(recovered.has_value() == !injected);
  const state between = from_image ? state::offline : state::detached;
  if (!recovered) {
    if (m.current_state() == state::crashed) {
      CHECK(board->stats().outstanding_allocations == held);
      REQUIRE(m.recover());
    } else {
      REQUIRE(m.current_state() == between);
      CHECK(board->stats().outstanding_allocations == 0);
      CHECK(board->stats().prepares == board->stats().unprepares);
      if (!from_image) CHECK(board->table_is_original());
      REQUIRE(m.start());
    }
  }
  CHECK(m.current_state() == (from_image ? state::running : state::attached));
  CHECK(board->stats().outstanding_allocations == held);
  board->run_firmware();
  CHECK(board->firmware().phase == rproc::sim::firmware_phase::connected);
  return injected;
}

}  // namespace

TEST_CASE("every failure during a recovery leaves a documented state with nothing held",
          "[crash]") {
  for (const bool from_image : {false, true}) {
    std::uint64_t failures = 0;
    for (std::uint64_t k = 1; k < 64; ++k) {
      const bool injected = from_image ? recover_with_failure<reloading_board>(k, true)
                                       : recover_with_failure<amd_board>(k, false);
      if (!injected) break;
      ++failures;
    }
    INFO((from_image ? "recovery from the image" : "re-attach"));
    CHECK(failures >= 4);  // each step's operations: stop or detach, prepare, allocations, start
  }
}
