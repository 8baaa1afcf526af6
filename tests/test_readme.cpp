// The README's tour, compiled and run. Each region between "// [readme:NAME]" and
// "// [/readme:NAME]" must equal the README's ```cpp block under <!-- snippet: NAME -->
// (checked by tests/readme_snippets.cmake).
#include <rproc/coredump.hpp>
#include <rproc/fmt.hpp>
#include <rproc/rproc.hpp>
#include <rproc/posix/mapped_platform.hpp>
#include <rproc/rpmsg_firmware.hpp>
#include <rproc/rpmsg_host.hpp>
#include <rproc/sim.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <span>
#include <memory>
#include <string>
#include <vector>

#include "elf_writer.hpp"

// [readme:build]
namespace rsc = rproc::rsc;

// One rpmsg vdev with two vrings the host places, and a trace buffer: checked at compile time.
constexpr auto zephyr_table = rproc::make_table(
    rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = 1}.with_vrings(
        rsc::vring{.align = 16, .num = 8, .notifyid = 0},
        rsc::vring{.align = 16, .num = 8, .notifyid = 1}),
    rsc::trace{.da = 0x20008000, .len = 2048, .name = "Zephyr_log"});
static_assert(sizeof(zephyr_table) == 140);
static_assert(rproc::parse_table(zephyr_table)->num() == 2);

// Where the loader puts it; not const, because the host writes into it while the firmware runs.
[[gnu::section(".resource_table"), gnu::used]] constinit auto resource_table = zephyr_table;
// [/readme:build]

namespace {

int parse_example(std::span<const std::byte> bytes) {
  // [readme:parse]
  const auto parsed = rproc::parse_table(bytes, rproc::endian::little);
  if (!parsed) {
    std::printf("%s\n", rproc::message(parsed.error()).c_str());
    return 1;
  }
  for (const rproc::resource_entry entry : *parsed) {
    entry.visit(rproc::overloaded{
        [](const rproc::vdev_entry& vdev) {
          for (const auto vring : vdev.vrings())
            std::printf("vring %u: da %#x, %u descriptors\n", vring.index(), vring.da(), vring.num());
        },
        [](const rproc::trace_entry& trace) {
          std::printf("trace \"%.*s\"\n", int(trace.name().size()), trace.name().data());
        },
        [](const auto& other) { std::printf("%s entry\n", rproc::to_string(other.kind).data()); }});
  }
  for (const rproc::warning& w : parsed->warnings()) std::printf("%s\n", rproc::message(w).c_str());
  // [/readme:parse]
  return 0;
}

}  // namespace

TEST_CASE("README: build and parse", "[readme]") {
  CHECK(parse_example(resource_table) == 0);
  auto broken = std::vector<std::byte>(resource_table.begin(), resource_table.end());
  broken[24 + 28 + 8] = std::byte{0};  // vring 0's num
  CHECK(parse_example(broken) == 1);

  // [readme:errors]
  const auto bad = rproc::parse_table(broken);
  CHECK(bad.error().code == rproc::errc::vring_invalid);
  CHECK(bad.error().offset == 60);  // the byte offset of the faulty field: vring 0's num
  CHECK(bad.error().entry == 0u);   // the entry at fault
  CHECK(rproc::message(bad.error()).view() ==
        "entry 0: vring_invalid at offset 0x3c: a vring has num 0 or align 0 (found 0x0)");
  // [/readme:errors]
}

TEST_CASE("README: the host writes through a mutable view", "[readme]") {
  std::vector<std::byte> live(resource_table.begin(), resource_table.end());
  // [readme:live]
  auto table = rproc::parse_mutable_table(live, rproc::endian::little).value();
  if (auto vdev = table[0].as<rproc::mutable_vdev_entry>()) {
    vdev->vring(0).set_da(0x10040000);
    vdev->vring(0).set_notifyid(0);
    vdev->set_status(rproc::virtio::status_driver_ok);
  }
  // [/readme:live]
  CHECK(rproc::parse_table(live)->operator[](0).as<rproc::vdev_entry>()->vring(0).da() ==
        0x10040000u);
}

TEST_CASE("README: attach, detach, re-attach", "[readme]") {
  auto owned = std::make_unique<rproc::sim::platform>();
  auto& board = *owned;
  REQUIRE(board.boot_loader_start(resource_table, 0x20000100));
  // [readme:lifecycle]
  rproc::processor<rproc::sim::platform> proc(board);  // finds the core running: detached
  auto detached = proc.claim<rproc::detached>().value();

  auto attaching = std::move(detached).attach();     // clean copy, resources, DRIVER_OK
  if (!attaching) {
    fmt::print("attach failed: {}\n", attaching.error());
    detached = std::move(attaching).previous();      // still detached, nothing held
  } else {
    auto attached = std::move(attaching).value();    // rproc::remote<platform, rproc::attached>
    auto again = std::move(attached).detach();       // clean copy written back, core runs on
    detached = std::move(again).value();             // `attached` is spent: clang-tidy's
                                                     // bugprone-use-after-move flags any reuse
  }
  // [/readme:lifecycle]
  CHECK(board.table_is_original());
  CHECK(proc.current_state() == rproc::state::detached);
}

// [readme:platform]
class my_board {
 public:
  static constexpr std::uint64_t ram_da = 0x10000000;
  my_board(std::span<std::byte> ram, std::uint64_t table_da, std::size_t table_size)
      : ram_(ram), table_da_(table_da), table_size_(table_size) {}

  // Required: the host's view of device memory, allocation and release.
  std::span<std::byte> da_to_va(std::uint64_t da, std::size_t len) {
    if (da < ram_da || da - ram_da > ram_.size() || len > ram_.size() - (da - ram_da)) return {};
    return ram_.subspan(static_cast<std::size_t>(da - ram_da), len);
  }
  rproc::result<rproc::memory_region> allocate(const rproc::allocation_request& r) {
    std::uint64_t da = r.da;  // a fixed address is honoured or refused
    if (da == rproc::fw_rsc_addr_any) da = rproc::round_up(next_free_, r.align);
    const auto va = da_to_va(da, r.len);
    if (va.size() < r.len) return rproc::error{rproc::errc::address_unavailable, 0, {}, da};
    if (r.da == rproc::fw_rsc_addr_any) next_free_ = da + r.len;
    ++allocated_;
    const auto da32 = static_cast<std::uint32_t>(da);
    return rproc::memory_region{da32, da32, r.len, va};
  }
  void release(const rproc::memory_region&) noexcept {
    if (--allocated_ == 0) next_free_ = ram_da + 0x8000;  // above the firmware's own 32 KiB
  }

  // Optional: each one brings the transitions that need it.
  bool is_running() const { return true; }  // the boot loader started the core
  rproc::result<rproc::mutable_located_table> loaded_table() {
    return rproc::mutable_located_table{da_to_va(table_da_, table_size_), rproc::endian::little,
                                        table_da_, std::nullopt};
  }
  rproc::result<void> detach() { return {}; }  // tell the firmware (a mailbox message, ...)

 private:
  std::span<std::byte> ram_;
  std::uint64_t table_da_;
  std::size_t table_size_;
  std::uint64_t next_free_ = ram_da + 0x8000;
  std::size_t allocated_ = 0;
};
static_assert(rproc::check_platform<my_board>());  // names any operation with a wrong signature
// [/readme:platform]

TEST_CASE("README: a platform of one's own attaches and detaches cleanly", "[readme]") {
  constexpr std::uint64_t table_da = my_board::ram_da + 0x100;
  std::vector<std::byte> ram(256 * 1024);
  std::copy(resource_table.begin(), resource_table.end(), ram.begin() + 0x100);
  const std::vector<std::byte> firmwares(resource_table.begin(), resource_table.end());
  // The trace buffer the table names lies in the firmware's RAM at 0x20008000: not on this board.
  my_board board(ram, table_da, resource_table.size());
  rproc::processor<my_board> proc(board);
  REQUIRE(proc.current_state() == rproc::state::detached);
  auto refused = std::move(proc.claim<rproc::detached>().value()).attach();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == rproc::errc::trace_not_mapped);
  CHECK(std::equal(firmwares.begin(), firmwares.end(), ram.begin() + 0x100));

  auto traced = firmwares;  // the same table with its trace buffer in the board's RAM
  const std::size_t trace_da =
      rproc::parse_table(traced)->offset(1) + rproc::layout::trace::da.offset;
  REQUIRE(rproc::basic_byte_view<std::byte>(traced, rproc::endian::little)
              .write_u32(trace_da, 0x10004000));
  std::copy(traced.begin(), traced.end(), ram.begin() + 0x100);
  auto attaching = std::move(refused).previous().attach();
  REQUIRE(attaching);
  const auto table = proc.current_table().value();
  const auto vdev = table[0].as<rproc::vdev_entry>().value();
  CHECK(vdev.vring(0).da() == my_board::ram_da + 0x8000);  // the first vring, page-rounded
  CHECK(vdev.vring(1).da() == my_board::ram_da + 0x9000);
  CHECK(vdev.status() == 0xF);  // ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK
  auto detaching = std::move(attaching).value().detach();
  REQUIRE(detaching);
  CHECK(std::equal(traced.begin(), traced.end(), ram.begin() + 0x100));
}

TEST_CASE("README: the runtime machine", "[readme]") {
  using board_t = rproc::sim::basic_platform<rproc::sim::features{.attach_on_recovery = true}>;
  auto owned = std::make_unique<board_t>();
  auto& board = *owned;
  REQUIRE(board.boot_loader_start(resource_table, 0x20000100));
  // [readme:machine]
  rproc::machine<board_t> remote(board);  // a board that recovers a crash by detach + attach
  if (auto r = remote.command("start"); !r) fmt::print("{}\n", r.error());   // attaches
  CHECK(remote.current_state() == rproc::state::attached);                  // Linux's 5
  CHECK(remote.command("start").error().code == rproc::errc::busy);
  remote.set_recovery(rproc::recovery_mode::disabled);        // Linux's default: enabled
  CHECK(remote.report_crash(rproc::crash_reason::watchdog).has_value());     // state 3
  CHECK(remote.processor().last_crash()->reason == rproc::crash_reason::watchdog);
  CHECK(remote.recover().has_value());
  CHECK(remote.current_state() == rproc::state::attached);
  // [/readme:machine]
}

// [readme:mapped]
// The remote sees a UIO device's memory at 0x21000000: its first MiB is the firmware's, the
// second is set aside for the host's carveouts and vrings.
int attach_to_running_firmware(const std::string& uio, const std::string& image) {
  auto memory = rproc::posix::device_memory::map({
      {.da = 0x21000000, .size = 0x100000, .file = uio},
      {.da = 0x21100000, .size = 0x100000, .file = uio, .file_offset = 0x100000,
       .allocatable = true}});
  if (!memory) return std::printf("%s\n", memory.error().message().c_str()), 2;
  auto table = rproc::posix::table_from_elf_file(image);  // its .resource_table section
  if (!table) return std::printf("%s\n", table.error().message().c_str()), 2;
  auto mailbox = rproc::posix::shared_memory_mailbox::at(*memory, 0x21000800);  // or your own
  if (!mailbox) return std::printf("%s\n", mailbox.error().message().c_str()), 2;
  rproc::posix::mapped_platform board(std::move(*memory), std::move(*table), std::move(*mailbox));

  rproc::processor proc(board);  // detached: a boot loader started the core
  auto attaching = proc.claim<rproc::detached>().value().attach();
  if (!attaching) return std::printf("%s\n", board.last_failure().c_str()), 1;
  auto detached = std::move(attaching).value().detach();  // acknowledged by the firmware
  return detached ? 0 : 1;
}
// [/readme:mapped]

TEST_CASE("README: a platform over mapped device memory says which file it cannot map", "[readme]") {
  CHECK(attach_to_running_firmware("/nonexistent/uio0", "/nonexistent/fw.elf") == 2);
}

TEST_CASE("README: a coredump of a running remote", "[readme]") {
  auto owned = std::make_unique<rproc::sim::platform>();
  auto& board = *owned;
  std::vector<std::byte> low_memory(0x2000);
  REQUIRE(board.add_window({0x1000, low_memory.size(), low_memory, true}));
  const auto elf_bytes = fx::make_image(zephyr_table);
  const rproc::elf_image image = rproc::read_elf(elf_bytes).value();
  rproc::processor<rproc::sim::platform> proc(board);
  REQUIRE(std::move(proc.claim<rproc::offline>().value()).start(image).has_value());
  // [readme:coredump]
  rproc::dump_plan plan;
  plan.add_resources(proc);   // carveouts and vrings allocated, devmem mapped
  plan.add_segments(image);   // the image's PT_LOAD segments (each byte once)
  std::vector<std::byte> core;
  auto written = rproc::write_coredump(
      rproc::core_format_of(image), plan.regions(),
      [&](std::uint64_t da, std::size_t len) { return std::span<const std::byte>(board.da_to_va(da, len)); },
      [&](std::span<const std::byte> bytes) { core.insert(core.end(), bytes.begin(), bytes.end()); return true; });
  CHECK(written->left_out == 0);
  // [/readme:coredump]
  CHECK(written->segments == 4);  // two vrings, two segments
}

namespace {

// A doorbell between the two sides; any platform with kick(notifyid) will do.
struct mailbox {
  std::uint32_t kicks = 0;
  rproc::result<void> kick(std::uint32_t) noexcept {
    ++kicks;
    return {};
  }
};

}  // namespace

TEST_CASE("README: rpmsg, both ends in one process", "[readme]") {
  std::vector<std::byte> memory(0x4000);  // the shared memory, as both sides map it here
  const std::span<std::byte> shared = memory;
  mailbox host_mailbox, firmware_mailbox;
  std::size_t echoed = 0;
  const std::vector<std::byte> hello(5, std::byte{'h'});
  // [readme:rpmsg]
  using rproc::vring_config;
  const rproc::rpmsg::bus_config config{
      .vrings = {vring_config{.index = 0, .da = 0x10040000, .num = 8, .align = 16, .notifyid = 0},
                 vring_config{.index = 1, .da = 0x10041000, .num = 8, .align = 16, .notifyid = 1}},
      .rings = {0x10040000, shared},                    // where the vrings lie, as mapped here
      .buffers = {0x10042000, shared.subspan(0x2000)},  // the host's 2 x 8 buffers of 512 bytes
      .features = rproc::rpmsg::feature_name_service,   // the vdev's gfeatures
  };

  // The firmware: an echo endpoint, announced to the host at every attach.
  rproc::rpmsg::firmware_bus<mailbox> firmware(firmware_mailbox);
  auto echo = [&](const rproc::rpmsg::message& m) { (void)firmware.send(m.dst, m.src, m.payload); };
  REQUIRE(firmware.create_endpoint("rpmsg-echo", echo));

  // The host: fresh rings and vring 0 full of empty buffers, before it sets DRIVER_OK.
  rproc::rpmsg::host_bus<mailbox> host(host_mailbox);
  auto back = [&](const rproc::rpmsg::message& m) { echoed += m.payload.size(); };
  const std::uint32_t me = host.create_endpoint("", back).value();
  REQUIRE(host.attach(config));
  REQUIRE(firmware.attach(config));  // once it sees DRIVER_OK; it sends its announcement
  REQUIRE(host.poll().value() == 1);  // the announcement: a channel "rpmsg-echo"
  const std::uint32_t echo_address = host.channel_address("rpmsg-echo").value();
  REQUIRE(host.send(me, echo_address, hello));  // and a kick with vring 1's notify id
  REQUIRE(firmware.poll().value() == 1);         // on that kick: receives, echoes on vring 0
  REQUIRE(host.poll().value() == 1);             // the echo
  CHECK(echoed == 5);

  // At a detach both sides forget their rings; the next attach starts again from index 0.
  host.detach();
  firmware.detach();
  // [/readme:rpmsg]
  CHECK(host_mailbox.kicks == 3);  // a send, and two polls giving buffers back
  CHECK(firmware_mailbox.kicks == 3);  // two sends, and a poll giving a buffer back
}
