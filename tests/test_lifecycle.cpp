// The lifecycle on the simulated platform: the seed scenario (attach, host writes, DRIVER_OK,
// detach, re-attach) and its negative control, start/stop, typed-handle rules, fault injection.
#include <rproc/lifecycle.hpp>
#include <rproc/sim.hpp>

#include <catch2/catch.hpp>

#include <corpus_fixtures.hpp>

#include <cstring>
#include <memory>
#include <vector>

#include "elf_fixtures.hpp"
#include "lifecycle_support.hpp"

namespace {

using board_t = rproc::sim::platform;
using proc_t = rproc::processor<board_t>;

// What cannot be written does not compile. (Asked through concepts: a requires-expression
// outside a template would be a hard error instead of false.)
template <class State>
using handle = rproc::remote<board_t, State>;
template <class R>
concept can_start = requires(R r, const test::memory_image& image) { std::move(r).start(image); };
template <class R>
concept can_stop = requires(R r) { std::move(r).stop(); };
template <class R>
concept can_attach = requires(R r) { std::move(r).attach(); };
template <class R>
concept can_detach = requires(R r) { std::move(r).detach(); };
template <class R>
concept can_detach_lvalue = requires(R& r) { r.detach(); };
template <class R>
concept can_start_lvalue = requires(R& r, const test::memory_image& image) { r.start(image); };

static_assert(can_start<handle<rproc::offline>>);
static_assert(!can_start<handle<rproc::running>>);
static_assert(!can_start<handle<rproc::attached>>);
static_assert(!can_start<handle<rproc::detached>>);
static_assert(can_stop<handle<rproc::running>>);
static_assert(can_stop<handle<rproc::attached>>);
static_assert(!can_stop<handle<rproc::offline>>);
static_assert(!can_stop<handle<rproc::detached>>);
static_assert(can_attach<handle<rproc::detached>>);
static_assert(!can_attach<handle<rproc::offline>>);
static_assert(!can_attach<handle<rproc::running>>);
static_assert(!can_attach<handle<rproc::attached>>);
static_assert(can_detach<handle<rproc::attached>>);
static_assert(!can_detach<handle<rproc::offline>>);
static_assert(!can_detach<handle<rproc::running>>);
static_assert(!can_detach<handle<rproc::detached>>);
// A transition consumes its handle: it cannot be called on an lvalue.
static_assert(!can_detach_lvalue<handle<rproc::attached>>);
static_assert(!can_start_lvalue<handle<rproc::offline>>);
// Platforms without an operation have no transition that needs it.
using no_detach_board = rproc::sim::basic_platform<rproc::sim::features{.can_detach = false}>;
static_assert(!rproc::platform_can_detach<no_detach_board>);
static_assert(!can_detach<rproc::remote<no_detach_board, rproc::attached>>);
static_assert(can_stop<rproc::remote<no_detach_board, rproc::attached>>);
static_assert(!rproc::processor<no_detach_board>::keeps_clean_copy);
using attach_only_board =
    rproc::sim::basic_platform<rproc::sim::features{.can_start = false, .can_stop = false}>;
static_assert(!can_start<rproc::remote<attach_only_board, rproc::offline>>);
static_assert(!can_stop<rproc::remote<attach_only_board, rproc::attached>>);
static_assert(can_attach<rproc::remote<attach_only_board, rproc::detached>>);
// Zero overhead: a handle is one pointer.
static_assert(sizeof(handle<rproc::offline>) == sizeof(proc_t*));
static_assert(sizeof(handle<rproc::attached>) == sizeof(proc_t*));
static_assert(!std::is_copy_constructible_v<handle<rproc::attached>>);

// A board whose firmware a boot loader started with the Zephyr-like table.
std::unique_ptr<board_t> booted_board() {
  auto board = std::make_unique<board_t>();
  REQUIRE(board->boot_loader_start(test::zephyr_table, test::table_da));
  return board;
}

struct attach_outcome {
  std::uint32_t vring_da[2];
  std::uint32_t notifyid[2];
  std::uint32_t carveout_da;
  std::uint8_t status;
  std::uint32_t gfeatures;
};

attach_outcome read_live(board_t& board) {
  const auto table = rproc::parse_table(board.firmware_table()).value();
  const auto vdev = table[1].as<rproc::vdev_entry>().value();
  return {{vdev.vring(0).da(), vdev.vring(1).da()},
          {vdev.vring(0).notifyid(), vdev.vring(1).notifyid()},
          table[0].as<rproc::carveout_entry>()->da(),
          vdev.status(),
          vdev.gfeatures()};
}

}  // namespace

TEST_CASE("seed scenario: attach, host writes, DRIVER_OK, detach, re-attach, 100 times",
          "[lifecycle]") {
  auto board = booted_board();
  proc_t proc(*board);
  REQUIRE(proc.current_state() == rproc::state::detached);
  auto detached = proc.claim<rproc::detached>().value();

  std::optional<attach_outcome> first;
  for (int cycle = 0; cycle < 100; ++cycle) {
    INFO("cycle " << cycle);
    // The firmware's table is as the firmware wrote it: vrings at FW_RSC_ADDR_ANY.
    REQUIRE(board->table_is_original());
    auto attaching = std::move(detached).attach();
    REQUIRE(attaching.has_value());
    auto attached = std::move(attaching).value();
    REQUIRE(proc.current_state() == rproc::state::attached);

    const auto live = read_live(*board);
    CHECK(live.vring_da[0] != rproc::fw_rsc_addr_any);
    CHECK(live.vring_da[1] != rproc::fw_rsc_addr_any);
    CHECK(live.vring_da[0] != live.vring_da[1]);
    CHECK(live.notifyid[0] == 0u);  // numbered from 0 again on every attach
    CHECK(live.notifyid[1] == 1u);
    CHECK(live.carveout_da >= board_t::pool_base);
    CHECK(live.status == 0x0F);  // ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK
    CHECK(live.gfeatures == 1u);
    CHECK(board->stats().outstanding_allocations == 3);  // a carveout and two vrings
    CHECK(proc.resources().notify_ids_in_use() == 2);
    REQUIRE(proc.clean_copy() != nullptr);

    board->run_firmware();
    CHECK(board->firmware().phase == rproc::sim::firmware_phase::connected);
    CHECK(board->firmware().connections == static_cast<std::uint32_t>(cycle + 1));
    // The firmware side (vdev_link) read what the host wrote.
    const auto& seen = board->firmware().assignment;
    CHECK(seen.vrings[0].da == live.vring_da[0]);
    CHECK(seen.vrings[1].da == live.vring_da[1]);
    CHECK(seen.vrings[1].notifyid == 1u);
    CHECK(seen.gfeatures == 1u);
    CHECK(seen.status == 0x0F);

    auto detaching = std::move(attached).detach();
    REQUIRE(detaching.has_value());
    detached = std::move(detaching).value();

    // Exactly the firmware's bytes again, the core still running, nothing held by the host.
    CHECK(board->table_is_original());
    CHECK(proc.last_restore().bytes_written > 0);
    CHECK_FALSE(proc.last_restore().remote_changed);
    CHECK(board->is_running());
    CHECK(board->stats().outstanding_allocations == 0);
    CHECK(board->stats().outstanding_bytes == 0);
    CHECK(proc.resources().empty());
    CHECK(proc.resources().notify_ids_in_use() == 0);
    CHECK(board->firmware().detach_notices == static_cast<std::uint32_t>(cycle + 1));
    // Told of it, the firmware stopped using its vrings and waits for the next attach.
    CHECK(board->firmware().phase == rproc::sim::firmware_phase::waiting);
    CHECK(board->firmware().disconnections == static_cast<std::uint32_t>(cycle + 1));
    // Linux's vring release marks land in the host's copy, not in the firmware's table.
    const auto cached = proc.cached_table().value();
    CHECK(cached[1].as<rproc::vdev_entry>()->vring(0).da() == 0u);
    CHECK(cached[1].as<rproc::vdev_entry>()->vring(0).notifyid() == 0xFFFFFFFFu);

    if (!first) first = live;
    CHECK(std::memcmp(&*first, &live, sizeof live) == 0);  // identical results every cycle
  }
  CHECK(board->firmware().pristine_at_attach == 100);
  CHECK(board->stats().allocations == 300);
  CHECK(board->stats().releases == 300);
}

TEST_CASE("negative control: without the restore, re-attach reads da 0 as a fixed address",
          "[lifecycle]") {
  auto board = booted_board();
  proc_t proc(*board);
  auto attached = std::move(proc.claim<rproc::detached>().value()).attach().value();
  auto detached = std::move(attached).detach().value();
  // What Linux's detach did before the clean copy: the vrings were released through the live
  // table, leaving da = 0 and notifyid = -1 there. Replay exactly that into the firmware's table.
  const auto cached = proc.cached_table().value();
  const auto bytes = cached.bytes().bytes();
  std::copy(bytes.begin(), bytes.end(), board->firmware_table().begin());
  REQUIRE_FALSE(board->table_is_original());
  REQUIRE(rproc::parse_table(board->firmware_table())->operator[](1).as<rproc::vdev_entry>()->vring(0).da() == 0);

  const auto before = test::bytes_of(board->firmware_table());
  auto attaching = std::move(detached).attach();
  REQUIRE_FALSE(attaching.has_value());
  // The host asked for vring memory at address 0, as if the firmware had fixed it there.
  CHECK(attaching.error().code == rproc::errc::address_unavailable);
  CHECK(attaching.error().value == 0);
  CHECK(attaching.error().entry == 1u);
  CHECK(attaching.error().offset == 84 + 28 + 0);  // vring 0's da field
  // The failed attach released everything and left the table as it found it.
  CHECK(board->stats().outstanding_allocations == 0);
  CHECK(test::bytes_of(board->firmware_table()) == before);
  CHECK(proc.current_state() == rproc::state::detached);
  auto back = std::move(attaching).previous();
  static_assert(std::is_same_v<decltype(back), rproc::remote<board_t, rproc::detached>>);
}

TEST_CASE("a firmware that rewrites its table while attached is not silently clobbered",
          "[lifecycle][clean_copy]") {
  auto board = booted_board();
  proc_t proc(*board);
  auto attached = std::move(proc.claim<rproc::detached>().value()).attach().value();
  // The firmware renames its trace buffer (a byte the host never writes).
  const std::size_t trace_name = 152 + 16;
  board->firmware_writes(trace_name, std::byte{'z'});

  auto refused = std::move(attached).detach();
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == rproc::errc::table_changed_by_remote);
  CHECK(refused.error().offset == trace_name);
  attached = std::move(refused).previous();
  CHECK(proc.current_state() == rproc::state::attached);
  CHECK(read_live(*board).status == 0x0F);  // nothing was touched

  const auto policy = GENERATE(rproc::on_remote_change::keep_remote_changes,
                               rproc::on_remote_change::restore_anyway);
  auto detached = std::move(attached).detach({policy}).value();
  CHECK(proc.last_restore().remote_changed);
  CHECK(read_live(*board).vring_da[0] == rproc::fw_rsc_addr_any);
  if (policy == rproc::on_remote_change::keep_remote_changes) {
    // Only the host's fields went back: the firmware's change stays.
    CHECK(board->firmware_table()[trace_name] == std::byte{'z'});
    CHECK(board->table_is_original());  // the firmware's new bytes are its own
  } else {
    // The clean copy wins.
    CHECK(board->firmware_table()[trace_name] == std::byte{'Z'});
    CHECK(read_live(*board).vring_da[1] == rproc::fw_rsc_addr_any);
  }
}

TEST_CASE("start loads the image, copies the table where the firmware expects it, stop releases",
          "[lifecycle]") {
  auto board = std::make_unique<board_t>();
  const auto image = test::zephyr_image();
  board->set_firmware_table(image.table_da, image.table_bytes.size(), rproc::endian::little);
  proc_t proc(*board);
  auto running = std::move(proc.claim<rproc::offline>().value()).start(image).value();
  CHECK(proc.current_state() == rproc::state::running);
  CHECK(board->firmware().boot_address == 0x20000001u);
  CHECK(board->stats().starts == 1);
  // The loaded table holds the host's values; the image is untouched.
  const auto live = read_live(*board);
  CHECK(live.notifyid[0] == 0u);
  CHECK(live.status == 0x0F);
  CHECK(live.vring_da[0] >= board_t::pool_base);
  CHECK(rproc::parse_table(image.table_bytes)->operator[](1).as<rproc::vdev_entry>()->vring(0).da() ==
        rproc::fw_rsc_addr_any);
  // The rest of the segment was loaded and zero-filled.
  const auto ram = board->da_to_va(0x20000000, 0x2000);
  CHECK(ram[0] == std::byte{0x5A});
  CHECK(ram[0x1FFF] == std::byte{0});
  CHECK(proc.resources().traces().size() == 1);
  CHECK(proc.resources().traces()[0].buffer.size() == 2048);
  board->run_firmware();
  CHECK(board->firmware().phase == rproc::sim::firmware_phase::connected);

  auto offline = std::move(running).stop().value();
  CHECK(proc.current_state() == rproc::state::offline);
  CHECK_FALSE(board->is_running());
  CHECK(board->stats().outstanding_allocations == 0);
  // Start again: the same addresses and ids.
  auto again = std::move(offline).start(image).value();
  CHECK(read_live(*board).vring_da[0] == live.vring_da[0]);
  CHECK(read_live(*board).notifyid[1] == 1u);
}

TEST_CASE("an image whose table the platform cannot place is refused, not booted blind",
          "[lifecycle]") {
  auto board = std::make_unique<board_t>();
  auto image = test::zephyr_image();
  image.table_da = 0x70000000;  // no device memory there
  proc_t proc(*board);
  auto t = std::move(proc.claim<rproc::offline>().value()).start(image);
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().code == rproc::errc::table_not_mapped);
  CHECK(board->stats().starts == 0);
  CHECK(board->stats().outstanding_allocations == 0);

  image.table_bytes.clear();  // no table at all
  auto offline = std::move(t).previous();
  auto no_table = std::move(offline).start(image);
  REQUIRE_FALSE(no_table.has_value());
  CHECK(no_table.error().code == rproc::errc::no_resource_table);
}

TEST_CASE("devmem needs a platform that maps device memory", "[lifecycle]") {
  using board_without_iommu = rproc::sim::basic_platform<rproc::sim::features{.maps_devmem = false}>;
  static_assert(!rproc::platform_maps_devmem<board_without_iommu>);
  constexpr auto table = rproc::make_table(
      rproc::rsc::devmem{.da = 0x40000000, .pa = 0x40000000, .len = 0x1000, .name = "regs"});
  auto board = std::make_unique<board_without_iommu>();
  REQUIRE(board->boot_loader_start(table, test::table_da));
  rproc::processor<board_without_iommu> proc(*board);
  auto t = std::move(proc.claim<rproc::detached>().value()).attach();
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().code == rproc::errc::devmem_unsupported);
  CHECK(t.error().entry == 0u);
  CHECK(t.error().offset == 20);

  auto mapping_board = booted_board();  // the default sim maps devmem
  auto board2 = std::make_unique<board_t>();
  REQUIRE(board2->boot_loader_start(table, test::table_da));
  proc_t proc2(*board2);
  auto ok = std::move(proc2.claim<rproc::detached>().value()).attach();
  REQUIRE(ok.has_value());
  CHECK(board2->stats().outstanding_devmem == 1);
  auto back = std::move(ok).value();
  auto done = std::move(back).detach().value();
  CHECK(board2->stats().outstanding_devmem == 0);
}

TEST_CASE("unknown and vendor entries: skipped with a warning, or handed to the platform",
          "[lifecycle]") {
  constexpr auto table = rproc::make_table(rproc::rsc::raw<4>{.type_id = 5, .body = {}},
                                           rproc::rsc::raw<4>{.type_id = 200, .body = {}});
  auto board = std::make_unique<board_t>();
  REQUIRE(board->boot_loader_start(table, test::table_da));
  proc_t proc(*board);
  auto attached = std::move(proc.claim<rproc::detached>().value()).attach().value();
  REQUIRE(proc.warnings().size() == 2);
  CHECK(proc.warnings()[0].code == rproc::errc::unknown_resource_type);
  CHECK(proc.warnings()[0].entry == 0u);
  CHECK(proc.warnings()[1].code == rproc::errc::vendor_resource_ignored);
  CHECK(proc.warnings()[1].entry == 1u);
  CHECK(board->stats().vendor_entries == 1);
  auto detached = std::move(attached).detach().value();

  const bool rejects = GENERATE(false, true);
  if (!rejects) {
    board->on_vendor_entry([](const rproc::vendor_entry& e) {
      return e.type_id() == 200 ? rproc::vendor_outcome::handled : rproc::vendor_outcome::failed;
    });
    auto again = std::move(detached).attach().value();
    REQUIRE(proc.warnings().size() == 1);  // a vendor entry the platform handles is no warning
    CHECK(proc.warnings()[0].code == rproc::errc::unknown_resource_type);
  } else {
    // A vendor entry the platform rejects fails the attach, which leaves nothing behind.
    board->on_vendor_entry([](const rproc::vendor_entry&) { return rproc::vendor_outcome::failed; });
    const auto before = test::bytes_of(board->firmware_table());
    auto refused = std::move(detached).attach();
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == rproc::errc::vendor_resource_failed);
    CHECK(refused.error().entry == 1u);
    CHECK(refused.error().offset == table.bytes.size() - 8);
    CHECK(test::bytes_of(board->firmware_table()) == before);
    CHECK(board->stats().prepares == board->stats().unprepares);
  }
}

TEST_CASE("fault injection: every failed transition leaves its documented state", "[lifecycle][faults]") {
  std::size_t transitions_failed = 0;
  SECTION("attach") {
    for (std::uint64_t k = 1;; ++k) {
      INFO("failing operation " << k);
      auto board = booted_board();
      proc_t proc(*board);
      const auto before = test::bytes_of(board->firmware_table());
      board->fail_operation(k);
      auto t = std::move(proc.claim<rproc::detached>().value()).attach();
      if (board->stats().faults_injected == 0) {
        REQUIRE(t.has_value());
        break;
      }
      REQUIRE_FALSE(t.has_value());
      ++transitions_failed;
      CHECK(proc.current_state() == rproc::state::detached);
      CHECK(board->stats().outstanding_allocations == 0);
      CHECK(board->stats().outstanding_devmem == 0);
      CHECK(proc.resources().empty());
      CHECK(proc.resources().notify_ids_in_use() == 0);
      CHECK(test::bytes_of(board->firmware_table()) == before);  // untouched
      CHECK(board->stats().prepares == board->stats().unprepares);
      // The handle came back detached, and attaching again works.
      board->fail_operation(0);
      auto retry = std::move(t).previous();
      const bool attached_on_retry = std::move(retry).attach().has_value();
      CHECK(attached_on_retry);
    }
  }
  SECTION("detach") {
    for (std::uint64_t k = 1;; ++k) {
      INFO("failing operation " << k);
      auto board = booted_board();
      proc_t proc(*board);
      auto attached = std::move(proc.claim<rproc::detached>().value()).attach().value();
      const auto held = test::bytes_of(board->firmware_table());
      const auto allocations = board->stats().outstanding_allocations;
      board->fail_operation(k);
      auto t = std::move(attached).detach();
      if (board->stats().faults_injected == 0) {
        REQUIRE(t.has_value());
        CHECK(board->table_is_original());
        break;
      }
      REQUIRE_FALSE(t.has_value());
      ++transitions_failed;
      CHECK(proc.current_state() == rproc::state::attached);
      CHECK(board->stats().outstanding_allocations == allocations);
      CHECK(test::bytes_of(board->firmware_table()) == held);  // as the host had it
      board->fail_operation(0);
      const bool detached_on_retry = std::move(t).previous().detach().has_value();
      CHECK(detached_on_retry);
      CHECK(board->table_is_original());
      CHECK(board->stats().outstanding_allocations == 0);
    }
  }
  SECTION("start") {
    const auto image = test::zephyr_image();
    for (std::uint64_t k = 1;; ++k) {
      INFO("failing operation " << k);
      auto board = std::make_unique<board_t>();
      board->set_firmware_table(image.table_da, image.table_bytes.size(), rproc::endian::little);
      proc_t proc(*board);
      board->fail_operation(k);
      auto t = std::move(proc.claim<rproc::offline>().value()).start(image);
      if (board->stats().faults_injected == 0) {
        REQUIRE(t.has_value());
        break;
      }
      REQUIRE_FALSE(t.has_value());
      ++transitions_failed;
      CHECK(proc.current_state() == rproc::state::offline);
      CHECK_FALSE(board->is_running());
      CHECK(board->stats().outstanding_allocations == 0);
      CHECK(board->stats().prepares == board->stats().unprepares);
    }
  }
  SECTION("stop") {
    const auto image = test::zephyr_image();
    for (std::uint64_t k = 1;; ++k) {
      INFO("failing operation " << k);
      auto board = std::make_unique<board_t>();
      board->set_firmware_table(image.table_da, image.table_bytes.size(), rproc::endian::little);
      proc_t proc(*board);
      auto running = std::move(proc.claim<rproc::offline>().value()).start(image).value();
      const auto held = test::bytes_of(board->firmware_table());
      board->fail_operation(k);
      auto t = std::move(running).stop();
      if (board->stats().faults_injected == 0) {
        REQUIRE(t.has_value());
        CHECK(board->stats().outstanding_allocations == 0);
        break;
      }
      REQUIRE_FALSE(t.has_value());
      ++transitions_failed;
      CHECK(proc.current_state() == rproc::state::running);
      CHECK(board->is_running());
      CHECK(test::bytes_of(board->firmware_table()) == held);
      CHECK(board->stats().outstanding_allocations == 3);
    }
  }
  CHECK(transitions_failed > 0);
}

TEST_CASE("one handle at a time, and only for the current state", "[lifecycle]") {
  auto board = booted_board();
  proc_t proc(*board);
  CHECK(proc.claim<rproc::offline>().error().code == rproc::errc::invalid_state);
  {
    auto handle = proc.claim<rproc::detached>().value();
    CHECK(proc.claim<rproc::detached>().error().code == rproc::errc::busy);
  }
  CHECK(proc.claim<rproc::detached>().has_value());  // given back when the handle went away
}

TEST_CASE("releasing the host detaches an attached remote, which keeps running", "[lifecycle]") {
  auto board = booted_board();
  {
    proc_t proc(*board);
    auto attached = std::move(proc.claim<rproc::detached>().value()).attach().value();
    REQUIRE(proc.current_state() == rproc::state::attached);
  }
  CHECK(board->is_running());
  CHECK(board->table_is_original());
  CHECK(board->stats().outstanding_allocations == 0);
  CHECK(board->firmware().detach_notices == 1);
}

TEMPLATE_TEST_CASE_SIG("an ELF image starts in its own class and byte order", "[lifecycle][elf]",
                       ((std::uint8_t Class, rproc::endian Order), Class, Order),
                       (rproc::elf::class32, rproc::endian::little),
                       (rproc::elf::class32, rproc::endian::big),
                       (rproc::elf::class64, rproc::endian::little),
                       (rproc::elf::class64, rproc::endian::big)) {
  using sample = fx::sample<Class, Order>;
  const auto file = test::bytes_of(sample::image);
  const auto image = rproc::read_elf(file).value();

  auto board = std::make_unique<board_t>();
  std::vector<std::byte> text(0x1000), table(0x1000), trace(0x1000);
  REQUIRE(board->add_window({fx::text_address, text.size(), text, false}));
  REQUIRE(board->add_window({fx::table_address, table.size(), table, false}));
  REQUIRE(board->add_window({0x20000, trace.size(), trace, false}));
  board->set_firmware_table(fx::table_address, fx::sample_table_size, Order);

  proc_t proc(*board);
  auto running = std::move(proc.claim<rproc::offline>().value()).start(image).value();
  CHECK(board->firmware().boot_address == fx::entry_point);
  // .text copied, then zero-filled to p_memsz.
  CHECK(text[0] == std::byte{1});
  CHECK(text[fx::text_size - 1] == std::byte{fx::text_size});
  CHECK(text[fx::text_size] == std::byte{0});
  // The host's values are in the firmware's table, in the image's byte order.
  const auto live = rproc::parse_table(std::span(table).first(fx::sample_table_size), Order).value();
  const auto vdev = live[0].template as<rproc::vdev_entry>().value();
  CHECK(vdev.vring(0).notifyid() == 0u);
  CHECK(vdev.vring(1).notifyid() == 1u);
  CHECK(vdev.vring(0).da() >= board_t::pool_base);
  CHECK(vdev.status() == 0x0F);
  CHECK_FALSE(rproc::parse_table(std::span(table).first(fx::sample_table_size),
                                 Order == rproc::endian::big ? rproc::endian::little
                                                             : rproc::endian::big));
  board->run_firmware();
  CHECK(board->firmware().phase == rproc::sim::firmware_phase::connected);
  auto offline = std::move(running).stop().value();
  CHECK(board->stats().outstanding_allocations == 0);
}

TEST_CASE("fault injection while starting an ELF image: nothing is loaded half", "[lifecycle][elf][faults]") {
  using sample = fx::sample<rproc::elf::class32, rproc::endian::little>;
  const auto file = test::bytes_of(sample::image);
  const auto image = rproc::read_elf(file).value();
  for (std::uint64_t k = 1;; ++k) {
    INFO("failing operation " << k);
    auto board = std::make_unique<board_t>();
    std::vector<std::byte> text(0x1000), table(0x1000), trace(0x1000);
    REQUIRE(board->add_window({fx::text_address, text.size(), text, false}));
    REQUIRE(board->add_window({fx::table_address, table.size(), table, false}));
    REQUIRE(board->add_window({0x20000, trace.size(), trace, false}));
    proc_t proc(*board);
    board->fail_operation(k);
    auto t = std::move(proc.claim<rproc::offline>().value()).start(image);
    if (board->stats().faults_injected == 0) {
      REQUIRE(t.has_value());
      break;
    }
    REQUIRE_FALSE(t.has_value());
    CHECK(proc.current_state() == rproc::state::offline);
    CHECK(board->stats().outstanding_allocations == 0);
    // Either both segments were loaded or neither.
    const bool text_loaded = text[0] == std::byte{1};
    const bool table_loaded = table[0] == std::byte{1};
    CHECK(text_loaded == table_loaded);
  }
}

static_assert(rproc::bootable_image<rproc::elf_image>);
static_assert(rproc::bootable_image<test::memory_image>);

TEST_CASE("a table whose host fields would reshape it is refused before any write",
          "[lifecycle]") {
  // Entry 1 is a vdev (with no vrings) whose type word is entry 0's carveout da: valid as the
  // format goes (entries may overlap), but the host's write of da would change entry 1's type.
  static constexpr auto base = rproc::make_table(
      rproc::rsc::carveout{.da = 3, .pa = 0x1000, .len = 0x1000, .name = ""},
      rproc::rsc::trace{.da = test::trace_da, .len = 16, .name = "t"});
  constexpr auto overlapping = [] {
    auto bytes = base.bytes;
    (void)rproc::mutable_byte_view(bytes, rproc::endian::little).write_u32(20, 28);  // offset[1]
    return bytes;
  }();
  static_assert(rproc::parse_table(overlapping)->operator[](1).kind() == rproc::entry_kind::vdev);
  static_assert(rproc::check_host_fields(*rproc::parse_table(overlapping)).error().code ==
                rproc::errc::entries_overlap);
  static_assert(rproc::check_host_fields(*rproc::parse_table(base)).has_value());
  // base is laid out entry after entry, so the check takes its short way; overlapping takes the
  // long one, as does a table whose disjoint entries are listed out of order.
  static_assert(rproc::detail::entries_in_sequence(*rproc::parse_table(base)));
  static_assert(!rproc::detail::entries_in_sequence(*rproc::parse_table(overlapping)));
  constexpr auto reversed = [] {
    auto bytes = base.bytes;
    rproc::mutable_byte_view view(bytes, rproc::endian::little);
    const auto first = view.u32(16).value(), second = view.u32(20).value();
    (void)view.write_u32(16, second);
    (void)view.write_u32(20, first);
    return bytes;
  }();
  static_assert(!rproc::detail::entries_in_sequence(*rproc::parse_table(reversed)));
  static_assert(rproc::check_host_fields(*rproc::parse_table(reversed)).has_value());
  std::size_t real_tables = 0;  // every corpus table that parses (all but TI omap4's old format)
  for (const auto& fixture : fixtures::all) {
    const auto parsed = rproc::parse_table(fixture.bytes);
    if (!parsed) continue;
    ++real_tables;
    INFO(fixture.name);
    CHECK(rproc::detail::entries_in_sequence(*parsed));
    CHECK(rproc::check_host_fields(*parsed).has_value());
  }
  CHECK(real_tables == 12);

  auto board = std::make_unique<board_t>();
  REQUIRE(board->boot_loader_start(overlapping, test::table_da));
  proc_t proc(*board);
  auto t = std::move(proc.claim<rproc::detached>().value()).attach();
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().code == rproc::errc::entries_overlap);
  CHECK(t.error().offset == 28);
  CHECK(t.error().entry == 0u);
  CHECK(board->table_is_original());
  CHECK(board->stats().outstanding_allocations == 0);
}

TEST_CASE("a firmware that reshapes its table while attached: detach still restores it",
          "[lifecycle][clean_copy]") {
  auto board = booted_board();
  proc_t proc(*board);
  auto attached = std::move(proc.claim<rproc::detached>().value()).attach().value();
  // The firmware writes garbage over its header: the live table no longer parses.
  for (std::size_t i = 0; i < 8; ++i) board->firmware_table()[i] = std::byte{0xEE};
  auto refused = std::move(attached).detach();
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == rproc::errc::table_changed_by_remote);
  CHECK(refused.error().offset == 0);
  auto detached =
      std::move(refused).previous().detach({rproc::on_remote_change::restore_anyway}).value();
  CHECK(rproc::parse_table(board->firmware_table()).has_value());
  CHECK(std::equal(board->firmware_table().begin(), board->firmware_table().end(),
                   test::zephyr_table.begin()));
  CHECK(board->stats().outstanding_allocations == 0);
}
