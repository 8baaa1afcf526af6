// A message's round trip through rpmsg, both ends in one process on one thread (no kick wakes
// anyone: each side is stepped): the host sends on vring 1, the firmware takes it, echoes it on
// vring 0, the host receives the echo and gives the buffer back. Baseline: memcpy of the same
// bytes there and back (header and payload, twice), what any transport over shared memory does.
// The QEMU remote's figures (issue 16 part 3) are measured across two processors; these are the
// library's own cost per message.
#include <rproc/rpmsg_firmware.hpp>
#include <rproc/rpmsg_host.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ratio_report.hpp"
#include "rpmsg_support.hpp"

namespace {

namespace rpmsg = rproc::rpmsg;

void bm_round_trip(benchmark::State& state, std::size_t length) {
  test::rpmsg_memory memory(256, 4096);
  const rpmsg::bus_config config = memory.config();
  test::counted_kicks host_kicks, firmware_kicks;
  rpmsg::host_bus<test::counted_kicks> host(host_kicks);
  rpmsg::firmware_bus<test::counted_kicks> firmware(firmware_kicks);
  auto echo = [&](const rpmsg::message& m) { (void)firmware.send(m.dst, m.src, m.payload); };
  std::uint64_t received = 0, received_bytes = 0;
  auto receive = [&](const rpmsg::message& m) {
    ++received;
    received_bytes += m.payload.size();
  };
  if (!firmware.create_endpoint("rpmsg-echo", echo) || !host.create_endpoint("", receive) ||
      !host.attach(config) || !firmware.attach(config) || host.poll().value_or(0) != 1)
    return state.SkipWithError("the buses did not come up");
  const std::uint32_t remote = host.channel_address("rpmsg-echo").value_or(0);
  const std::vector<std::byte> payload = test::payload(1, length);
  for (auto _ : state) {
    if (!host.send(1024, remote, payload) || firmware.poll().value_or(0) != 1 ||
        host.poll().value_or(0) != 1)
      return state.SkipWithError("a round trip failed");
  }
  if (received != static_cast<std::uint64_t>(state.iterations()) ||
      received_bytes != received * length)
    state.SkipWithError("not every message came back whole");
}

void bm_memcpy_x2(benchmark::State& state, std::size_t length) {
  std::vector<std::byte> message(rpmsg::layout::header::size + length, std::byte{1});
  std::vector<std::byte> there(message.size()), back(message.size());
  for (auto _ : state) {
    benchmark::DoNotOptimize(message.data());
    std::memcpy(there.data(), message.data(), message.size());
    benchmark::ClobberMemory();
    std::memcpy(back.data(), there.data(), there.size());
    benchmark::ClobberMemory();
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (const std::size_t length : {0u, 64u, 496u}) {
    const std::string group = "rpmsg/" + std::to_string(length) + "_bytes/";
    rproc_bench::add(group + "round_trip", bm_round_trip, length);
    rproc_bench::add(group + "memcpy_x2", bm_memcpy_x2, length);
  }
  static constexpr rproc_bench::comparison comparisons[] = {{"round_trip", "memcpy_x2", 0}};
  return rproc_bench::run_benchmarks(argc, argv, comparisons);
}
