// Crash and recovery with typed handles (remote<P, crashed>), and kick: what each transition
// leaves behind on the simulated platform, and which ones exist for which platform.
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#include <catch2/catch.hpp>

#include <memory>

#include "lifecycle_support.hpp"

namespace {

using board_t = rproc::sim::platform;
using recovering_board =
    rproc::sim::basic_platform<rproc::sim::features{.attach_on_recovery = true}>;

template <class R>
concept can_report_crash = requires(R r) { std::move(r).report_crash(); };
template <class R>
concept can_recover = requires(R r) { std::move(r).recover(); };
template <class R>
concept can_recover_from = requires(R r, const test::memory_image& image) {
  std::move(r).recover(image);
};
template <class R>
concept can_stop = requires(R r) { std::move(r).stop(); };
template <class R>
concept can_kick = requires(const R& r) { r.kick(0); };

template <class P, class State>
using handle = rproc::remote<P, State>;

static_assert(can_report_crash<handle<board_t, rproc::running>>);
static_assert(can_report_crash<handle<board_t, rproc::attached>>);
static_assert(!can_report_crash<handle<board_t, rproc::offline>>);
static_assert(!can_report_crash<handle<board_t, rproc::detached>>);
static_assert(!can_report_crash<handle<board_t, rproc::crashed>>);
// A crashed handle recovers (from the image, or by attaching where the platform says so) or stops.
static_assert(can_recover_from<handle<board_t, rproc::crashed>>);
static_assert(!can_recover<handle<board_t, rproc::crashed>>);
static_assert(can_recover<handle<recovering_board, rproc::crashed>>);
static_assert(!can_recover_from<handle<recovering_board, rproc::crashed>>);
static_assert(can_stop<handle<board_t, rproc::crashed>>);
static_assert(!can_recover_from<handle<board_t, rproc::running>>);
static_assert(!can_recover<handle<recovering_board, rproc::attached>>);
static_assert(!can_kick<handle<board_t, rproc::crashed>>);
static_assert(!can_kick<handle<board_t, rproc::detached>>);
static_assert(can_kick<handle<board_t, rproc::running>>);
static_assert(can_kick<handle<board_t, rproc::attached>>);

}  // namespace

TEST_CASE("a running remote crashes and recovers from its image", "[recovery]") {
  auto board = std::make_unique<board_t>();
  const auto image = test::zephyr_image();
  board->set_firmware_table(image.table_da, image.table_bytes.size(), rproc::endian::little);
  rproc::processor<board_t> proc(*board);
  auto running = std::move(proc.claim<rproc::offline>().value()).start(image).value();
  auto crashed = std::move(running).report_crash();
  CHECK(proc.current_state() == rproc::state::crashed);
  CHECK(board->stats().outstanding_allocations == 3);  // held until the recovery

  auto recovered = std::move(crashed).recover(image);
  REQUIRE(recovered);
  auto again = std::move(recovered).value();
  CHECK(proc.current_state() == rproc::state::running);
  CHECK(board->stats().stops == 1);
  CHECK(board->stats().starts == 2);
  CHECK(board->stats().outstanding_allocations == 3);
  board->run_firmware();
  CHECK(board->firmware().phase == rproc::sim::firmware_phase::connected);
  const auto stopped = std::move(again).stop();
  REQUIRE(stopped);
  CHECK(board->stats().outstanding_allocations == 0);
}

TEST_CASE("an attached remote crashes and recovers by detach and attach where declared",
          "[recovery]") {
  auto board = std::make_unique<recovering_board>();
  REQUIRE(board->boot_loader_start(test::zephyr_table, test::table_da));
  rproc::processor<recovering_board> proc(*board);
  auto attached = std::move(proc.claim<rproc::detached>().value()).attach().value();
  auto recovered = std::move(attached).report_crash().recover();
  REQUIRE(recovered);
  auto again = std::move(recovered).value();  // remote<recovering_board, attached>
  CHECK(proc.current_state() == rproc::state::attached);
  CHECK(board->stats().detaches == 1);
  CHECK(board->firmware().pristine_at_attach == 2);  // the re-attach found the firmware's table
  CHECK(board->stats().stops == 0);                  // the core was never reloaded
  CHECK(board->stats().outstanding_allocations == 3);
  const auto detaching = std::move(again).detach();
  REQUIRE(detaching);
  CHECK(board->table_is_original());
}

TEST_CASE("a crashed remote stops, and starts again like any offline one", "[recovery]") {
  auto board = std::make_unique<board_t>();
  REQUIRE(board->boot_loader_start(test::zephyr_table, test::table_da));
  rproc::processor<board_t> proc(*board);
  auto attached = std::move(proc.claim<rproc::detached>().value()).attach().value();
  auto stopped = std::move(attached).report_crash().stop();
  REQUIRE(stopped);
  auto offline = std::move(stopped).value();
  CHECK(proc.current_state() == rproc::state::offline);
  CHECK_FALSE(board->is_running());
  CHECK(board->stats().outstanding_allocations == 0);
  CHECK(proc.clean_copy() == nullptr);
  const auto started = std::move(offline).start(test::zephyr_image());
  REQUIRE(started);
}

TEST_CASE("a failed recovery says where it stopped: crashed, or between its two steps",
          "[recovery][faults]") {
  const auto image = test::zephyr_image();
  SECTION("the stop fails: still crashed, everything held") {
    auto board = std::make_unique<board_t>();
    rproc::processor<board_t> proc(*board);
    auto crashed =
        std::move(proc.claim<rproc::offline>().value()).start(image).value().report_crash();
    board->fail_operation(1);  // the stop
    auto recovered = std::move(crashed).recover(image);
    REQUIRE_FALSE(recovered);
    CHECK(recovered.error().code == rproc::errc::platform_failure);
    REQUIRE(recovered.reached() == rproc::state::crashed);
    auto still = std::move(recovered).previous();
    CHECK(board->stats().outstanding_allocations == 3);
    const auto recovered_again = std::move(still).recover(image);
    REQUIRE(recovered_again);
  }
  SECTION("the start fails: offline, nothing held") {
    auto board = std::make_unique<board_t>();
    rproc::processor<board_t> proc(*board);
    auto crashed =
        std::move(proc.claim<rproc::offline>().value()).start(image).value().report_crash();
    board->fail_operation(2);  // the stop succeeds, the start's prepare fails
    auto recovered = std::move(crashed).recover(image);
    REQUIRE_FALSE(recovered);
    REQUIRE(recovered.reached() == rproc::state::offline);
    auto offline = std::move(recovered).halfway();
    CHECK(board->stats().outstanding_allocations == 0);
    const auto started = std::move(offline).start(image);
    REQUIRE(started);
  }
  SECTION("the attach fails: detached, the firmware's table as it wrote it") {
    auto board = std::make_unique<recovering_board>();
    REQUIRE(board->boot_loader_start(test::zephyr_table, test::table_da));
    rproc::processor<recovering_board> proc(*board);
    auto crashed =
        std::move(proc.claim<rproc::detached>().value()).attach().value().report_crash();
    board->fail_operation(2);  // the detach succeeds, the attach's prepare fails
    auto recovered = std::move(crashed).recover();
    REQUIRE_FALSE(recovered);
    REQUIRE(recovered.reached() == rproc::state::detached);
    auto detached = std::move(recovered).halfway();
    CHECK(board->table_is_original());
    CHECK(board->stats().outstanding_allocations == 0);
    const auto attaching = std::move(detached).attach();
    REQUIRE(attaching);
  }
  SECTION("a crash while running cannot recover by attaching: no clean copy to detach with") {
    auto board = std::make_unique<recovering_board>();
    rproc::processor<recovering_board> proc(*board);
    auto crashed =
        std::move(proc.claim<rproc::offline>().value()).start(image).value().report_crash();
    auto recovered = std::move(crashed).recover();
    REQUIRE_FALSE(recovered);
    CHECK(recovered.error().code == rproc::errc::invalid_state);
    auto still = std::move(recovered).previous();
    const auto stopping = std::move(still).stop();
    REQUIRE(stopping);
    CHECK(proc.current_state() == rproc::state::offline);
  }
}

TEST_CASE("kick tells the platform, which lets the firmware look at its vrings", "[kick]") {
  auto board = std::make_unique<board_t>();
  REQUIRE(board->boot_loader_start(test::zephyr_table, test::table_da));
  rproc::processor<board_t> proc(*board);
  const auto attached = std::move(proc.claim<rproc::detached>().value()).attach().value();
  CHECK(board->firmware().connections == 0);
  REQUIRE(attached.kick(0));
  CHECK(board->stats().kicks == 1);
  CHECK(board->firmware().connections == 1);  // the kick ran the firmware, which saw DRIVER_OK
  CHECK(board->firmware().assignment.vrings[1].notifyid == 1);
  board->fail_operation(1);
  const auto refused = attached.kick(1);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == rproc::errc::platform_failure);
  CHECK(board->stats().kicks == 1);
  CHECK(proc.current_state() == rproc::state::attached);  // a kick is no transition
}
