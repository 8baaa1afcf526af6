// What the QEMU remote's crashing firmware (firmware/crash.cpp) shares with its host
// (host/crash.cpp) besides its table and mailbox: a fixed block in the firmware's MiB of PSRAM,
// inside the image's PSRAM segment, so that a coredump of that segment holds it. The firmware
// writes `pattern` at each start (the coredump test looks for it at pattern_da), feeds
// `watchdog` from its main loop, takes the host's `command`, and records a fault (its registers
// too) before it reports the crash in its table.
#pragma once

#include <cstddef>
#include <cstdint>

#include "memory_map.hpp"

namespace qemu_remote {

inline constexpr std::uint32_t crash_area_da = psram_da + 0x2000;  // .crash_area
inline constexpr std::uint32_t pattern_da = crash_area_da;

// 31 characters and a NUL: what the firmware writes at pattern_da.
inline constexpr char known_pattern[32] = "rproc qemu-crash known pattern!";

enum class crash_command : std::uint32_t {
  none = 0,
  fault = 1,  // read an address nothing answers: a bus fault, taken as a HardFault
  hang = 2,   // stop the main loop, and with it the watchdog word
};

struct crash_area {
  char pattern[32];
  std::uint32_t watchdog;     // counted by the main loop while it runs
  std::uint32_t command;      // crash_command, written by the host, cleared by the firmware
  std::uint32_t starts;       // times the main loop started: 1 after boot, +1 per recovery
  std::uint32_t connections;  // attaches seen since the last start
  std::uint32_t vring0_da;    // vring 0's address at the last attach
  // The last fault, for the post-mortem: CFSR, BFAR, and the registers as they were at the
  // faulting instruction (r0 to r15, then xPSR), which the host puts in the coredump's note.
  std::uint32_t fault_status, fault_address;
  std::uint32_t registers[17];
};
static_assert(sizeof(crash_area) == 128);

}  // namespace qemu_remote
