// The runtime state machine: Linux's state numbers, sysfs command semantics, crash and recovery.
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#include <catch2/catch.hpp>

#include <memory>

#include "lifecycle_support.hpp"

namespace {
using board_t = rproc::sim::platform;
using recovering_board =
    rproc::sim::basic_platform<rproc::sim::features{.attach_on_recovery = true}>;

static_assert(static_cast<int>(rproc::state::offline) == 0);
static_assert(static_cast<int>(rproc::state::running) == 2);
static_assert(static_cast<int>(rproc::state::crashed) == 3);
static_assert(static_cast<int>(rproc::state::attached) == 5);
static_assert(static_cast<int>(rproc::state::detached) == 6);
}  // namespace

TEST_CASE("commands follow Linux's sysfs semantics", "[machine]") {
  auto board = std::make_unique<board_t>();
  const auto image = test::zephyr_image();
  board->set_firmware_table(image.table_da, image.table_bytes.size(), rproc::endian::little);
  rproc::machine<board_t> m(*board);
  CHECK(m.current_state() == rproc::state::offline);
  CHECK(m.command("start").error().code == rproc::errc::no_image);  // no firmware yet
  m.set_firmware(image);
  CHECK(m.command("stop").error().code == rproc::errc::invalid_state);
  CHECK(m.command("detach").error().code == rproc::errc::invalid_state);
  REQUIRE(m.command("start"));
  CHECK(m.current_state() == rproc::state::running);
  CHECK(m.command("start").error().code == rproc::errc::busy);
  CHECK(m.command("detach").error().code == rproc::errc::invalid_state);  // only from attached
  CHECK(m.command("reboot").error().code == rproc::errc::unknown_command);
  REQUIRE(m.command("stop"));
  CHECK(m.current_state() == rproc::state::offline);
  CHECK(board->stats().outstanding_allocations == 0);
}

TEST_CASE("start attaches a detached remote; detach and stop from attached", "[machine]") {
  auto board = std::make_unique<board_t>();
  REQUIRE(board->boot_loader_start(test::zephyr_table, test::table_da));
  rproc::machine<board_t> m(*board);
  REQUIRE(m.current_state() == rproc::state::detached);
  CHECK(m.stop().error().code == rproc::errc::invalid_state);
  REQUIRE(m.start());
  CHECK(m.current_state() == rproc::state::attached);
  CHECK(m.start().error().code == rproc::errc::busy);
  REQUIRE(m.detach());
  CHECK(m.current_state() == rproc::state::detached);
  CHECK(board->table_is_original());
  REQUIRE(m.start());
  REQUIRE(m.stop());
  CHECK(m.current_state() == rproc::state::offline);
  CHECK_FALSE(board->is_running());
}

TEST_CASE("a crash, then recovery by stop and start from the image", "[machine]") {
  auto board = std::make_unique<board_t>();
  const auto image = test::zephyr_image();
  board->set_firmware_table(image.table_da, image.table_bytes.size(), rproc::endian::little);
  rproc::machine<board_t> m(*board);
  m.set_firmware(image);
  m.set_recovery(rproc::recovery_mode::disabled);
  CHECK(m.report_crash().error().code == rproc::errc::invalid_state);  // offline stays offline
  CHECK(m.current_state() == rproc::state::offline);
  REQUIRE(m.start());
  REQUIRE(m.report_crash());
  CHECK(m.current_state() == rproc::state::crashed);
  CHECK(m.start().error().code == rproc::errc::busy);
  CHECK(m.stop().error().code == rproc::errc::invalid_state);
  REQUIRE(m.recover());
  CHECK(m.current_state() == rproc::state::running);
  CHECK(board->stats().starts == 2);
  CHECK(board->stats().stops == 1);
  CHECK(board->stats().outstanding_allocations == 3);
  board->run_firmware();
  CHECK(board->firmware().phase == rproc::sim::firmware_phase::connected);
  CHECK(m.recover().error().code == rproc::errc::invalid_state);  // not crashed
}

TEST_CASE("a crash while attached, recovered by detach and attach where declared", "[machine]") {
  auto board = std::make_unique<recovering_board>();
  REQUIRE(board->boot_loader_start(test::zephyr_table, test::table_da));
  rproc::machine<recovering_board> m(*board);
  m.set_recovery(rproc::recovery_mode::disabled);
  REQUIRE(m.start());
  REQUIRE(m.report_crash());
  REQUIRE(m.recover());
  CHECK(m.current_state() == rproc::state::attached);
  CHECK(board->stats().detaches == 1);
  CHECK(board->firmware().pristine_at_attach == 2);  // the re-attach found the clean table
  CHECK(board->stats().stops == 0);                    // the core was never reloaded
  CHECK(board->stats().outstanding_allocations == 3);
}

TEST_CASE("a crash while attached without attach-on-recovery reloads the image", "[machine]") {
  auto board = std::make_unique<board_t>();
  REQUIRE(board->boot_loader_start(test::zephyr_table, test::table_da));
  const auto image = test::zephyr_image();
  rproc::machine<board_t> m(*board);
  m.set_firmware(image);
  REQUIRE(m.start());
  REQUIRE(m.report_crash());  // recovery enabled: recovered at once
  CHECK(m.current_state() == rproc::state::running);
  CHECK(board->stats().stops == 1);
  CHECK(board->stats().starts == 1);
}
