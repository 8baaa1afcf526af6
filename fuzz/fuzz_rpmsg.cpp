// One end of rpmsg (rpmsg.hpp and virtqueue.hpp) under test, the input writing the other side's
// shared memory. Built twice: fuzz_rpmsg_firmware (RPROC_FUZZ_FIRMWARE: the firmware's end; the
// input writes what a host may write, the vrings' descriptor tables and available rings and the
// buffers) and fuzz_rpmsg_host (the host's end; the input writes what a firmware may write, the
// used rings and the buffers). The other end is a real bus, so that valid traffic reaches deep
// states, and the input's writes corrupt it between steps. Invariants (abort on violation):
// - no access outside the shared memory: it is one heap block of exactly its size (ASan);
// - every fault of the end under test is an error of the virtqueue or rpmsg codes, naming vring
//   0 or 1 (always, for what it found in the rings), or invalid_state while detached; no crash;
// - the end under test writes only its own part of the shared memory: the firmware the used
//   rings and the buffers, the host the descriptor tables, available rings and buffers (and, at
//   attach, the whole rings it lays out afresh);
// - a message an endpoint receives lies inside the buffers.
//
// Input: byte 0 chooses the memory: bit 0 big-endian, bit 1 name service negotiated, bits 2-4
// num = 1 << (value mod 5), bit 5 align 64 (else 16), bit 6 buffers of 64 bytes (else 512).
// Then operations, each one byte (mod 8) and its operands:
//   0 the host sends n = next byte bytes       1 the firmware polls
//   2 the firmware sends n = next byte bytes   3 the host polls
//   4 the other side writes in one of its parts (a ring's or the buffers, 1 byte): offset (2
//     bytes, mod the part), count (1 byte, mod 32), bytes
//   5 both detach, then attach again            6 the firmware binds or unbinds a named endpoint
//   7 the other side writes an index word: which (1 byte), value (2 bytes)
#include <rproc/rpmsg_firmware.hpp>
#include <rproc/rpmsg_host.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_support.hpp"
#include "rpmsg_support.hpp"

namespace {

namespace rpmsg = rproc::rpmsg;
using fuzz::require;

#ifdef RPROC_FUZZ_FIRMWARE
constexpr bool firmware_under_test = true;
#else
constexpr bool firmware_under_test = false;
#endif

class input {
 public:
  explicit input(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  bool empty() const { return at_ >= bytes_.size(); }
  std::uint8_t next() { return at_ < bytes_.size() ? bytes_[at_++] : 0; }
  std::uint16_t next16() {
    const std::uint8_t low = next();
    return static_cast<std::uint16_t>(low | next() << 8);
  }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t at_ = 0;
};

bool expected_code(rproc::errc code) {
  return rproc::names_a_vring(code) || code == rproc::errc::invalid_state;
}

// Codes of what one end found in the memory the other writes (not of its own calls).
bool read_from_a_ring(rproc::errc code) {
  return (code >= rproc::errc::vring_layout_invalid && code <= rproc::errc::virtqueue_full) ||
         code == rproc::errc::rpmsg_header_invalid ||
         code == rproc::errc::rpmsg_announcement_invalid;
}

// The parts of the memory (offsets in the block) one side writes.
struct part {
  std::size_t begin, end;
};

class harness {
 public:
  explicit harness(std::uint8_t choice)
      : memory_(1u << ((choice >> 2 & 7) % 5), choice & 0x20 ? 64 : 16, choice & 0x40 ? 64 : 512),
        config_(memory_.config(choice & 1 ? rproc::endian::big : rproc::endian::little,
                               choice & 2 ? rpmsg::feature_name_service : 0)) {
    const auto layout = memory_.layout();
    const auto base = memory_.bytes().data();
    for (std::uint32_t ring = 0; ring < 2; ++ring) {
      const auto offset = static_cast<std::size_t>(memory_.ring(ring).data() - base);
      driver_parts_.push_back({offset, offset + layout.used_flags()});
      device_parts_.push_back({offset + layout.used_flags(), offset + layout.size()});
    }
    const auto buffers = memory_.buffers().bytes;
    const auto offset = static_cast<std::size_t>(buffers.data() - base);
    driver_parts_.push_back({offset, offset + buffers.size()});
    device_parts_.push_back({offset, offset + buffers.size()});
    outside_driver_parts_ = complement(driver_parts_);
    outside_device_parts_ = complement(device_parts_);
    require(host_.create_endpoint("", host_inbox_, 1024).has_value(), "host endpoint");
    require(firmware_.create_endpoint("rpmsg-echo", echo_).has_value(), "firmware endpoint");
    attach();
  }

  void step(input& in) {
    switch (in.next() % 8) {
      case 0: {
        const auto payload = std::vector<std::byte>(in.next(), std::byte{0x5A});
        host_does([&] { return host_.send(1024, 1024, payload); });
        break;
      }
      case 1: firmware_does([&] { return firmware_.poll(); }); break;
      case 2: {
        const auto payload = std::vector<std::byte>(in.next(), std::byte{0xA5});
        firmware_does([&] { return firmware_.send(1024, 1024, payload); });
        break;
      }
      case 3: host_does([&] { return host_.poll(); }); break;
      case 4: {
        const auto& parts = firmware_under_test ? driver_parts_ : device_parts_;
        const part& p = parts[in.next() % parts.size()];
        const std::size_t offset = in.next16();
        const std::size_t count = in.next() % 32;
        for (std::size_t k = 0; k < count; ++k)
          memory_.bytes()[p.begin + (offset + k) % (p.end - p.begin)] = std::byte{in.next()};
        break;
      }
      case 5:
        host_.detach();
        firmware_.detach();
        attach();
        break;
      case 6:
        firmware_does([&]() -> rproc::result<void> {
          if (firmware_.bound(2000)) return firmware_.destroy_endpoint(2000);
          if (auto bound = firmware_.create_endpoint("fuzz", echo_, 2000); !bound)
            return bound.error();
          return {};
        });
        break;
      case 7: {
        const auto layout = memory_.layout();
        const std::uint32_t ring = in.next() & 1u;
        const std::size_t word = firmware_under_test ? layout.avail_idx() : layout.used_idx();
        const std::uint16_t value = in.next16();
        const auto at =
            static_cast<std::size_t>(memory_.ring(ring).data() - memory_.bytes().data());
        memory_.bytes()[at + word] = static_cast<std::byte>(value & 0xFF);
        memory_.bytes()[at + word + 1] = static_cast<std::byte>(value >> 8);
        break;
      }
    }
  }

 private:
  // The host's endpoint: a message lies in one of vring 0's buffers, after its header.
  struct inbox {
    test::rpmsg_memory* memory;
    void operator()(const rpmsg::message& m) const {
      const auto buffers = memory->buffers().bytes;
      const std::size_t size = memory->buffer_size();
      require(fuzz::inside(m.payload, buffers), "a payload inside the buffers");
      const auto at = static_cast<std::size_t>(m.payload.data() - buffers.data());
      require(at % size == 16 && at / size < memory->buffers_per_ring() &&
                  16 + m.payload.size() <= size,
              "a payload inside one of vring 0's buffers, after its header");
    }
  };
  struct echo {
    rpmsg::firmware_bus<test::counted_kicks>* firmware;
    test::rpmsg_memory* memory;
    void operator()(const rpmsg::message& m) const {
      require(fuzz::inside(m.payload, memory->buffers().bytes), "a payload inside the buffers");
      (void)firmware->send(m.dst, m.src, m.payload);
    }
  };

  void attach() {
    if (!host_.attach(config_)) return;
    firmware_does([&] {
      const auto attached = firmware_.attach(config_);
      require(attached.has_value(), "the firmware attaches to rings the host laid out");
      return attached;
    });
  }

  template <class Operation>
  void host_does(Operation operation) {
    under_test(!firmware_under_test, outside_driver_parts_, operation);
  }
  template <class Operation>
  void firmware_does(Operation operation) {
    under_test(firmware_under_test, outside_device_parts_, operation);
  }
  // Runs an operation; when its end is the one under test, checks its outcome and that it wrote
  // nothing outside its own part (every byte elsewhere compared before and after).
  template <class Operation>
  void under_test(bool checked, const std::vector<part>& elsewhere, Operation operation) {
    if (!checked) {
      (void)operation();
      return;
    }
    snapshot_.clear();
    for (const part& p : elsewhere)
      snapshot_.insert(snapshot_.end(),
                       memory_.bytes().begin() + static_cast<std::ptrdiff_t>(p.begin),
                       memory_.bytes().begin() + static_cast<std::ptrdiff_t>(p.end));
    const auto outcome = operation();
    std::size_t at = 0;
    for (const part& p : elsewhere) {
      require(std::memcmp(memory_.bytes().data() + p.begin, snapshot_.data() + at,
                          p.end - p.begin) == 0,
              "the end under test writes only its own part of the shared memory");
      at += p.end - p.begin;
    }
    if (outcome) return;
    const rproc::error& e = outcome.error();
    require(expected_code(e.code), "a fault of the end under test has a virtqueue or rpmsg code");
    require(!e.entry || *e.entry <= 1, "a fault names vring 0 or 1");
    require(e.entry || !read_from_a_ring(e.code), "a malformed ring's fault names the ring");
  }

  // The block's bytes outside `own` (whose parts are in increasing order, apart).
  std::vector<part> complement(const std::vector<part>& own) {
    std::vector<part> rest;
    std::size_t from = 0;
    for (const part& p : own) {
      if (p.begin > from) rest.push_back({from, p.begin});
      from = p.end;
    }
    if (from < memory_.bytes().size()) rest.push_back({from, memory_.bytes().size()});
    return rest;
  }

  test::rpmsg_memory memory_;
  rpmsg::bus_config config_;
  test::counted_kicks host_kicks_, firmware_kicks_;
  rpmsg::host_bus<test::counted_kicks> host_{host_kicks_};
  rpmsg::firmware_bus<test::counted_kicks> firmware_{firmware_kicks_};
  std::vector<part> driver_parts_, device_parts_, outside_driver_parts_, outside_device_parts_;
  std::vector<std::byte> snapshot_;
  inbox host_inbox_{&memory_};
  echo echo_{&firmware_, &memory_};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  input in({data, size});
  harness h(in.next());
  for (int steps = 0; steps < 256 && !in.empty(); ++steps) h.step(in);
  return 0;
}
