// The split ring of SPEC section 3, both roles over one block of memory, single-threaded: the
// bytes each side writes (checked by hand, in both byte orders), indices wrapping past 65535,
// and every fault a malformed ring can show, with its vring and the offset of the faulty field.
#include <rproc/virtqueue.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "error_check.hpp"
#include "rpmsg_support.hpp"

namespace {

using rproc::endian;
using rproc::errc;

constexpr rproc::vring_layout four{4, 16};  // the ring every test below uses
// Descriptors 0..63, available ring at 64 (flags 64, idx 66, ring 68..75, used_event 76), padding
// to 80, used ring at 80 (flags 80, idx 82, elements 84..115, avail_event 116): 118 bytes.
static_assert(four.size() == 118 && four.avail_idx() == 66 && four.avail_ring(3) == 74);
static_assert(four.used_flags() == 80 && four.used_idx() == 82 && four.used_ring(1) == 92);
static_assert(rproc::vring_layout{256, 4096}.used_flags() == 8192);
static_assert(rproc::vring_layout{256, 4096}.size() == 8192 + 6 + 8 * 256);

template <class Unsigned>
Unsigned get(std::span<const std::byte> ring, std::size_t at, endian order) {
  return *rproc::byte_view(ring, order).read<Unsigned>(at);
}
template <class Unsigned>
void set(std::span<std::byte> ring, std::size_t at, Unsigned value, endian order) {
  REQUIRE(rproc::mutable_byte_view(ring, order).write<Unsigned>(at, value));
}

// A driver and a device on vring 1 of the memory (so that errors name "vring 1").
struct ring_pair {
  explicit ring_pair(endian o, std::uint32_t num = 4) : memory(num), order(o) {
    REQUIRE(driver.attach(memory.window(), memory.vring(1), memory.buffers(), order));
    REQUIRE(device.attach(memory.window(), memory.vring(1), memory.buffers(), order));
  }
  std::span<std::byte> ring() { return memory.ring(1); }
  std::uint64_t buffer(std::uint32_t k) const { return test::rpmsg_memory::da + 0x2000 + k * 512u; }

  // Device side: takes one chain of up to 4 segments.
  rproc::result<std::optional<rproc::available_chain>> take() { return device.take(segments); }

  test::rpmsg_memory memory;
  endian order;
  rproc::virtqueue_driver<8> driver;
  rproc::virtqueue_device<8> device;
  std::array<rproc::taken_segment, 4> segments{};
};

// Faults here name vring 1.
void check_fault(const rproc::error& e, errc code, std::size_t offset, std::uint64_t value) {
  CHECK(e == rproc::error{code, offset, 1, value});
}

}  // namespace

TEST_CASE("a buffer goes to the device and comes back used, as the ring's bytes say",
          "[virtqueue]") {
  const endian order = GENERATE(endian::little, endian::big);
  ring_pair p(order);
  const rproc::buffer_segment out[] = {{p.buffer(0), 16, false}, {p.buffer(1), 512, true}};
  const auto head = p.driver.add(out);
  REQUIRE(head);
  CHECK(*head == 0);
  // The descriptors as the driver wrote them, then the available ring.
  const auto ring = p.ring();
  CHECK(get<std::uint64_t>(ring, 0, order) == 0x10042000);
  CHECK(get<std::uint32_t>(ring, 8, order) == 16);
  CHECK(get<std::uint16_t>(ring, 12, order) == 1);  // NEXT
  CHECK(get<std::uint16_t>(ring, 14, order) == 1);
  CHECK(get<std::uint64_t>(ring, 16, order) == 0x10042200);
  CHECK(get<std::uint32_t>(ring, 24, order) == 512);
  CHECK(get<std::uint16_t>(ring, 28, order) == 2);  // WRITE
  CHECK(get<std::uint16_t>(ring, 66, order) == 1);  // avail idx
  CHECK(get<std::uint16_t>(ring, 68, order) == 0);  // avail ring[0]: head 0
  if (order == endian::big) CHECK(ring[67] == std::byte{1});  // the low byte last
  CHECK(p.driver.free_descriptors() == 2);

  const auto chain = p.take();
  REQUIRE(chain);
  REQUIRE(*chain);
  CHECK((*chain)->head == 0);
  CHECK((*chain)->segments == 2);
  CHECK((*chain)->readable == 16);
  CHECK((*chain)->writable == 512);
  CHECK(p.segments[0].bytes.data() == p.memory.bytes().data() + 0x2000);
  CHECK(p.segments[1].bytes.size() == 512);
  CHECK(p.segments[1].device_writable);
  CHECK(p.take()->has_value() == false);  // nothing else available

  REQUIRE(p.device.put(0, 100));
  CHECK(get<std::uint32_t>(ring, 84, order) == 0);    // used element 0: id
  CHECK(get<std::uint32_t>(ring, 88, order) == 100);  // len
  CHECK(get<std::uint16_t>(ring, 82, order) == 1);    // used idx
  const auto used = p.driver.take_used();
  REQUIRE(used);
  REQUIRE(*used);
  CHECK((*used)->head == 0);
  CHECK((*used)->length == 100);
  CHECK(p.driver.free_descriptors() == 4);
  CHECK(p.driver.take_used()->has_value() == false);
}

TEST_CASE("the 16-bit indices wrap past 65535 onto the same slots", "[virtqueue]") {
  const endian order = GENERATE(endian::little, endian::big);
  ring_pair p(order);
  // Up to 3 buffers in flight at a time, so every slot and descriptor is used in turn.
  std::uint32_t added = 0, returned = 0, wrong = 0;
  while (returned < 65536u + 300u) {
    while (added - returned < 3) {
      const rproc::buffer_segment s{p.buffer(added % 8), 64, true};
      REQUIRE(p.driver.add({&s, 1}));
      ++added;
    }
    const auto chain = p.take();
    REQUIRE(chain);
    REQUIRE(*chain);
    // Taken in the order added, returned with a length that says which it was.
    if (p.segments[0].bytes.data() != p.memory.bytes().data() + 0x2000 + (returned % 8) * 512)
      ++wrong;
    REQUIRE(p.device.put((*chain)->head, returned % 65));
    const auto used = p.driver.take_used();
    REQUIRE(used);
    REQUIRE(*used);
    if ((*used)->length != returned % 65) ++wrong;
    ++returned;
  }
  CHECK(wrong == 0);
  CHECK(p.driver.avail_idx() == static_cast<std::uint16_t>(added));
  CHECK(get<std::uint16_t>(p.ring(), four.avail_idx(), order) == static_cast<std::uint16_t>(added));
  CHECK(get<std::uint16_t>(p.ring(), four.used_idx(), order) == 300);
  CHECK(p.device.last_avail_idx() == 300);
  CHECK(p.driver.in_flight() == 2);
}

TEST_CASE("a kick carries the vring's notify id", "[virtqueue]") {
  ring_pair p(endian::little);
  test::counted_kicks kicks;
  REQUIRE(p.driver.notify(kicks));
  REQUIRE(p.device.notify(kicks));
  CHECK(kicks.by_notifyid == std::array<std::uint64_t, 4>{0, 2, 0, 0});
}

TEST_CASE("a ring that cannot be used is refused at attach", "[virtqueue]") {
  test::rpmsg_memory memory(8);
  rproc::virtqueue_driver<8> driver;
  rproc::virtqueue_device<8> device;
  auto refused = [&](rproc::vring_config config, std::uint64_t value) {
    const auto a = driver.attach(memory.window(), config, memory.buffers(), endian::little);
    const auto b = device.attach(memory.window(), config, memory.buffers(), endian::little);
    REQUIRE(!a);
    REQUIRE(!b);
    CHECK(a.error() == rproc::error{errc::vring_layout_invalid, 0, config.index, value});
    CHECK(b.error() == a.error());
    CHECK(!driver.attached());
  };
  auto with = [&](auto change) {
    auto config = memory.vring(1);
    change(config);
    return config;
  };
  refused(with([](auto& c) { c.num = 0; }), 0);
  refused(with([](auto& c) { c.num = 6; }), 6);    // not a power of two
  refused(with([](auto& c) { c.num = 16; }), 16);  // above MaxNum
  refused(with([](auto& c) { c.align = 0; }), 0);
  refused(with([](auto& c) { c.align = 24; }), 24);
  refused(with([](auto& c) { c.da = 0x1000; }), 0x1000);  // below the window
  refused(with([&](auto& c) { c.da = test::rpmsg_memory::da + memory.bytes().size() - 100; }),
          test::rpmsg_memory::da + memory.bytes().size() - 100);  // runs past its end
  refused(with([](auto& c) { c.da += 8; }), test::rpmsg_memory::da + 0x1008);  // not 16-aligned
  CHECK(rproc::message(rproc::error{errc::vring_layout_invalid, 0, 1, 6}).view() ==
        "vring 1: vring_layout_invalid at offset 0x0: a vring's num, align or memory cannot be "
        "used (found 0x6)");
}

TEST_CASE("the driver checks what it adds before writing anything", "[virtqueue]") {
  ring_pair p(endian::little);
  const auto before = std::vector<std::byte>(p.ring().begin(), p.ring().end());
  const rproc::buffer_segment outside{test::rpmsg_memory::da, 16, false};  // a ring, not a buffer
  check_fault(p.driver.add({&outside, 1}).error(), errc::descriptor_out_of_bounds, 0,
              test::rpmsg_memory::da);
  const rproc::buffer_segment past_end{p.buffer(7), 513, true};
  check_fault(p.driver.add({&past_end, 1}).error(), errc::descriptor_out_of_bounds, 0,
              p.buffer(7));
  const rproc::buffer_segment backwards[] = {{p.buffer(0), 8, true}, {p.buffer(1), 8, false}};
  check_fault(p.driver.add(backwards).error(), errc::descriptor_chain_invalid, 16, p.buffer(1));
  check_fault(p.driver.add({}).error(), errc::descriptor_chain_invalid, 0, 0);
  const rproc::buffer_segment five[5] = {};
  check_fault(p.driver.add(five).error(), errc::virtqueue_full, 0, 5);
  CHECK(std::equal(before.begin(), before.end(), p.ring().begin()));
  CHECK(p.driver.free_descriptors() == 4);
  CHECK(p.driver.avail_idx() == 0);
}

TEST_CASE("the device refuses every malformed available ring, naming the field", "[virtqueue]") {
  const endian order = GENERATE(endian::little, endian::big);
  ring_pair p(order);
  const auto ring = p.ring();
  const rproc::buffer_segment one{p.buffer(0), 64, true};
  REQUIRE(p.driver.add({&one, 1}));
  // Each case corrupts what the driver wrote, shows the fault twice (nothing was taken), and
  // puts the bytes back, after which the same buffer is taken as it should be.
  auto faulty = [&](auto corrupt, errc code, std::size_t offset, std::uint64_t value) {
    const std::vector<std::byte> saved(ring.begin(), ring.end());
    corrupt();
    check_fault(p.take().error(), code, offset, value);
    check_fault(p.take().error(), code, offset, value);
    CHECK(p.device.taken() == 0);
    std::copy(saved.begin(), saved.end(), ring.begin());
  };
  faulty([&] { set<std::uint16_t>(ring, 66, 6, order); }, errc::ring_index_jump, 66, 6);
  faulty([&] { set<std::uint16_t>(ring, 66, 0xFFFF, order); }, errc::ring_index_jump, 66, 0xFFFF);
  faulty([&] { set<std::uint16_t>(ring, 68, 4, order); }, errc::descriptor_id_invalid, 68, 4);
  faulty([&] { set<std::uint64_t>(ring, 0, 0x10041FFF, order); }, errc::descriptor_out_of_bounds,
         0, 0x10041FFF);  // one byte before the buffers
  faulty([&] { set<std::uint64_t>(ring, 0, p.buffer(7) + 449, order); },
         errc::descriptor_out_of_bounds, 0, p.buffer(7) + 449);  // one byte past their end
  faulty([&] { set<std::uint64_t>(ring, 0, 0xFFFFFFFFFFFFFFF0u, order); },
         errc::descriptor_out_of_bounds, 0, 0xFFFFFFFFFFFFFFF0u);  // addr + len wraps
  faulty([&] { set<std::uint32_t>(ring, 8, 0xFFFFFFFF, order); }, errc::descriptor_out_of_bounds,
         0, p.buffer(0));
  faulty([&] { set<std::uint16_t>(ring, 12, 2 | 4, order); }, errc::descriptor_flags_invalid, 12,
         6);  // INDIRECT
  faulty([&] { set<std::uint16_t>(ring, 12, 0x80, order); }, errc::descriptor_flags_invalid, 12,
         0x80);
  faulty(
      [&] {
        set<std::uint16_t>(ring, 12, 1 | 2, order);
        set<std::uint16_t>(ring, 14, 9, order);
      },
      errc::descriptor_id_invalid, 14, 9);
  faulty(
      [&] {  // 0 -> 0
        set<std::uint16_t>(ring, 12, 1, order);
        set<std::uint16_t>(ring, 14, 0, order);
      },
      errc::descriptor_chain_loop, 14, 0);
  faulty(
      [&] {  // 0 -> 1 -> 2 -> 1: the loop is named where descriptor 2 points back
        for (std::uint16_t d = 0; d < 3; ++d) {
          set<std::uint64_t>(ring, d * 16u, p.buffer(d), order);
          set<std::uint16_t>(ring, d * 16u + 12, 1, order);
          set<std::uint16_t>(ring, d * 16u + 14, d == 2 ? 1 : d + 1, order);
        }
      },
      errc::descriptor_chain_loop, 46, 1);
  faulty(
      [&] {  // writable 0, then readable 1
        set<std::uint16_t>(ring, 12, 1 | 2, order);
        set<std::uint16_t>(ring, 14, 1, order);
        set<std::uint64_t>(ring, 16, p.buffer(1), order);
        set<std::uint16_t>(ring, 28, 0, order);
      },
      errc::descriptor_chain_invalid, 28, 0);
  faulty(
      [&] {  // 0 -> 1 -> 2 -> 3 -> 0: the longest loop
        for (std::uint16_t d = 0; d < 4; ++d) {
          set<std::uint64_t>(ring, d * 16u, p.buffer(d), order);
          set<std::uint16_t>(ring, d * 16u + 12, 1, order);
          set<std::uint16_t>(ring, d * 16u + 14, static_cast<std::uint16_t>((d + 1) % 4), order);
        }
      },
      errc::descriptor_chain_loop, 62, 0);
  const auto fine = p.take();
  REQUIRE(fine);
  REQUIRE(*fine);
  CHECK(p.segments[0].bytes.size() == 64);

  // Made available again while the device holds it.
  set<std::uint16_t>(ring, 70, 0, order);
  set<std::uint16_t>(ring, 66, 2, order);
  check_fault(p.take().error(), errc::descriptor_state_invalid, 70, 0);
  // More available than the ring can hold beside the chain the device holds.
  set<std::uint16_t>(ring, 66, 5, order);
  check_fault(p.take().error(), errc::ring_index_jump, 66, 5);
}

TEST_CASE("a chain longer than the caller takes is refused", "[virtqueue]") {
  ring_pair p(endian::little);
  const rproc::buffer_segment three[] = {
      {p.buffer(0), 8, false}, {p.buffer(1), 8, false}, {p.buffer(2), 8, true}};
  REQUIRE(p.driver.add(three));
  std::array<rproc::taken_segment, 2> two{};
  check_fault(p.device.take(two).error(), errc::descriptor_chain_invalid, 32, 3);
  const auto chain = p.take();
  REQUIRE(chain);
  CHECK((*chain)->segments == 3);
}

TEST_CASE("the device's own mistakes are errors, not writes", "[virtqueue]") {
  ring_pair p(endian::little);
  const rproc::buffer_segment one{p.buffer(0), 64, true};
  REQUIRE(p.driver.add({&one, 1}));
  check_fault(p.device.put(0, 0).error(), errc::descriptor_state_invalid, 0, 0);  // not taken
  REQUIRE(p.take());
  check_fault(p.device.put(9, 0).error(), errc::descriptor_state_invalid, 0, 9);
  check_fault(p.device.put(0, 65).error(), errc::used_length_too_large, 0, 65);
  CHECK(get<std::uint16_t>(p.ring(), 82, endian::little) == 0);
  REQUIRE(p.device.put(0, 64));
  check_fault(p.device.put(0, 0).error(), errc::descriptor_state_invalid, 0, 0);  // twice
}

TEST_CASE("the driver refuses every malformed used ring, naming the field", "[virtqueue]") {
  const endian order = GENERATE(endian::little, endian::big);
  ring_pair p(order);
  const auto ring = p.ring();
  const rproc::buffer_segment one{p.buffer(0), 64, true};
  REQUIRE(p.driver.add({&one, 1}));
  REQUIRE(p.take());
  REQUIRE(p.device.put(0, 10));
  auto faulty = [&](auto corrupt, errc code, std::size_t offset, std::uint64_t value) {
    const std::vector<std::byte> saved(ring.begin(), ring.end());
    corrupt();
    check_fault(p.driver.take_used().error(), code, offset, value);
    CHECK(p.driver.in_flight() == 1);
    std::copy(saved.begin(), saved.end(), ring.begin());
  };
  faulty([&] { set<std::uint16_t>(ring, 82, 2, order); }, errc::ring_index_jump, 82, 2);
  faulty([&] { set<std::uint16_t>(ring, 82, 0xFFFF, order); }, errc::ring_index_jump, 82, 0xFFFF);
  faulty([&] { set<std::uint32_t>(ring, 84, 4, order); }, errc::descriptor_id_invalid, 84, 4);
  faulty([&] { set<std::uint32_t>(ring, 84, 0x10000, order); }, errc::descriptor_id_invalid, 84,
         0x10000);
  faulty([&] { set<std::uint32_t>(ring, 84, 1, order); }, errc::descriptor_state_invalid, 84, 1);
  faulty([&] { set<std::uint32_t>(ring, 88, 65, order); }, errc::used_length_too_large, 88, 65);
  // The device rewriting the descriptor table changes nothing the driver relies on.
  set<std::uint64_t>(ring, 0, 0xDEADBEEF, order);
  set<std::uint16_t>(ring, 12, 1, order);
  const auto used = p.driver.take_used();
  REQUIRE(used);
  CHECK((*used)->length == 10);
  CHECK(p.driver.descriptor(0) == one);
  CHECK(p.driver.free_descriptors() == 4);
  // A read-only buffer comes back with nothing written, even when the device says its whole
  // length (as OpenAMP does); one byte more is refused.
  const rproc::buffer_segment readable{p.buffer(1), 64, false};
  REQUIRE(p.driver.add({&readable, 1}));
  set<std::uint32_t>(ring, 92, 0, order);
  set<std::uint32_t>(ring, 96, 65, order);
  set<std::uint16_t>(ring, 82, 2, order);
  check_fault(p.driver.take_used().error(), errc::used_length_too_large, 96, 65);
  CHECK(rproc::message(p.driver.take_used().error()).view() ==
        "vring 1: used_length_too_large at offset 0x60: a used length is larger than the "
        "buffer (found 0x41)");
  set<std::uint32_t>(ring, 96, 64, order);
  const auto returned = p.driver.take_used();
  REQUIRE(returned);
  REQUIRE(*returned);
  CHECK((*returned)->head == 0);
  CHECK((*returned)->length == 0);
}

TEST_CASE("attach after detach starts both sides from index 0 on a zeroed ring",
          "[virtqueue]") {
  ring_pair p(endian::little);
  for (std::uint32_t k = 0; k < 5; ++k) {
    const rproc::buffer_segment s{p.buffer(k), 64, true};
    REQUIRE(p.driver.add({&s, 1}));
    REQUIRE(p.device.put(p.take()->value().head, 1));
    REQUIRE(p.driver.take_used());
  }
  const rproc::buffer_segment s{p.buffer(0), 64, true};
  REQUIRE(p.driver.add({&s, 1}));
  p.driver.detach();
  CHECK(p.driver.add({&s, 1}).error().code == errc::invalid_state);
  REQUIRE(p.driver.attach(p.memory.window(), p.memory.vring(1), p.memory.buffers(),
                          endian::little));
  CHECK(
      std::all_of(p.ring().begin(), p.ring().end(), [](std::byte b) { return b == std::byte{0}; }));
  CHECK(p.driver.avail_idx() == 0);
  CHECK(p.driver.free_descriptors() == 4);
  // A device that kept its old indices (last_avail 5) reads the fresh ring as a jump.
  REQUIRE(p.driver.add({&s, 1}));
  CHECK(p.device.last_avail_idx() == 5);
  check_fault(p.take().error(), errc::ring_index_jump, 66, 1);
  p.device.detach();
  CHECK(p.take().error().code == errc::invalid_state);
  REQUIRE(p.device.attach(p.memory.window(), p.memory.vring(1), p.memory.buffers(),
                          endian::little));
  CHECK(p.device.last_avail_idx() == 0);
  CHECK(p.device.used_idx() == 0);
  const auto chain = p.take();
  REQUIRE(chain);
  REQUIRE(*chain);
  CHECK((*chain)->head == 0);
}
