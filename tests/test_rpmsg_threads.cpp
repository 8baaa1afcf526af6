// The host and the firmware on two threads over one block of shared memory, as two processors
// share it: the host attaches (fresh rings, then its "DRIVER_OK"), waits for the firmware's
// announcement, sends thousands of messages of varying length and checks every echo, then
// detaches and waits for the firmware's acknowledgement before it lays out the rings again.
// Built and run under ThreadSanitizer by the tsan preset, and in every other configuration.
#include <rproc/rpmsg_firmware.hpp>
#include <rproc/rpmsg_host.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <thread>
#include <vector>

#include "rpmsg_support.hpp"

namespace {

using rproc::endian;
namespace rpmsg = rproc::rpmsg;

// The vdev's status as the firmware sees it: 0 detached, else the attach cycle (DRIVER_OK).
constexpr std::uint32_t stop = 0xFFFFFFFF;

struct firmware_outcome {
  std::uint32_t attaches = 0;
  std::uint32_t echoed = 0;
  std::uint32_t faults = 0;
};

// The firmware's main loop: attach when the host says so, echo, detach and acknowledge.
firmware_outcome run_firmware(const rpmsg::bus_config& config,
                              const std::atomic<std::uint32_t>& status,
                              std::atomic<std::uint32_t>& acknowledged) {
  firmware_outcome outcome;
  test::counted_kicks kicks;
  rpmsg::firmware_bus<test::counted_kicks> bus(kicks);
  auto echo = [&](const rpmsg::message& m) {
    if (bus.send(m.dst, m.src, m.payload)) ++outcome.echoed;
    else ++outcome.faults;
  };
  if (!bus.create_endpoint("rpmsg-echo", echo)) ++outcome.faults;
  std::uint32_t cycle = 0;
  for (;;) {
    const std::uint32_t seen = status.load(std::memory_order_acquire);
    if (seen == stop) break;
    if (!bus.attached()) {
      if (seen != 0 && seen != cycle) {
        cycle = seen;
        ++outcome.attaches;
        if (!bus.attach(config)) ++outcome.faults;
      } else {
        std::this_thread::yield();
      }
      continue;
    }
    if (seen != cycle) {
      bus.detach();
      acknowledged.store(cycle, std::memory_order_release);
      continue;
    }
    const auto delivered = bus.poll();
    if (!delivered) ++outcome.faults;
    else if (*delivered == 0) std::this_thread::yield();
  }
  return outcome;
}

}  // namespace

TEST_CASE("host and firmware threads: echoes across detach and re-attach", "[rpmsg][threads]") {
  const endian order = GENERATE(endian::little, endian::big);
  constexpr std::uint32_t cycles = 6, messages = 600, window = 8;
  test::rpmsg_memory memory(16);
  const rpmsg::bus_config config = memory.config(order);
  std::atomic<std::uint32_t> status{0}, acknowledged{0};
  firmware_outcome firmware;
  std::thread remote([&] { firmware = run_firmware(config, status, acknowledged); });

  test::counted_kicks kicks;
  rpmsg::host_bus<test::counted_kicks> host(kicks);
  std::deque<std::uint32_t> outstanding;
  std::uint32_t echoes = 0, wrong = 0, faults = 0, announcements = 0;
  auto receive = [&](const rpmsg::message& m) {
    if (outstanding.empty()) {
      ++wrong;
      return;
    }
    const std::uint32_t n = outstanding.front();
    outstanding.pop_front();
    const auto expected = test::payload(n, n * 53 % 497);
    if (!std::equal(m.payload.begin(), m.payload.end(), expected.begin(), expected.end())) ++wrong;
    ++echoes;
  };
  auto heard = [&](const rpmsg::announcement&) { ++announcements; };
  host.on_announcement(heard);
  const std::uint32_t local = host.create_endpoint("", receive).value();
  // Not a timing: a bound, so that a firmware that stopped answering fails the test, not hangs it.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(100);
  const auto stuck = [&] { return std::chrono::steady_clock::now() > give_up; };

  for (std::uint32_t cycle = 1; cycle <= cycles; ++cycle) {
    REQUIRE(host.attach(config));
    status.store(cycle, std::memory_order_release);
    while (!host.channel_address("rpmsg-echo") && !stuck()) {
      if (!host.poll()) ++faults;
      std::this_thread::yield();
    }
    const std::uint32_t remote_addr = host.channel_address("rpmsg-echo").value_or(0);
    const std::uint32_t first = (cycle - 1) * messages;
    std::uint32_t next = first;
    while (echoes < cycle * messages && faults == 0 && !stuck()) {
      while (next < first + messages && outstanding.size() < window) {
        const auto sent = host.send(local, remote_addr, test::payload(next, next * 53 % 497));
        if (!sent) break;  // rpmsg_no_buffer: the firmware has not given vring 1's back yet
        outstanding.push_back(next++);
      }
      const auto delivered = host.poll();
      if (!delivered) ++faults;
      else if (*delivered == 0) std::this_thread::yield();
    }
    status.store(0, std::memory_order_release);
    while (acknowledged.load(std::memory_order_acquire) != cycle && !stuck())
      std::this_thread::yield();
    host.detach();
  }
  status.store(stop, std::memory_order_release);
  remote.join();

  CHECK(!stuck());
  CHECK(faults == 0);
  CHECK(firmware.faults == 0);
  CHECK(wrong == 0);
  CHECK(echoes == cycles * messages);
  CHECK(firmware.echoed == cycles * messages);
  CHECK(firmware.attaches == cycles);
  CHECK(announcements == cycles);
}
