// rproc on both sides of a live Cortex-M4: QEMU runs the QEMU remote's firmware, started as a
// boot loader would leave it, and this host attaches to it through rproc::posix::mapped_platform,
// reads the firmware's message in vring 0, detaches, checks that the live table is the
// firmware's original bytes again, and attaches again: --cycles times, each verified. In each
// cycle a plain host loop makes the same writes by hand, before or after rproc's in turn, for
// the timing (medians after a warm-up, the ratio against a 1.2 target; MISSED when above).
// Last, the negative control: a detach without the clean copy (the live table as the host's
// release writes leave it), after which the re-attach fails as the seed says.
//
//   rproc-qemu-remote --firmware qemu-remote-firmware.elf [--qemu qemu-system-arm] [--cycles 100]
//                     [--log FILE]
// Exit status: 0 every cycle clean and the negative control failed as expected; 1 otherwise;
// 2 QEMU or the platform could not be set up.
#include <rproc/lifecycle.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../memory_map.hpp"
#include "host_support.hpp"
#include "plain_host.hpp"
#include "qemu_remote.hpp"

namespace {

using qemu_remote::clock_type;
using qemu_remote::median_us;
using qemu_remote::platform;
using qemu_remote::plain_host;
using qemu_remote::since;

// What the firmware wrote for attach number `attaches`, checked against what the host gave it.
std::string check_message(std::span<std::byte> vring0, std::uint32_t attaches,
                          const std::uint32_t (&vring_da)[2], std::uint32_t clean_detaches) {
  auto* const m = reinterpret_cast<qemu_remote::remote_message*>(vring0.data());
  const auto deadline = clock_type::now() + std::chrono::seconds(5);
  while (__atomic_load_n(&m->magic, __ATOMIC_ACQUIRE) != qemu_remote::message_magic) {
    if (clock_type::now() > deadline) return "no message from the firmware in vring 0 within 5 s";
    std::this_thread::yield();
  }
  const std::string text = "hello from the remote, attach " + std::to_string(attaches);
  if (m->attaches != attaches)
    return "the message counts attach " + std::to_string(m->attaches) + ", not " +
           std::to_string(attaches);
  for (int i = 0; i < 2; ++i)
    if (m->vring_da[i] != vring_da[i] || m->notifyid[i] != static_cast<std::uint32_t>(i))
      return "the firmware read vring " + std::to_string(i) + " at " +
             rproc::posix::hex(m->vring_da[i]) + " notifyid " + std::to_string(m->notifyid[i]);
  if (m->clean_detaches != clean_detaches || m->dirty_detaches != 0)
    return "the firmware saw " + std::to_string(m->clean_detaches) + " clean and " +
           std::to_string(m->dirty_detaches) + " dirty detaches, not " +
           std::to_string(clean_detaches) + " clean";
  if (std::string_view(m->text, strnlen(m->text, sizeof m->text)) != text)
    return "the message says \"" + std::string(m->text, strnlen(m->text, sizeof m->text)) + "\"";
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  qemu_remote::arguments args;
  auto remote = qemu_remote::start_from_command_line(argc, argv, "rproc-qemu-remote", args);
  if (!remote) return 2;
  platform& board = remote->board();
  const std::vector<std::byte>& original = board.table().image_bytes;
  std::printf("QEMU mps2-an386 (pid %d) runs %s; PSRAM in %s; table at %#llx, %zu bytes\n",
              static_cast<int>(remote->qemu().pid()), args.qemu.firmware.c_str(),
              remote->qemu().shared_file().c_str(),
              static_cast<unsigned long long>(board.table().da), original.size());

  rproc::processor<platform> proc(board);
  auto claimed = proc.claim<rproc::detached>();
  if (!claimed) {
    std::printf("the remote is not detached: %s\n", rproc::message(claimed.error()).c_str());
    return 1;
  }
  auto detached = std::move(claimed).value();
  const auto fail = [&](const char* step, const rproc::error& e) {
    std::printf("%s failed: %s\n  %s\n", step, rproc::message(e).c_str(),
                board.last_failure().c_str());
    return 1;
  };

  // The first cycles warm caches, the branch predictor and the scheduler's view of QEMU: they
  // are verified like the others but left out of the medians.
  const int warm_up = args.cycles >= 40 ? 10 : 0;
  std::vector<double> attach_ns, detach_ns, cycle_ns, plain_attach_ns, plain_detach_ns;
  std::uint32_t attaches = 0;  // every attach the firmware saw, rproc's and the plain loop's
  int clean = 0;
  std::optional<plain_host> plain;
  std::uint32_t vring_da[2] = {};
  const auto record = [&](std::vector<double>& into, int cycle, double ns) {
    if (cycle > warm_up) into.push_back(ns);
  };

  // One cycle of rproc's: attach, the firmware's message, detach, the live table checked.
  const auto rproc_cycle = [&](int cycle) -> int {
    const auto begin = clock_type::now();
    auto attaching = std::move(detached).attach();
    record(attach_ns, cycle, since(begin));
    if (!attaching) return fail("attach", attaching.error());
    auto attached = std::move(attaching).value();
    ++attaches;

    const auto vrings = proc.resources().vrings();
    vring_da[0] = vrings[0].region.da;
    vring_da[1] = vrings[1].region.da;
    std::string problem = check_message(vrings[0].region.va, attaches, vring_da, attaches - 1);
    if (!plain) plain.emplace(board, proc);

    const auto detach_begin = clock_type::now();
    auto detaching = std::move(attached).detach();
    record(detach_ns, cycle, since(detach_begin));
    record(cycle_ns, cycle, since(begin));
    if (!detaching) return fail("detach", detaching.error());
    detached = std::move(detaching).value();
    if (!std::ranges::equal(board.live_table(), original) && problem.empty())
      problem = "after the detach the live table is not the firmware's original";
    if (problem.empty()) ++clean;
    else std::printf("cycle %d: %s\n", cycle, problem.c_str());
    return 0;
  };
  // The same writes by hand, at the addresses rproc chose, timed the same way.
  const auto plain_cycle = [&](int cycle) -> int {
    const auto begin = clock_type::now();
    plain->attach();
    record(plain_attach_ns, cycle, since(begin));
    ++attaches;
    if (auto p = check_message(plain->vring0(), attaches, vring_da, attaches - 1); !p.empty())
      std::printf("cycle %d, plain loop: %s\n", cycle, p.c_str());
    const auto detach_begin = clock_type::now();
    const bool acknowledged = plain->detach();
    record(plain_detach_ns, cycle, since(detach_begin));
    if (acknowledged) return 0;
    std::printf("cycle %d, plain loop: the firmware did not acknowledge the detach\n", cycle);
    return 1;
  };
  // Interleaved, each going first every other cycle, so that neither always follows the other.
  for (int cycle = 1; cycle <= args.cycles; ++cycle) {
    const bool plain_first = plain && cycle % 2 == 0;
    if (plain_first)
      if (const int status = plain_cycle(cycle)) return status;
    if (const int status = rproc_cycle(cycle)) return status;
    if (!plain_first)
      if (const int status = plain_cycle(cycle)) return status;
  }

  const double attach = median_us(attach_ns), detach = median_us(detach_ns);
  const double plain_attach = median_us(plain_attach_ns), plain_detach = median_us(plain_detach_ns);
  constexpr double target = 1.2;
  const auto verdict = [&](double ratio) { return ratio <= target ? "" : " MISSED"; };
  std::printf("%d/%d cycles clean (%d more by the plain loop)\n", clean, args.cycles, args.cycles);
  std::printf("host medians over %d cycles after %d of warm-up: attach %.2f us, detach %.2f us, "
              "a cycle %.1f us (attach, the firmware's message, detach)\n",
              args.cycles - warm_up, warm_up, attach, detach, median_us(cycle_ns));
  std::printf("plain host loop, same writes, interleaved: attach %.2f us, detach %.2f us\n",
              plain_attach, plain_detach);
  std::printf("rproc / plain: attach %.2f (target %.1f)%s, detach %.2f (target %.1f)%s\n",
              attach / plain_attach, target, verdict(attach / plain_attach),
              detach / plain_detach, target, verdict(detach / plain_detach));

  const bool control_ok =
      qemu_remote::attach_after_detach_without_clean_copy(proc, board, detached);
  // With the firmware's bytes back, the remote attaches again.
  auto again = std::move(detached).attach();
  if (!again) return fail("attach after the negative control", again.error());
  if (auto off = std::move(again).value().detach(); !off) return fail("detach", off.error());
  return clean == args.cycles && control_ok ? 0 : 1;
}
