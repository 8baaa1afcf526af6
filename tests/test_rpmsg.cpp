// rpmsg with both ends in one process over one block of shared memory, stepped on one thread:
// the header and name service bytes as Linux and OpenAMP lay them out, an echo of many messages
// of varying length, re-attach (fresh rings, indices from 0, the announcement sent again), both
// byte orders, and every fault a misbehaving other side can cause.
#include <rproc/builder.hpp>
#include <rproc/firmware.hpp>
#include <rproc/lifecycle.hpp>
#include <rproc/rpmsg.hpp>
#include <rproc/rpmsg_firmware.hpp>
#include <rproc/rpmsg_host.hpp>
#include <rproc/sim.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "error_check.hpp"
#include "rpmsg_support.hpp"

namespace {

using rproc::endian;
using rproc::errc;
namespace rpmsg = rproc::rpmsg;

template <std::size_t N>
constexpr std::array<std::byte, N> bytes_of(const std::array<int, N>& values) {
  std::array<std::byte, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::byte>(values[i]);
  return out;
}

// The header of an announcement from endpoint 0x400 to 53: src, dst, reserved, len 40, flags.
constexpr rpmsg::header announcing{0x400, 53, 0, 40, 0};
static_assert(rpmsg::encode(announcing, endian::little) ==
              bytes_of<16>({0x00, 0x04, 0, 0, 0x35, 0, 0, 0, 0, 0, 0, 0, 0x28, 0, 0, 0}));
static_assert(rpmsg::encode(announcing, endian::big) ==
              bytes_of<16>({0, 0, 0x04, 0x00, 0, 0, 0, 0x35, 0, 0, 0, 0, 0, 0x28, 0, 0}));
static_assert(rpmsg::decode_header(rpmsg::encode(announcing, endian::big), endian::big) ==
              announcing);
static_assert(rpmsg::encode(rpmsg::header{1, 2, 3, 0x1234, 0x5678}, endian::little)[12] ==
              std::byte{0x34});

constexpr rpmsg::announcement echo_created{{'r', 'p', 'm', 's', 'g', '-', 'e', 'c', 'h', 'o'},
                                           0x400, rpmsg::announcement_kind::create};
static_assert(rpmsg::encode(echo_created, endian::little) ==
              bytes_of<40>({'r', 'p', 'm', 's', 'g', '-', 'e', 'c', 'h', 'o', 0, 0, 0, 0,
                            0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0, 0, 0, 0,
                            0,   0,   0,   0,   0,   4,   0,   0,   0,   0,   0, 0}));
static_assert(
    rpmsg::encode(rpmsg::announcement{{'a'}, 0x12345678, rpmsg::announcement_kind::destroy},
                  endian::big) ==
    bytes_of<40>({'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    0,    0,    0,    0, 0, 0, 0,
                  0,   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1}));
static_assert(rpmsg::decode_announcement(rpmsg::encode(echo_created, endian::big), endian::big)
                  ->name_view() == "rpmsg-echo");
static_assert(rpmsg::decode_announcement(bytes_of<40>({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                       0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0}),
                                         endian::little)
                  .error() == rproc::error{errc::rpmsg_announcement_invalid, 36, {}, 2});

// A host and a firmware over one shared block, each with its own kicks.
template <rpmsg::limits Limits = rpmsg::limits{}>
struct bus_pair {
  explicit bus_pair(endian o = endian::little, std::uint32_t num = 8,
                    std::uint32_t features = rpmsg::feature_name_service)
      : memory(num), order(o), config(memory.config(o, features)) {}

  void attach() {
    REQUIRE(host.attach(config));     // before DRIVER_OK
    REQUIRE(firmware.attach(config)); // once the firmware sees DRIVER_OK
  }
  void detach() {
    host.detach();
    firmware.detach();
  }

  test::rpmsg_memory memory;
  endian order;
  rpmsg::bus_config config;
  test::counted_kicks host_kicks, firmware_kicks;
  rpmsg::host_bus<test::counted_kicks, Limits> host{host_kicks};
  rpmsg::firmware_bus<test::counted_kicks, Limits> firmware{firmware_kicks};
};

// What a host endpoint received.
struct inbox {
  std::vector<std::vector<std::byte>> payloads;
  std::vector<std::uint32_t> sources;
  void operator()(const rpmsg::message& m) {
    payloads.emplace_back(m.payload.begin(), m.payload.end());
    sources.push_back(m.src);
  }
};

// The firmware's echo service: each message goes back to where it came from.
template <class Firmware>
struct echo_service {
  Firmware* firmware = nullptr;
  std::uint32_t failures = 0;
  void operator()(const rpmsg::message& m) {
    if (!firmware->send(m.dst, m.src, m.payload)) ++failures;
  }
};

struct announcements {
  std::vector<rpmsg::announcement> seen;
  void operator()(const rpmsg::announcement& a) { seen.push_back(a); }
};

void check_fault(const rproc::error& e, errc code, std::optional<std::uint32_t> ring,
                 std::size_t offset, std::uint64_t value) {
  CHECK(e == rproc::error{code, offset, ring, value});
}

}  // namespace

TEST_CASE("the firmware announces its channel and echoes messages of every length",
          "[rpmsg]") {
  const endian order = GENERATE(endian::little, endian::big);
  bus_pair pair(order);
  echo_service<decltype(pair.firmware)> echo{&pair.firmware};
  REQUIRE(pair.firmware.create_endpoint("rpmsg-echo", echo).value_or(~0u) == 1024u);
  announcements heard;
  pair.host.on_announcement(heard);
  inbox received;
  const auto local = pair.host.create_endpoint("", received);
  REQUIRE(local.value_or(~0u) == 1024u);
  pair.attach();

  // The announcement, as the host's rx buffer 0 holds it.
  const auto buffer0 = pair.memory.buffers().bytes.first(56);
  CHECK(rpmsg::decode_header(buffer0.first<16>(), order) == rpmsg::header{1024, 53, 0, 40, 0});
  CHECK(rproc::byte_view(buffer0, order).u32(16 + 32) == 1024u);
  REQUIRE(pair.host.poll().value_or(~0u) == 1u);
  REQUIRE(heard.seen.size() == 1);
  CHECK(heard.seen[0].name_view() == "rpmsg-echo");
  CHECK(pair.host.channel_address("rpmsg-echo") == 1024u);
  const std::uint32_t remote = *pair.host.channel_address("rpmsg-echo");

  // 2000 messages of 0 to 496 bytes, up to 8 in flight (vring 0 holds 8 buffers).
  const std::uint32_t messages = 2000;
  std::uint32_t sent = 0;
  while (received.payloads.size() < messages) {
    for (std::uint32_t k = 0; k < 5 && sent < messages; ++k, ++sent)
      REQUIRE(pair.host.send(*local, remote, test::payload(sent, sent * 37 % 497)));
    REQUIRE(pair.firmware.poll());
    REQUIRE(pair.host.poll());
  }
  CHECK(echo.failures == 0);
  std::uint32_t wrong = 0;
  for (std::uint32_t n = 0; n < messages; ++n)
    if (received.payloads[n] != test::payload(n, n * 37 % 497) || received.sources[n] != remote)
      ++wrong;
  CHECK(wrong == 0);
  // Every message was kicked: the host on vring 1 (notify id 1), the firmware on vring 0.
  CHECK(pair.host_kicks.by_notifyid[1] == messages);
  CHECK(pair.firmware_kicks.by_notifyid[0] == messages + 1);  // and the announcement
  CHECK(pair.host.vring(1).avail_idx() == static_cast<std::uint16_t>(messages));
}

TEST_CASE("after detach and attach the rings start from 0 and the channel is announced again",
          "[rpmsg]") {
  bus_pair pair;
  echo_service<decltype(pair.firmware)> echo{&pair.firmware};
  REQUIRE(pair.firmware.create_endpoint("rpmsg-echo", echo));
  announcements heard;
  pair.host.on_announcement(heard);
  inbox received;
  const std::uint32_t local = pair.host.create_endpoint("", received).value();
  for (std::uint32_t cycle = 1; cycle <= 3; ++cycle) {
    pair.attach();
    // Fresh rings: vring 0 holds the 8 empty buffers, nothing was used yet.
    CHECK(pair.host.vring(0).avail_idx() == 8);
    CHECK(pair.host.vring(1).avail_idx() == 0);
    CHECK(pair.firmware.vring(0).used_idx() == 1);  // the announcement
    CHECK(pair.firmware.vring(1).last_avail_idx() == 0);
    REQUIRE(pair.host.poll().value_or(~0u) == 1u);
    CHECK(heard.seen.size() == cycle);
    REQUIRE(pair.host.channels().size() == 1);
    for (std::uint32_t n = 0; n < 300; ++n) {
      REQUIRE(pair.host.send(local, 1024, test::payload(n, n % 100)));
      REQUIRE(pair.firmware.poll().value_or(~0u) == 1u);
      REQUIRE(pair.host.poll().value_or(~0u) == 1u);
      REQUIRE(received.payloads.back() == test::payload(n, n % 100));
    }
    pair.detach();
    CHECK(pair.host.channels().empty());
    CHECK(pair.host.send(local, 1024, {}).error().code == errc::invalid_state);
    CHECK(pair.firmware.poll().error().code == errc::invalid_state);
  }
}

TEST_CASE("a firmware that keeps its old ring indices across a detach fails", "[rpmsg]") {
  bus_pair pair;
  echo_service<decltype(pair.firmware)> echo{&pair.firmware};
  REQUIRE(pair.firmware.create_endpoint("rpmsg-echo", echo));
  inbox received;
  REQUIRE(pair.host.create_endpoint("", received, 1024));
  pair.attach();
  REQUIRE(pair.host.poll());
  for (std::uint32_t n = 0; n < 20; ++n) {
    REQUIRE(pair.host.send(1024, 1024, test::payload(n, 8)));
    REQUIRE(pair.firmware.poll());
  }
  pair.host.detach();  // the firmware is not told
  REQUIRE(pair.host.attach(pair.config));
  REQUIRE(pair.host.send(1024, 1024, test::payload(0, 8)));
  // Its vring 1 index is 20, the fresh ring's 1: a jump of 65517.
  check_fault(pair.firmware.poll().error(), errc::ring_index_jump, 1,
              pair.memory.layout().avail_idx(), 1);
  // Told, it starts again from 0 and announces itself again.
  pair.firmware.detach();
  REQUIRE(pair.firmware.attach(pair.config));
  CHECK(pair.firmware.poll().value_or(~0u) == 1u);
  CHECK(pair.host.poll().value_or(~0u) == 2u);  // the announcement and the echo
}

TEST_CASE("without the name service feature nothing is announced", "[rpmsg]") {
  bus_pair pair(endian::little, 8, 0);
  echo_service<decltype(pair.firmware)> echo{&pair.firmware};
  REQUIRE(pair.firmware.create_endpoint("rpmsg-echo", echo));
  pair.attach();
  CHECK(pair.host.poll().value_or(~0u) == 0u);
  CHECK(pair.firmware_kicks.by_notifyid[0] == 0);
  // A message to 53 then reaches no one.
  REQUIRE(pair.host.send(1024, 53, {}));
  check_fault(pair.firmware.poll().error(), errc::rpmsg_no_endpoint, 1, 4, 53);
}

TEST_CASE("an endpoint created while attached is announced, destroyed too", "[rpmsg]") {
  bus_pair pair;
  pair.attach();
  announcements heard;
  pair.host.on_announcement(heard);
  inbox ignored;
  REQUIRE(pair.firmware.create_endpoint("late", ignored, 2000).value_or(~0u) == 2000u);
  REQUIRE(pair.host.poll().value_or(~0u) == 1u);
  CHECK(pair.host.channel_address("late") == 2000u);
  REQUIRE(pair.firmware.destroy_endpoint(2000));
  REQUIRE(pair.host.poll().value_or(~0u) == 1u);
  CHECK(pair.host.channels().empty());
  REQUIRE(heard.seen.size() == 2);
  CHECK(heard.seen[1].kind == rpmsg::announcement_kind::destroy);
  CHECK(heard.seen[1].addr == 2000);
  CHECK(pair.firmware.destroy_endpoint(2000).error().code == errc::rpmsg_no_endpoint);
}

TEST_CASE("endpoint addresses: dynamic from 1024, 53 and duplicates refused, slots counted",
          "[rpmsg]") {
  bus_pair<rpmsg::limits{.endpoints = 3}> pair;
  inbox sink;
  CHECK(pair.host.create_endpoint("a", sink).value_or(~0u) == 1024u);
  CHECK(pair.host.create_endpoint("b", sink, 7).value_or(~0u) == 7u);
  check_fault(pair.host.create_endpoint("c", sink, 7).error(), errc::rpmsg_address_unavailable,
              std::nullopt, 0, 7);
  check_fault(pair.host.create_endpoint("c", sink, 53).error(), errc::rpmsg_address_unavailable,
              std::nullopt, 0, 53);
  check_fault(pair.host.create_endpoint("123456789012345678901234567890123", sink).error(),
              errc::name_too_long, std::nullopt, 0, 33);
  CHECK(pair.host.create_endpoint("c", sink).value_or(~0u) == 1025u);
  check_fault(pair.host.create_endpoint("d", sink).error(), errc::rpmsg_no_endpoint_slot,
              std::nullopt, 0, 3);
  pair.host.destroy_endpoint(1024);
  CHECK(pair.host.create_endpoint("d", sink).value_or(~0u) == 1024u);
  CHECK(rproc::message(rproc::error{errc::rpmsg_address_unavailable, 0, {}, 53}).view() ==
        "rpmsg_address_unavailable at offset 0x0: the rpmsg address is reserved or in use "
        "(address 0x35)");
}

TEST_CASE("a message larger than a buffer is refused before anything is sent", "[rpmsg]") {
  bus_pair pair;
  inbox sink;
  REQUIRE(pair.firmware.create_endpoint("", sink, 1024));
  pair.attach();
  check_fault(pair.host.send(1024, 1024, std::vector<std::byte>(497)).error(),
              errc::rpmsg_buffer_too_small, 1, 0, 513);
  REQUIRE(pair.host.send(1024, 1024, std::vector<std::byte>(496)));
  check_fault(pair.firmware.send(1024, 1024, std::vector<std::byte>(497)).error(),
              errc::rpmsg_buffer_too_small, 0, 0, 513);
  // The buffer it took is kept for the next message, which fits.
  REQUIRE(pair.firmware.send(1024, 1024, std::vector<std::byte>(496)));
  CHECK(pair.firmware.vring(0).used_idx() == 1);
  CHECK(pair.firmware.poll().value_or(~0u) == 1u);
  CHECK(sink.payloads.size() == 1);
}

TEST_CASE("a sender out of buffers gets rpmsg_no_buffer until the other side gives some back",
          "[rpmsg]") {
  bus_pair pair;
  inbox sink;
  REQUIRE(pair.firmware.create_endpoint("", sink, 1024));
  REQUIRE(pair.host.create_endpoint("", sink, 1024));
  pair.attach();
  for (int n = 0; n < 8; ++n) REQUIRE(pair.host.send(1024, 1024, {}));
  check_fault(pair.host.send(1024, 1024, {}).error(), errc::rpmsg_no_buffer, 1, 0, 0);
  REQUIRE(pair.firmware.poll().value_or(~0u) == 8u);
  REQUIRE(pair.host.send(1024, 1024, {}));
  for (int n = 0; n < 8; ++n) REQUIRE(pair.firmware.send(1024, 1024, {}));
  check_fault(pair.firmware.send(1024, 1024, {}).error(), errc::rpmsg_no_buffer, 0, 0, 0);
  REQUIRE(pair.host.poll().value_or(~0u) == 8u);
  REQUIRE(pair.firmware.send(1024, 1024, {}));
}

TEST_CASE("the host refuses what a misbehaving firmware writes", "[rpmsg]") {
  const endian order = GENERATE(endian::little, endian::big);
  bus_pair pair(order);
  inbox sink;
  REQUIRE(pair.host.create_endpoint("", sink, 1024));
  pair.attach();
  // The firmware's side played by hand: a raw device on vring 0 writing into the host's buffers.
  rproc::virtqueue_device<8> vring0;
  REQUIRE(vring0.attach(pair.memory.window(), pair.memory.vring(0), pair.memory.buffers(), order));
  auto firmware_writes = [&](rpmsg::header h, std::uint32_t used_length) {
    std::array<rproc::taken_segment, 1> taken{};
    const auto chain = vring0.take(taken);
    REQUIRE(chain);
    REQUIRE(*chain);
    const auto head = rpmsg::encode(h, order);
    std::copy(head.begin(), head.end(), taken[0].bytes.begin());
    REQUIRE(vring0.put((*chain)->head, used_length));
  };
  firmware_writes({1, 1024, 0, 4, 0}, 15);
  check_fault(pair.host.poll().error(), errc::rpmsg_buffer_too_small, 0, 0, 15);
  firmware_writes({1, 1024, 0, 5, 0}, 20);
  check_fault(pair.host.poll().error(), errc::rpmsg_header_invalid, 0, 12, 5);
  firmware_writes({1, 99, 0, 4, 0}, 20);
  check_fault(pair.host.poll().error(), errc::rpmsg_no_endpoint, 0, 4, 99);
  firmware_writes({1, 53, 0, 39, 0}, 55);
  check_fault(pair.host.poll().error(), errc::rpmsg_announcement_invalid, 0, 12, 39);
  firmware_writes({1, 53, 0, 40, 0}, 56);
  {
    std::array<std::byte, 4> flags{};
    (void)rproc::mutable_byte_view(flags, order).write_u32(0, 7);
    const auto buffer = pair.memory.buffers().bytes.subspan(4 * 512);  // the fifth buffer
    std::copy(flags.begin(), flags.end(), buffer.begin() + 16 + 36);
  }
  check_fault(pair.host.poll().error(), errc::rpmsg_announcement_invalid, 0, 52, 7);
  // Each faulty buffer went back to vring 0, and a good message still gets through.
  CHECK(pair.host.vring(0).avail_idx() == 8 + 5);
  firmware_writes({1, 1024, 0, 4, 0}, 20);
  CHECK(pair.host.poll().value_or(~0u) == 1u);
  CHECK(sink.payloads.size() == 1);
  CHECK(sink.payloads[0].size() == 4);
}

TEST_CASE("the firmware refuses what a misbehaving host writes", "[rpmsg]") {
  const endian order = GENERATE(endian::little, endian::big);
  bus_pair pair(order);
  inbox sink;
  REQUIRE(pair.firmware.create_endpoint("", sink, 1024));
  pair.attach();
  // The host's side played by hand: a raw driver on vring 1 (the bus's own forgets its ring).
  rproc::virtqueue_driver<8> vring1;
  REQUIRE(vring1.attach(pair.memory.window(), pair.memory.vring(1), pair.memory.buffers(), order));
  const auto buffers = pair.memory.buffers();
  auto host_writes = [&](rpmsg::header h, std::uint32_t length, bool writable) {
    const auto head = rpmsg::encode(h, order);
    std::copy(head.begin(), head.end(), buffers.bytes.begin());
    const rproc::buffer_segment s{buffers.da, length, writable};
    REQUIRE(vring1.add({&s, 1}));
  };
  host_writes({1024, 1024, 0, 4, 0}, 15, false);
  check_fault(pair.firmware.poll().error(), errc::rpmsg_buffer_too_small, 1, 0, 15);
  host_writes({1024, 1024, 0, 5, 0}, 20, false);
  check_fault(pair.firmware.poll().error(), errc::rpmsg_header_invalid, 1, 12, 5);
  host_writes({1024, 1024, 0, 4, 0}, 20, true);
  check_fault(pair.firmware.poll().error(), errc::descriptor_flags_invalid, 1, 2 * 16 + 12, 2);
  host_writes({1024, 1024, 0, 4, 0}, 20, false);
  CHECK(pair.firmware.poll().value_or(~0u) == 1u);
  CHECK(vring1.in_flight() == 4);  // all four given back used, none lost
  for (int n = 0; n < 4; ++n) CHECK(vring1.take_used()->has_value());

  // Buffers to send in that the firmware cannot use: read-only, or shorter than a header.
  rproc::virtqueue_driver<8> vring0;
  REQUIRE(vring0.attach(pair.memory.window(), pair.memory.vring(0), buffers, order));
  const rproc::buffer_segment read_only{buffers.da, 512, false}, short_one{buffers.da, 8, true};
  REQUIRE(vring0.add({&read_only, 1}));
  check_fault(pair.firmware.send(1024, 1024, {}).error(), errc::descriptor_flags_invalid, 0, 12, 0);
  REQUIRE(vring0.add({&short_one, 1}));
  check_fault(pair.firmware.send(1024, 1024, {}).error(), errc::rpmsg_buffer_too_small, 0, 0, 8);
  for (int n = 0; n < 2; ++n) CHECK(vring0.take_used()->value().length == 0);  // given back
}

// fuzz_rpmsg_firmware found it (tests/fuzz_regressions/fuzz_rpmsg_firmware-echo-from-overlapping-
// buffer.bin): a host may give the firmware a buffer to send in that overlaps the one it received
// from, and an echo then copies between the two; the copy was a memcpy (ASan:
// memcpy-param-overlap), it is now a memmove before the header is written.
TEST_CASE("an echo from a buffer that overlaps the one it is sent in", "[rpmsg]") {
  bus_pair pair;
  echo_service<decltype(pair.firmware)> echo{&pair.firmware};
  REQUIRE(pair.firmware.create_endpoint("", echo, 1024));
  pair.attach();
  const auto buffers = pair.memory.buffers();
  rproc::virtqueue_driver<8> vring0, vring1;
  REQUIRE(vring0.attach(pair.memory.window(), pair.memory.vring(0), buffers, endian::little));
  REQUIRE(vring1.attach(pair.memory.window(), pair.memory.vring(1), buffers, endian::little));
  const auto sent = test::payload(7, 40);
  const auto head = rpmsg::encode(rpmsg::header{5, 1024, 0, 40, 0}, endian::little);
  std::copy(head.begin(), head.end(), buffers.bytes.begin());
  std::copy(sent.begin(), sent.end(), buffers.bytes.begin() + 16);
  const rproc::buffer_segment message{buffers.da, 56, false}, reply{buffers.da + 8, 512, true};
  REQUIRE(vring1.add({&message, 1}));
  REQUIRE(vring0.add({&reply, 1}));
  REQUIRE(pair.firmware.poll().value_or(0) == 1u);
  CHECK(echo.failures == 0);
  const auto used = vring0.take_used();
  REQUIRE(used);
  REQUIRE(*used);
  CHECK((*used)->length == 56);
  const auto echoed = buffers.bytes.subspan(8, 56);
  CHECK(rpmsg::decode_header(echoed.first<16>(), endian::little) ==
        rpmsg::header{1024, 5, 0, 40, 0});
  CHECK(std::equal(sent.begin(), sent.end(), echoed.begin() + 16));
}


namespace {

// A host's live table: one rpmsg vdev, its two vrings where test::rpmsg_memory has them (notify
// ids 2 and 3), the name service offered and accepted or not (gfeatures).
template <endian Order, std::uint32_t Gfeatures>
consteval auto live_table() {
  namespace rsc = rproc::rsc;
  return rproc::make_table<rproc::table_options{.order = Order}>(
      rsc::vdev{.dfeatures = rpmsg::feature_name_service, .gfeatures = Gfeatures}.with_vrings(
          rsc::vring{.da = 0x10040000, .align = 16, .num = 8, .notifyid = 2},
          rsc::vring{.da = 0x10041000, .align = 16, .num = 8, .notifyid = 3}));
}

// Same place and size; the notify ids too when `notifyids` (test::rpmsg_memory's are 0 and 1).
void check_same_vrings(const rpmsg::bus_config& a, const rpmsg::bus_config& b, bool notifyids) {
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(a.vrings[i].index == b.vrings[i].index);
    CHECK(a.vrings[i].da == b.vrings[i].da);
    CHECK(a.vrings[i].num == b.vrings[i].num);
    CHECK(a.vrings[i].align == b.vrings[i].align);
    if (notifyids) CHECK(a.vrings[i].notifyid == b.vrings[i].notifyid);
  }
}

template <endian Order, std::uint32_t Gfeatures>
void check_bus_over_vdev() {
  static constexpr auto table = live_table<Order, Gfeatures>();
  test::rpmsg_memory memory;
  const auto parsed = rproc::parse_table(table.bytes, Order);
  REQUIRE(parsed);
  const auto vdev = (*parsed)[0].template as<rproc::vdev_entry>().value();
  const auto host_config =
      rpmsg::bus_config_of(vdev, memory.window(), memory.buffers(), Order).value();
  check_same_vrings(host_config, memory.config(Order), false);
  CHECK(host_config.vrings[0].notifyid == 2);
  CHECK(host_config.vrings[1].notifyid == 3);
  CHECK(host_config.features == Gfeatures);
  CHECK(host_config.order == Order);

  // The firmware's side: what its vdev_link read at DRIVER_OK.
  rproc::firmware::host_assignment seen{.gfeatures = Gfeatures, .num_of_vrings = 2};
  for (std::uint32_t i = 0; i < 2; ++i) {
    const auto v = vdev.vring(i);
    seen.vrings[i] = {v.da(), v.align(), v.num(), v.notifyid()};
  }
  const auto firmware_config =
      rpmsg::bus_config_of(seen, memory.window(), memory.buffers(), Order).value();
  check_same_vrings(firmware_config, host_config, true);
  CHECK(firmware_config.features == Gfeatures);

  // Over them: the announcement only when gfeatures has the name service; messages either way,
  // each side kicking the other with the notify id of the vring it used.
  test::counted_kicks host_kicks, firmware_kicks;
  rpmsg::host_bus<test::counted_kicks> host(host_kicks);
  rpmsg::firmware_bus<test::counted_kicks> firmware(firmware_kicks);
  auto echo = [&](const rpmsg::message& m) { (void)firmware.send(m.dst, m.src, m.payload); };
  inbox sink;
  REQUIRE(firmware.create_endpoint("rpmsg-echo", echo, 1024));
  REQUIRE(host.create_endpoint("", sink, 1024));
  REQUIRE(host.attach(host_config));
  REQUIRE(firmware.attach(firmware_config));
  CHECK(firmware.name_service() == (Gfeatures != 0));
  CHECK(host.poll().value() == (Gfeatures != 0 ? 1u : 0u));
  CHECK(host.channel_address("rpmsg-echo") ==
        (Gfeatures != 0 ? std::optional<std::uint32_t>{1024} : std::nullopt));
  REQUIRE(host.send(1024, 1024, test::payload(7, 33)));
  CHECK(firmware.poll().value() == 1);
  CHECK(host.poll().value() == 1);
  REQUIRE(sink.payloads.size() == 1);
  CHECK(sink.payloads[0] == test::payload(7, 33));
  CHECK(host_kicks.by_notifyid[3] == 1);      // the message, on vring 1
  CHECK(firmware_kicks.by_notifyid[2] >= 1);  // the echo (and the announcement), on vring 0
}

}  // namespace

TEST_CASE("a bus over a vdev as the host set it up: its vrings and its gfeatures", "[rpmsg]") {
  check_bus_over_vdev<endian::little, rpmsg::feature_name_service>();
  check_bus_over_vdev<endian::little, 0>();
  check_bus_over_vdev<endian::big, rpmsg::feature_name_service>();
  check_bus_over_vdev<endian::big, 0>();

  test::rpmsg_memory memory;
  const rproc::firmware::host_assignment one_vring{.gfeatures = 1, .num_of_vrings = 1};
  const auto refused =
      rpmsg::bus_config_of(one_vring, memory.window(), memory.buffers(), endian::little);
  REQUIRE_FALSE(refused);
  check_fault(refused.error(), errc::vring_layout_invalid, 1, 0, 1);
}

namespace {

// The simulated board with a virtio driver: the lifecycle calls it between FEATURES_OK and
// DRIVER_OK.
struct board_with_driver : rproc::sim::platform {
  std::function<rproc::result<void>(const rproc::vdev_setup&)> driver;
  rproc::result<void> set_up_vdev(const rproc::vdev_setup& vdev) { return driver(vdev); }
};
static_assert(rproc::platform_sets_up_vdevs<board_with_driver>);

constexpr std::uint64_t firmware_table_da = 0x20000100;
constexpr auto echo_table = rproc::make_table(
    rproc::rsc::vdev{.id = rproc::virtio::id_rpmsg, .dfeatures = rpmsg::feature_name_service}
        .with_vrings(rproc::rsc::vring{.align = 16, .num = 8},
                     rproc::rsc::vring{.align = 16, .num = 8}),
    rproc::rsc::carveout{.len = 0x2000, .name = "vdev0buffer"});

// The vdev's status byte in the live table, as the firmware would read it.
std::uint8_t live_status(board_with_driver& board) {
  const auto table = rproc::parse_table(board.firmware_table(), endian::little);
  return table ? (*table)[0].template as<rproc::vdev_entry>()->status() : 0xFF;
}

}  // namespace

TEST_CASE("the host's virtio driver sets up its rings after FEATURES_OK, before DRIVER_OK",
          "[rpmsg]") {
  auto board = std::make_unique<board_with_driver>();
  REQUIRE(board->boot_loader_start(echo_table.bytes, firmware_table_da));
  rproc::processor<board_with_driver> proc(*board);
  test::counted_kicks host_kicks, firmware_kicks;
  rpmsg::host_bus<test::counted_kicks> host(host_kicks);
  rpmsg::firmware_bus<test::counted_kicks> firmware(firmware_kicks);
  echo_service<decltype(firmware)> echo{&firmware};
  REQUIRE(firmware.create_endpoint("rpmsg-echo", echo));
  inbox received;
  const std::uint32_t local = host.create_endpoint("", received).value();

  std::uint32_t set_ups = 0;
  board->driver = [&](const rproc::vdev_setup& vdev) -> rproc::result<void> {
    ++set_ups;
    CHECK(vdev.entry == 0);
    CHECK(vdev.id == rproc::virtio::id_rpmsg);
    CHECK(vdev.gfeatures == rpmsg::feature_name_service);
    CHECK(live_status(*board) == 0x0B);  // ACKNOWLEDGE | DRIVER | FEATURES_OK, no DRIVER_OK
    REQUIRE(vdev.vrings.size() == 2);
    for (const auto& v : vdev.vrings)
      CHECK(std::all_of(v.region.va.begin(), v.region.va.end(),
                        [](std::byte b) { return b == std::byte{0}; }));
    // The buffers in the vdev's carveout, as Linux puts them in its vdev buffer memory.
    REQUIRE(proc.resources().carveouts().size() == 1);
    const auto& carveout = proc.resources().carveouts()[0].region;
    auto config = rpmsg::bus_config_of(vdev, {carveout.da, carveout.va});
    if (!config) return config.error();
    return host.attach(*config);
  };
  auto detached = proc.claim<rproc::detached>().value();
  for (std::uint32_t cycle = 1; cycle <= 3; ++cycle) {
    auto attached = std::move(detached).attach().value();
    CHECK(set_ups == cycle);
    CHECK(live_status(*board) == 0x0F);
    CHECK(host.vring(0).avail_idx() == 8);  // the 8 empty buffers, laid out before DRIVER_OK

    // The firmware reads its vdev once DRIVER_OK shows, over the whole pool.
    const auto live = rproc::parse_table(board->firmware_table(), endian::little).value();
    const auto vdev = live[0].template as<rproc::vdev_entry>().value();
    const rproc::memory_window pool{
        board_with_driver::pool_base,
        board->da_to_va(board_with_driver::pool_base, 256 * 1024)};
    REQUIRE(firmware.attach(rpmsg::bus_config_of(vdev, pool, pool, endian::little).value()));
    REQUIRE(host.poll().value_or(~0u) == 1u);
    CHECK(host.channel_address("rpmsg-echo") == std::optional<std::uint32_t>{1024});
    for (std::uint32_t length = 1; length <= 512 - 16; length += 55) {
      REQUIRE(host.send(local, 1024, test::payload(length, length)));
      REQUIRE(firmware.poll().value_or(~0u) == 1u);
      REQUIRE(host.poll().value_or(~0u) == 1u);
      REQUIRE(received.payloads.back() == test::payload(length, length));
    }
    detached = std::move(attached).detach().value();
    host.detach();
    firmware.detach();
    CHECK(board->table_is_original());
  }

  // A driver that fails takes the attach back: no DRIVER_OK, the table as found, nothing held.
  board->driver = [](const rproc::vdev_setup&) -> rproc::result<void> {
    return rproc::error{errc::out_of_memory, 0, 0, 1};
  };
  auto refused = std::move(detached).attach();
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == rproc::error{errc::out_of_memory, 0, 0, 1});
  CHECK(board->table_is_original());
  CHECK(board->stats().outstanding_allocations == 0);
  CHECK(proc.current_state() == rproc::state::detached);
}

TEST_CASE("a host bus config needs both vrings in one mapping", "[rpmsg]") {
  std::array<std::byte, 0x3000> memory{};
  std::array<rproc::vring_record, 2> vrings{};
  vrings[0] = {0, 0, 2, 8, 16, {0x1000, 0x1000, 0x1000, std::span(memory).subspan(0x1000, 0x1000)}};
  vrings[1] = {0, 1, 3, 8, 16, {0x0000, 0x0000, 0x1000, std::span(memory).first(0x1000)}};
  const rproc::vdev_setup vdev{0, rproc::virtio::id_rpmsg, 1, endian::big, vrings};
  const rproc::memory_window buffers{0x2000, std::span(memory).subspan(0x2000)};
  const auto config = rpmsg::bus_config_of(vdev, buffers).value();
  CHECK(config.rings.da == 0);
  CHECK(config.rings.bytes.data() == memory.data());
  CHECK(config.rings.bytes.size() == 0x2000);
  CHECK(config.vrings[0].da == 0x1000);
  CHECK(config.vrings[1].notifyid == 3);
  CHECK(config.features == 1);
  CHECK(config.order == endian::big);

  vrings[1].region.va = std::span(memory).subspan(0x2000, 0x1000);  // another mapping
  check_fault(rpmsg::bus_config_of(vdev, buffers).error(), errc::vring_layout_invalid, 0, 0,
              0x1000);
  check_fault(rpmsg::bus_config_of(rproc::vdev_setup{0, 7, 1, endian::big,
                                                     std::span(vrings).first(1)},
                                   buffers)
                  .error(),
              errc::vring_layout_invalid, 1, 0, 1);
}
