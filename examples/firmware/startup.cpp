// Reset and exception entry for a Cortex-M4: the vector table the core reads at address 0, and a
// reset handler that prepares the C++ run time (zeroed .bss, static constructors) and runs main.
#include <cstdint>

#include "board.hpp"

extern "C" {
// From mps2_an386.ld.
extern char __stack_top[];
extern std::uint32_t __bss_start[];
extern std::uint32_t __bss_end[];
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();

// main() itself, under a name C++ lets us call.
int application_main() asm("main");
void systick_tick();

[[noreturn]] void reset_handler();
void systick_handler();
[[noreturn]] void fault_handler();
}

namespace {

using handler = void (*)();

// The first 16 words of ARMv7-M's vector table: the initial stack pointer, then the system
// exceptions (0 where reserved). The firmware enables no external interrupt.
struct vector_table {
  const void* initial_sp;
  handler exceptions[15];
};

}  // namespace

[[gnu::section(".vectors"), gnu::used]] constinit const vector_table vectors = {
    __stack_top,
    {reset_handler, fault_handler /* NMI */, fault_handler /* HardFault */,
     fault_handler /* MemManage */, fault_handler /* BusFault */, fault_handler /* UsageFault */,
     nullptr, nullptr, nullptr, nullptr, fault_handler /* SVCall */,
     fault_handler /* DebugMonitor */, nullptr, fault_handler /* PendSV */, systick_handler}};

void reset_handler() {
  for (std::uint32_t* word = __bss_start; word != __bss_end; ++word) *word = 0;
  for (auto** constructor = __init_array_start; constructor != __init_array_end; ++constructor)
    (*constructor)();
  board::semihosting::exit(application_main());
}

// Weak: a firmware that needs the exception frame (to record a fault, or to restart) brings its own.
[[gnu::weak]] void systick_handler() { systick_tick(); }

[[gnu::weak]] void fault_handler() {
  board::semihosting::write("rproc firmware: fault\n");
  board::semihosting::exit(90);
}
