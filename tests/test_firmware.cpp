// The firmware side: a vdev_link over a table that a simulated host writes as SPEC section 3
// says (notify ids, vring da, gfeatures, the status steps up to DRIVER_OK), then detaches from
// as section 4 says (status reset, the clean copy written back), then attaches again.
#include <rproc/builder.hpp>
#include <rproc/firmware.hpp>
#include <rproc/table.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

#include "support.hpp"

namespace {

namespace rsc = rproc::rsc;
namespace fw = rproc::firmware;
using fw::link_event;
using rproc::fw_rsc_addr_any;

// A vdev_link reads the firmware's own byte order; the tables here are make_table's default.
static_assert(rproc::endian::native == rproc::endian::little,
              "these tests build little-endian tables for a link in the host's byte order");

// vdev at 24 (status at 48, vrings at 52 and 72), trace at 92; 140 bytes.
template <rproc::endian Order = rproc::endian::little>
consteval auto firmware_table() {
  return rproc::make_table<rproc::table_options{.order = Order}>(
      rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = 1}.with_vrings(
          rsc::vring{.align = 16, .num = 8}, rsc::vring{.align = 16, .num = 8}),
      rsc::trace{.da = 0x20001000, .len = 1024, .name = "fw_log"});
}
constexpr auto original = firmware_table();
static_assert(original.size() == 140);
static_assert(rproc::parse_table(original.bytes).has_value());
constexpr std::size_t status_at = 48, vring0_da = 52, vring1_notifyid = 84;

// A host's virtio driver, one write per step, in Linux's order: notify ids (resource handling),
// features, then the status bits, the vrings set up (da) before DRIVER_OK.
struct simulated_host {
  std::span<std::byte> live;
  std::uint32_t ring_base = 0x20100000;
  std::uint32_t first_notifyid = 0;
  rproc::endian order = rproc::endian::little;
  int step = 0;

  rproc::mutable_vdev_entry vdev() const {
    const auto table = rproc::parse_mutable_table(live, order);
    REQUIRE(table);
    const auto v = (*table)[0].as<rproc::mutable_vdev_entry>();
    REQUIRE(v);
    return *v;
  }
  // One more write; false once DRIVER_OK is set.
  bool advance() {
    const auto v = vdev();
    switch (step++) {
      case 0:
        v.vring(0).set_notifyid(first_notifyid);
        v.vring(1).set_notifyid(first_notifyid + 1);
        return true;
      case 1: v.set_status(rproc::virtio::status_acknowledge); return true;
      case 2:
        v.set_status(rproc::virtio::status_acknowledge | rproc::virtio::status_driver);
        return true;
      case 3: v.set_gfeatures(1); return true;
      case 4:
        v.set_status(rproc::virtio::status_acknowledge | rproc::virtio::status_driver |
                     rproc::virtio::status_features_ok);
        return true;
      case 5:
        v.vring(0).set_da(ring_base);
        v.vring(1).set_da(ring_base + 0x4000);
        return true;
      case 6:
        v.set_status(v.status() | rproc::virtio::status_driver_ok);
        return false;
      default: return false;
    }
  }
  void attach() {
    while (advance()) {
    }
  }
  void reset() const { vdev().set_status(0); }
  // SPEC section 4's detach: reset, then the clean copy over the live table.
  void detach(std::span<const std::byte> clean) {
    reset();
    std::copy(clean.begin(), clean.end(), live.begin());
    step = 0;
  }
};

struct counting_delay {
  int* calls;
  void operator()() const { ++*calls; }
};

TEST_CASE("at boot nothing is attached and a wait times out after the polls given") {
  auto live = original;
  fw::vdev_link link(live, original);
  CHECK(link.poll() == link_event::none);
  CHECK_FALSE(link.attached());

  int delays = 0;
  CHECK(link.wait_attached(fw::poll_limit(3, counting_delay{&delays})) == link_event::timed_out);
  CHECK(delays == 3);
  CHECK(link.wait_attached(fw::poll_limit(0)) == link_event::timed_out);
}

TEST_CASE("wait_attached returns once the host sets DRIVER_OK, with what it assigned") {
  auto live = original;
  fw::vdev_link link(live, original);
  simulated_host host{live.bytes};

  int polls = 0;
  // The host makes one write each time the firmware waits: DRIVER_OK is the 7th.
  const auto event = link.wait_attached([&] {
    ++polls;
    host.advance();
    return polls > 100;
  });
  REQUIRE(event == link_event::attached);
  CHECK(polls == 7);
  CHECK(link.attached());

  const auto& a = link.assignment();
  CHECK(a.num_of_vrings == 2);
  CHECK(a.gfeatures == 1);
  CHECK(a.vdev_notifyid == 0);
  CHECK(a.status == 0x0F);
  CHECK(a.vrings[0] == fw::vring_assignment{0x20100000, 16, 8, 0});
  CHECK(a.vrings[1] == fw::vring_assignment{0x20104000, 16, 8, 1});

  CHECK(link.poll() == link_event::none);
  CHECK(link.wait_attached(fw::poll_limit(0)) == link_event::attached);
}

TEST_CASE("the status steps before DRIVER_OK do not attach") {
  auto live = original;
  fw::vdev_link link(live, original);
  simulated_host host{live.bytes};
  for (int i = 0; i < 6; ++i) {
    host.advance();
    CHECK(link.poll() == link_event::none);
  }
  host.advance();
  CHECK(link.poll() == link_event::attached);
}

TEST_CASE("a detach (reset, clean copy written back) is seen, then a second attach") {
  auto live = original;
  fw::vdev_link link(live, original);
  simulated_host host{live.bytes};
  host.attach();
  REQUIRE(link.poll() == link_event::attached);

  SECTION("status reset alone") {
    host.reset();
    CHECK(link.poll() == link_event::detached);
  }
  SECTION("status reset and the table restored") {
    host.detach(original.bytes);
    CHECK(live == original);
    CHECK(link.poll() == link_event::detached);
  }
  CHECK_FALSE(link.attached());
  CHECK(link.poll() == link_event::none);
  CHECK(link.wait_attached(fw::poll_limit(2)) == link_event::timed_out);

  simulated_host second{live.bytes, 0x20200000, 0};
  second.attach();
  REQUIRE(link.poll() == link_event::attached);
  CHECK(link.assignment().vrings[0].da == 0x20200000);
  CHECK(link.assignment().vrings[1].da == 0x20204000);
  CHECK(link.assignment().vrings[1].notifyid == 1);
}

TEST_CASE("a restore that leaves DRIVER_OK in the original bytes still reads as a detach") {
  // A firmware built with status DRIVER_OK (no real one is): only the restore tells.
  constexpr auto odd = rproc::make_table(
      rsc::vdev{.id = rproc::virtio::id_rpmsg, .status = rproc::virtio::status_driver_ok}
          .with_vrings(rsc::vring{.align = 16, .num = 8}));
  auto live = odd;
  fw::vdev_link link(live, odd);
  CHECK(link.poll() == link_event::none);  // the firmware's own bytes are not the host's
  const auto v = (*rproc::parse_mutable_table(live.bytes))[0].as<rproc::mutable_vdev_entry>();
  v->vring(0).set_da(0x20100000);
  CHECK(link.poll() == link_event::attached);
  live = odd;
  CHECK(link.poll() == link_event::detached);
}

TEST_CASE("without the original bytes the status reset is what tells a detach") {
  auto live = original;
  fw::vdev_link link(live);
  simulated_host host{live.bytes};
  host.attach();
  REQUIRE(link.poll() == link_event::attached);
  host.detach(original.bytes);
  CHECK(link.poll() == link_event::detached);
}

TEST_CASE("a detach and a new attach between two polls read as detached, then attached") {
  auto live = original;
  fw::vdev_link link(live, original);
  simulated_host host{live.bytes};
  host.attach();
  REQUIRE(link.poll() == link_event::attached);

  host.detach(original.bytes);
  simulated_host second{live.bytes, 0x20300000, 0};
  second.attach();
  CHECK(link.poll() == link_event::detached);
  CHECK(link.poll() == link_event::attached);
  CHECK(link.assignment().vrings[0].da == 0x20300000);
}

TEST_CASE("after a detach notification the old DRIVER_OK does not attach again") {
  auto live = original;
  fw::vdev_link link(live, original);
  simulated_host host{live.bytes};
  host.attach();
  REQUIRE(link.poll() == link_event::attached);

  link.detach_notified();  // before the host's writes are visible
  CHECK_FALSE(link.attached());
  CHECK(link.poll() == link_event::none);
  CHECK(link.poll() == link_event::none);
  host.detach(original.bytes);
  CHECK(link.poll() == link_event::none);
  simulated_host second{live.bytes, 0x20400000, 0};
  second.attach();
  CHECK(link.poll() == link_event::attached);
  CHECK(link.assignment().vrings[0].da == 0x20400000);
}

TEST_CASE("a firmware that starts after the host set DRIVER_OK attaches at once") {
  auto live = original;
  simulated_host host{live.bytes};
  host.attach();
  fw::vdev_link link(live, original);
  CHECK(link.wait_attached(fw::poll_limit(0)) == link_event::attached);
}

TEST_CASE("FAILED next to DRIVER_OK is not ready") {
  CHECK(fw::driver_ready(0x0F));
  CHECK_FALSE(fw::driver_ready(0x0B));
  CHECK_FALSE(fw::driver_ready(0x8F));
  CHECK_FALSE(fw::driver_ready(0));
}

TEST_CASE("deadline gives up after its ticks, across a wrap of the counter") {
  std::uint16_t clock = 0xFFF0;
  int idles = 0;
  fw::deadline expired([&] { return clock; }, std::uint16_t{0x20}, [&] {
    ++idles;
    clock = static_cast<std::uint16_t>(clock + 8);
  });
  int looks = 0;
  while (!expired()) ++looks;
  CHECK(looks == 4);
  CHECK(idles == 4);
  CHECK(clock == 0x0010);

  auto live = original;
  fw::vdev_link link(live, original);
  std::uint32_t ticks = 0;
  CHECK(link.wait_attached(fw::deadline([&] { return ticks++; }, 10u)) == link_event::timed_out);
}

TEST_CASE("forever waits until the host comes") {
  auto live = original;
  fw::vdev_link link(live, original);
  simulated_host host{live.bytes};
  host.attach();
  CHECK(link.wait_attached(fw::forever{}) == link_event::attached);
}

TEST_CASE("a table that no longer parses, or has no such vdev, is reported") {
  auto live = original;
  fw::vdev_link link(live, original);
  REQUIRE(rproc::mutable_byte_view(live.bytes, rproc::endian::little).write_u32(0, 2));
  CHECK(link.poll() == link_event::bad_table);
  CHECK(link.last_error().code == rproc::errc::unsupported_version);
  CHECK(link.wait_attached(fw::forever{}) == link_event::bad_table);

  auto live2 = original;
  fw::vdev_link second_vdev(live2, original, {.vdev = 1});
  CHECK(second_vdev.poll() == link_event::no_vdev);
  CHECK(second_vdev.wait_attached(fw::forever{}) == link_event::no_vdev);
}

TEST_CASE("the link follows the vdev it was given, among several") {
  constexpr auto two = rproc::make_table(
      rsc::trace{.da = 0x1000, .len = 64, .name = "log"},
      rsc::vdev{.notifyid = 0}.with_vrings(rsc::vring{.align = 16, .num = 8}),
      rsc::vdev{.notifyid = 1}.with_vrings(rsc::vring{.align = 16, .num = 8}));
  auto live = two;
  fw::vdev_link first(live, two);
  fw::vdev_link second(live, two, {.vdev = 1});
  const auto table = *rproc::parse_mutable_table(live.bytes);
  const auto v1 = *table[2].as<rproc::mutable_vdev_entry>();
  v1.vring(0).set_da(0x5000);
  v1.set_status(0x0F);
  CHECK(first.poll() == link_event::none);
  CHECK(second.poll() == link_event::attached);
  CHECK(second.assignment().vdev_notifyid == 1);
  CHECK(second.assignment().vrings[0].da == 0x5000);
  CHECK(second.shared().copy()[0] == std::byte{1});
}

TEST_CASE("a big-endian table is read in its own byte order") {
  constexpr auto big = firmware_table<rproc::endian::big>();
  auto live = big;
  fw::vdev_link<big.size(), rproc::endian::big> link(live, big);
  simulated_host host{live.bytes, 0x20100000, 0, rproc::endian::big};
  host.attach();
  CHECK(live.bytes[status_at] == std::byte{0x0F});
  CHECK(live.bytes[vring0_da] == std::byte{0x20});  // most significant byte first
  CHECK(live.bytes[vring1_notifyid + 3] == std::byte{1});
  REQUIRE(link.poll() == link_event::attached);
  CHECK(link.assignment().vrings[0].da == 0x20100000);
  CHECK(link.assignment().vrings[1].notifyid == 1);
}

TEST_CASE("a table whose size and byte order are known at run time", "[firmware]") {
  // As a simulated remote holds it: somewhere in a larger memory, its order a run-time value.
  constexpr auto big = firmware_table<rproc::endian::big>();
  std::array<std::byte, 512> memory{};
  std::copy(big.begin(), big.end(), memory.begin() + 100);
  const std::span<std::byte> live = std::span(memory).subspan(100, big.size());
  std::array<std::byte, 256> copy{};
  using run_time_link = fw::vdev_link<std::dynamic_extent, rproc::dynamic_endian>;
  static_assert(run_time_link::known_at_run_time);
  run_time_link link(live, rproc::endian::big, copy, big.bytes);
  CHECK(link.poll() == link_event::none);
  CHECK(link.shared().copy().size() == big.size());  // the table's bytes, not the whole buffer
  CHECK(link.shared().order() == rproc::endian::big);

  simulated_host host{live, 0x20100000, 0, rproc::endian::big};
  host.attach();
  REQUIRE(link.poll() == link_event::attached);
  CHECK(link.assignment().vrings[0].da == 0x20100000);
  CHECK(link.assignment().vrings[1].notifyid == 1);
  std::copy(big.begin(), big.end(), live.begin());  // the host restores the table
  CHECK(link.poll() == link_event::detached);
  CHECK(memory[99] == std::byte{0});  // nothing outside the table was touched
  CHECK(memory[100 + big.size()] == std::byte{0});
}

TEST_CASE("the helpers are constant expressions and the words are what the host wrote") {
  constexpr auto table = *rproc::parse_table(original.bytes);
  constexpr auto vdev = fw::find_vdev(table, 0);
  static_assert(vdev.has_value() && vdev->offset() == 24);
  static_assert(!fw::find_vdev(table, 1).has_value());
  constexpr auto a = fw::read_assignment(*vdev);
  static_assert(a.vrings[0] == fw::vring_assignment{fw_rsc_addr_any, 16, 8, 0});
  static_assert(a.vrings[1].notifyid == 0 && a.status == 0);
  static_assert(fw::to_string(link_event::detached) == "detached");
  CHECK(a.num_of_vrings == 2);
}

}  // namespace
