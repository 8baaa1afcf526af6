// What main.cpp needs of the mps2-an386 board under QEMU: a millisecond tick (SysTick), sleeping
// until the next interrupt, and Arm semihosting for a console and an exit status.
#pragma once

#include <cstdint>

namespace board {

// The core clock of the AN386 image: 25 MHz.
inline constexpr std::uint32_t core_hz = 25'000'000;

// Counted by the SysTick interrupt (startup.cpp calls main.cpp's systick_tick()).
inline volatile std::uint32_t milliseconds = 0;

inline std::uint32_t now_ms() noexcept { return milliseconds; }

inline void start_millisecond_tick() noexcept {
  // SysTick: CSR, RVR, CVR at 0xE000E010 (ARMv7-M architecture manual, B3.3).
  auto* const systick = reinterpret_cast<volatile std::uint32_t*>(0xE000E010u);
  systick[1] = core_hz / 1000 - 1;
  systick[2] = 0;
  systick[0] = 0x7;  // processor clock, interrupt, enable
}

inline void wait_for_interrupt() noexcept { asm volatile("wfi" ::: "memory"); }

// Arm semihosting: QEMU (-semihosting) services `bkpt 0xAB`, r0 the operation, r1 its argument.
namespace semihosting {

inline std::uint32_t call(std::uint32_t operation, const void* argument) noexcept {
  std::uint32_t result;
  asm volatile("mov r0, %1\n\tmov r1, %2\n\tbkpt 0xAB\n\tmov %0, r0"
               : "=r"(result)
               : "r"(operation), "r"(argument)
               : "r0", "r1", "memory");
  return result;
}

// SYS_WRITE0: a NUL-terminated string to the console.
inline void write(const char* text) noexcept { (void)call(0x04, text); }

// SYS_EXIT_EXTENDED carries the status itself; AArch32's plain SYS_EXIT only tells success.
[[noreturn]] inline void exit(int status) noexcept {
  const std::uint32_t block[2] = {0x20026 /* ADP_Stopped_ApplicationExit */,
                                  static_cast<std::uint32_t>(status)};
  (void)call(0x20, block);
  for (;;) wait_for_interrupt();
}

}  // namespace semihosting
}  // namespace board
