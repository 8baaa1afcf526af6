// A crash on a live Cortex-M4, noticed, dumped and recovered: QEMU runs the QEMU remote's crashing
// firmware (firmware/crash.cpp), and this host attaches to it through rproc::machine over
// rproc::posix::mapped_platform, whose firmware keeps AMD's crash report (type 128) in its table.
//
//   1. --cycles clean detach / attach cycles, each verified (the live table is the firmware's
//      original after the detach; the firmware connects to the vrings the host gave).
//   2. The host commands a fault. It watches the firmware's crash report and the watchdog word
//      the firmware feeds, with a deadline, and notices the report; it writes the coredump (an ELF
//      core: one PT_LOAD per region it maps, the others named and left out); then hands the crash
//      to the machine, whose recovery (enabled, the default) detaches, which restarts the
//      firmware, and attaches from scratch. Then --cycles clean cycles again.
//   3. With recovery disabled, the host commands a hang: the watchdog word stops, the host
//      reports a watchdog crash, and the remote stays crashed, everything held, until recover().
//      Then --cycles clean cycles again.
//
//   rproc-qemu-crash --firmware qemu-crash-firmware.elf --core FILE.core [--qemu PATH]
//                    [--cycles 20] [--log FILE]
// Exit status: 0 everything as described; 1 otherwise; 2 QEMU or the platform could not be set up.
#include <rproc/coredump.hpp>
#include <rproc/machine.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../crash_area.hpp"
#include "qemu_remote.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using platform = rproc::posix::mapped_platform<rproc::posix::shared_memory_mailbox,
                                               rproc::amd_crash_report_type>;
using machine = rproc::machine<platform>;
using qemu_remote::crash_area;
using qemu_remote::crash_command;

// Longer than any pause of QEMU's main loop on a loaded machine: a slower word is a hang.
constexpr auto watchdog_timeout = std::chrono::milliseconds(400);
constexpr auto deadline = std::chrono::seconds(5);

struct arguments {
  qemu_remote::qemu_options qemu;
  std::string core;
  int cycles = 20;
};

bool parse(int argc, char** argv, arguments& args) {
  return qemu_remote::parse_options(argc, argv, args.qemu,
                                    [&](std::string_view flag, const char* value) {
                                      if (flag == "--core") args.core = value;
                                      else if (flag == "--cycles") args.cycles = std::atoi(value);
                                      else return false;
                                      return true;
                                    }) &&
         !args.core.empty() && args.cycles > 0;
}

double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

std::string hex(std::uint64_t v) { return rproc::posix::hex(v); }

// The host's view of the firmware's crash area (crash_area.hpp), in the PSRAM both map.
class crash_area_view {
 public:
  explicit crash_area_view(platform& board)
      : area_(reinterpret_cast<qemu_remote::crash_area*>(
            board.da_to_va(qemu_remote::crash_area_da, sizeof(qemu_remote::crash_area)).data())) {}
  bool mapped() const noexcept { return area_ != nullptr; }
  std::uint32_t read(const std::uint32_t qemu_remote::crash_area::*word) const noexcept {
    return __atomic_load_n(&(area_->*word), __ATOMIC_ACQUIRE);
  }
  // The registers the firmware saved at its last fault.
  rproc::arm_registers registers() const noexcept {
    rproc::arm_registers saved;
    for (std::size_t i = 0; i < saved.r.size(); ++i)
      saved.r[i] = __atomic_load_n(&area_->registers[i], __ATOMIC_ACQUIRE);
    saved.psr = __atomic_load_n(&area_->registers[16], __ATOMIC_ACQUIRE);
    return saved;
  }
  void command(crash_command c) noexcept {
    __atomic_store_n(&area_->command, static_cast<std::uint32_t>(c), __ATOMIC_RELEASE);
  }

 private:
  qemu_remote::crash_area* area_;
};

// Waits until `done()` or the deadline.
template <class Done>
bool wait_for(Done done) {
  const auto end = clock_type::now() + deadline;
  while (!done()) {
    if (clock_type::now() > end) return false;
    std::this_thread::yield();
  }
  return true;
}

// Detach, the live table checked, attach, the firmware's connection checked: `count` times.
// The number of clean cycles; a failed operation ends the loop.
int clean_cycles(machine& m, platform& board, const crash_area_view& area, int count,
                 const char* when) {
  const std::vector<std::byte>& original = board.table().image_bytes;
  int clean = 0;
  for (int cycle = 1; cycle <= count; ++cycle) {
    std::string problem;
    if (auto detached = m.detach(); !detached) {
      std::printf("%s, cycle %d: detach failed: %s (%s)\n", when, cycle,
                  rproc::message(detached.error()).c_str(), board.last_failure().c_str());
      return clean;
    }
    if (!std::ranges::equal(board.live_table(), original))
      problem = "after the detach the live table is not the firmware's original";
    const std::uint32_t connections = area.read(&crash_area::connections);
    if (auto attached = m.start(); !attached) {
      std::printf("%s, cycle %d: attach failed: %s (%s)\n", when, cycle,
                  rproc::message(attached.error()).c_str(), board.last_failure().c_str());
      return clean;
    }
    const std::uint32_t vring0 =
        static_cast<std::uint32_t>(m.processor().resources().vrings()[0].region.da);
    if (!wait_for([&] {
          return area.read(&crash_area::connections) == connections + 1 &&
                 area.read(&crash_area::vring0_da) == vring0;
        }) && problem.empty())
      problem = "the firmware did not connect to vring 0 at " + hex(vring0);
    if (const auto report = m.processor().firmware_crash_report(); report && report->crashed())
      problem = "the firmware reports a crash";
    if (problem.empty()) ++clean;
    else std::printf("%s, cycle %d: %s\n", when, cycle, problem.c_str());
  }
  return clean;
}

// The firmware's main loop started for the `starts`-th time and connected to the vrings of the
// recovery's attach.
bool restarted_and_connected(const crash_area_view& area, std::uint32_t starts) {
  return wait_for([&] {
    return area.read(&crash_area::starts) == starts && area.read(&crash_area::connections) == 1;
  });
}

struct notice {
  rproc::crash_reason reason;
  bool from_firmware;  // its crash report; else the watchdog word
  double ms;           // since the command
};

// Watches the firmware's crash report and its watchdog word until one tells of a crash.
std::optional<notice> watch(const machine& m, const crash_area_view& area,
                            clock_type::time_point commanded) {
  std::uint32_t fed = area.read(&crash_area::watchdog);
  auto fed_at = clock_type::now();
  const auto end = commanded + deadline;
  for (;;) {
    if (const auto report = m.processor().firmware_crash_report(); report && report->crashed())
      return notice{report->reason(), true, ms_since(commanded)};
    const auto now = clock_type::now();
    if (const std::uint32_t w = area.read(&crash_area::watchdog); w != fed) {
      fed = w;
      fed_at = now;
    } else if (now - fed_at > watchdog_timeout) {
      return notice{rproc::crash_reason::watchdog, false, ms_since(commanded)};
    }
    if (now > end) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

const char* source_name(rproc::dump_source s) {
  switch (s) {
    case rproc::dump_source::carveout: return "carveout";
    case rproc::dump_source::vring: return "vring";
    case rproc::dump_source::devmem: return "devmem";
    case rproc::dump_source::segment: return "firmware segment";
    case rproc::dump_source::other: break;
  }
  return "region";
}

// The remote's memory as the host maps it, and the registers in a note, as an ELF core in
// `path`: the PT_LOAD segments written.
std::optional<std::uint32_t> write_core(const machine& m, platform& board,
                                        const rproc::elf_image& image, const std::string& path,
                                        std::span<const std::byte> note) {
  rproc::dump_plan plan;
  if (!plan.add_resources(m.processor()) || !plan.add_segments(image)) {
    std::printf("coredump: more regions than a core holds\n");
    return std::nullopt;
  }
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    std::printf("coredump: cannot open %s\n", path.c_str());
    return std::nullopt;
  }
  const auto core = rproc::write_coredump(
      rproc::core_format_of(image), plan.regions(),
      [&](std::uint64_t da, std::size_t len) {
        return std::span<const std::byte>(board.da_to_va(da, len));
      },
      [&](std::span<const std::byte> bytes) {
        return std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
      },
      note);
  const bool closed = std::fclose(file) == 0;
  if (!core || !closed) {
    std::printf("coredump: %s\n", core ? ("cannot write " + path).c_str()
                                       : rproc::message(core.error()).c_str());
    return std::nullopt;
  }
  std::printf("coredump %s: %u segments and the registers (PT_NOTE), %llu bytes\n", path.c_str(),
              core->segments, static_cast<unsigned long long>(core->size));
  for (std::size_t i = 0; i < plan.regions().size(); ++i) {
    const rproc::dump_region& r = plan.regions()[i];
    std::printf("  %-9s %s at %s, %s bytes (%s %u)\n", core->was_left_out(i) ? "left out" : "LOAD",
                source_name(r.source), hex(r.da).c_str(), hex(r.len).c_str(),
                r.source == rproc::dump_source::segment ? "program header" : "table entry", r.index);
  }
  if (core->left_out != 0)
    std::printf("  (left out: memory the host does not map, the core's own flash and SRAM)\n");
  return core->segments;
}

const char* state_name(rproc::state s) { return rproc::to_string(s).data(); }

}  // namespace

int main(int argc, char** argv) {
  arguments args;
  if (!parse(argc, argv, args)) {
    std::fprintf(stderr, "usage: rproc-qemu-crash --firmware ELF --core FILE [--qemu PATH] "
                         "[--cycles N] [--log FILE]\n");
    return 2;
  }
  auto image_file = rproc::posix::read_file(args.qemu.firmware);
  if (!image_file) {
    std::fprintf(stderr, "rproc-qemu-crash: %s\n", image_file.error().message().c_str());
    return 2;
  }
  const auto image = rproc::read_elf(*image_file);
  auto remote = qemu_remote::basic_remote<platform>::start(args.qemu);
  if (!image || !remote) {
    std::fprintf(stderr, "rproc-qemu-crash: %s\n",
                 remote ? "the firmware is not a valid ELF image"
                        : remote.error().message().c_str());
    return 2;
  }
  platform& board = remote->board();
  crash_area_view area(board);
  if (!area.mapped()) {
    std::fprintf(stderr, "rproc-qemu-crash: the crash area at %s is not mapped\n",
                 hex(qemu_remote::crash_area_da).c_str());
    return 2;
  }
  std::printf("QEMU mps2-an386 (pid %d) runs %s; crash report (type %u) in the table at %s, "
              "crash area at %s\n",
              static_cast<int>(remote->qemu().pid()), args.qemu.firmware.c_str(),
              platform::crash_report_type, hex(board.table().da).c_str(),
              hex(qemu_remote::crash_area_da).c_str());

  machine m(board);
  const auto failed = [&](const char* step, const rproc::error& e) {
    std::printf("%s failed: %s\n  %s\n", step, rproc::message(e).c_str(),
                board.last_failure().c_str());
    return 1;
  };
  if (auto attached = m.start(); !attached) return failed("attach", attached.error());
  int clean = 0;
  const auto cycles = [&](const char* when) {
    const int n = clean_cycles(m, board, area, args.cycles, when);
    std::printf("%s: %d/%d cycles clean\n", when, n, args.cycles);
    clean += n;
    return n == args.cycles;
  };
  if (!cycles("before the crash")) return 1;

  // The fault, recovery enabled: noticed, dumped, recovered.
  const auto commanded = clock_type::now();
  area.command(crash_command::fault);
  const auto fault = watch(m, area, commanded);
  if (!fault || !fault->from_firmware) {
    std::printf("the fault was not reported by the firmware within %lld s\n",
                static_cast<long long>(deadline.count()));
    return 1;
  }
  const rproc::arm_registers registers = area.registers();
  std::printf("crash (%s) noticed in %.2f ms from the firmware's crash report: fault at pc %s "
              "(sp %s, lr %s), CFSR %s, BFAR %s\n",
              rproc::to_string(fault->reason).data(), fault->ms, hex(registers.r[15]).c_str(),
              hex(registers.r[13]).c_str(), hex(registers.r[14]).c_str(),
              hex(area.read(&crash_area::fault_status)).c_str(),
              hex(area.read(&crash_area::fault_address)).c_str());
  // gdb reports a memory fault as Linux would the signal: SIGSEGV (11).
  const auto note = rproc::arm_prstatus_note(
      registers, image->order(), fault->reason == rproc::crash_reason::mmu_fault ? 11 : 0);
  const auto segments = write_core(m, board, *image, args.core, note);
  if (!segments) return 1;
  const auto recovering = clock_type::now();
  const auto handled = m.check_crash_report();
  if (!handled || !*handled) {
    if (!handled) return failed("recovery", handled.error());
    std::printf("check_crash_report() saw no crash\n");
    return 1;
  }
  const double recovery_ms = ms_since(recovering);
  if (m.current_state() != rproc::state::attached || !restarted_and_connected(area, 2) ||
      m.processor().last_crash()->reason != fault->reason) {
    std::printf("after the recovery: %s, firmware start %u\n", state_name(m.current_state()),
                area.read(&crash_area::starts));
    return 1;
  }
  std::printf("recovery %s: detach (the firmware restarted: start %u), attach from scratch: "
              "%s in %.2f ms\n",
              rproc::to_string(m.recovery()).data(), area.read(&crash_area::starts),
              state_name(m.current_state()), recovery_ms);
  if (!cycles("after the recovery")) return 1;

  // The hang, recovery disabled: crashed, everything held, until recover().
  m.set_recovery(rproc::recovery_mode::disabled);
  const auto hung_at = clock_type::now();
  area.command(crash_command::hang);
  const auto hang = watch(m, area, hung_at);
  if (!hang || hang->from_firmware) {
    std::printf("the hang was not noticed by the watchdog within %lld s\n",
                static_cast<long long>(deadline.count()));
    return 1;
  }
  if (auto reported = m.report_crash(hang->reason); !reported)
    return failed("report_crash", reported.error());
  std::printf("crash (%s) noticed in %.2f ms (the watchdog word stopped for %lld ms); recovery "
              "%s: %s, %zu allocations held\n",
              rproc::to_string(hang->reason).data(), hang->ms,
              static_cast<long long>(watchdog_timeout.count()),
              rproc::to_string(m.recovery()).data(), state_name(m.current_state()),
              board.outstanding_allocations());
  const auto busy = m.start();
  if (m.current_state() != rproc::state::crashed || busy || board.outstanding_allocations() == 0) {
    std::printf("with recovery disabled the remote must stay crashed, holding its resources\n");
    return 1;
  }
  if (auto recovered = m.recover(); !recovered) return failed("recover", recovered.error());
  const bool back = restarted_and_connected(area, 3);
  std::printf("recover(): %s, firmware start %u\n", state_name(m.current_state()),
              area.read(&crash_area::starts));
  if (m.current_state() != rproc::state::attached || !back) return 1;
  m.set_recovery(rproc::recovery_mode::enabled);
  if (!cycles("after recover()")) return 1;
  if (auto detached = m.detach(); !detached) return failed("detach", detached.error());

  std::printf("crash (%s) noticed in %.2f ms, coredump %s (%u segments), recovered; crash (%s) "
              "noticed in %.0f ms, recovered by recover(); %d/%d cycles clean\n",
              rproc::to_string(fault->reason).data(), fault->ms, args.core.c_str(), *segments,
              rproc::to_string(hang->reason).data(), hang->ms, clean, 3 * args.cycles);
  return 0;
}
