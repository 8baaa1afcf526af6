// The QEMU remote's crashing firmware (Cortex-M4, mps2-an386): the remote of main.cpp, with AMD's
// crash report in its table (a vendor entry of type 128: crash_state, crash_reason) and a block
// shared with the host (crash_area.hpp) where it writes a known pattern, feeds a watchdog word
// and takes the host's commands. On `fault` it reads an address nothing answers: the bus fault
// becomes a HardFault, whose handler records it, writes the crash report as a crashed firmware
// does (mmufault for a bus or memory-management fault, fatal error otherwise) and waits. On `hang`
// its main loop stops, and the watchdog word with it. Either way, told of the host's detach (the
// first step of an attach-on-recovery), it acknowledges and starts its main loop again with fresh
// state, as a reset would, ready for the host's next attach.
#include <rproc/crash.hpp>
#include <rproc/firmware.hpp>
#include <rproc/shared_mailbox.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "../../firmware/board.hpp"
#include "../crash_area.hpp"
#include "../memory_map.hpp"
#include "remote_firmware.hpp"

namespace {

using qemu_remote::line;
using qemu_remote::log;
using rproc::shared_mailbox;

constexpr auto original_table = rproc::make_table(
    qemu_remote::rpmsg_vdev, qemu_remote::buffers, qemu_remote::trace,
    rproc::rsc::raw{rproc::amd_crash_report_type, std::array<std::uint8_t, 8>{}});

// Where crash_state and crash_reason are in the table.
constexpr std::uint32_t report_offset =
    rproc::find_crash_report(*rproc::parse_table(original_table))->offset;

}  // namespace

// Not const: the host writes into it while the firmware runs.
[[gnu::section(".resource_table"), gnu::used]] constinit auto resource_table = original_table;
[[gnu::section(".crash_area"), gnu::used]] qemu_remote::crash_area crash_area;

extern "C" {
[[noreturn]] void restart_main_loop();
[[noreturn]] void main_loop();
void on_systick(std::uint32_t* frame);
void on_fault(std::uint32_t* frame, const std::uint32_t* r4_to_r11);
void systick_tick() {}  // startup.cpp's systick_handler calls it; this firmware has its own
}

namespace {

std::uint32_t load(const std::uint32_t& word) { return __atomic_load_n(&word, __ATOMIC_ACQUIRE); }
void store(std::uint32_t& word, std::uint32_t value) {
  __atomic_store_n(&word, value, __ATOMIC_RELEASE);
}

// Set while the main loop is stopped by a `hang` command: the SysTick handler then watches the
// mailbox for the host's detach.
volatile bool hung = false;

// The crash report in the live table, as AMD's firmware writes it: the reason, then the state
// that publishes it.
void report_crash(rproc::crash_reason reason) {
  auto* const words = reinterpret_cast<std::uint32_t*>(resource_table.bytes.data() + report_offset);
  store(words[2], static_cast<std::uint32_t>(reason));
  store(words[1], 1);
}

// Whether the host's detach has come; every other message is acknowledged on the way.
bool detach_posted(shared_mailbox& mailbox) {
  const auto n = mailbox.peek(shared_mailbox::direction::host_to_remote);
  if (!n) return false;
  if (n->kind == rproc::notification_kind::detach) return true;
  mailbox.acknowledge(shared_mailbox::direction::host_to_remote);
  return false;
}

// Leaves the exception into restart_main_loop instead of the interrupted code: the stacked pc
// and xPSR (Thumb state, no stack padding) are replaced. The detach is acknowledged first: the
// host restored the table before it sent it, and the fresh main loop reads the table anew.
void restart_on_return(std::uint32_t* frame, shared_mailbox& mailbox) {
  hung = false;
  frame[6] = reinterpret_cast<std::uint32_t>(&restart_main_loop) & ~1u;
  frame[7] = 0x01000000u;
  mailbox.acknowledge(shared_mailbox::direction::host_to_remote);
}

}  // namespace

// Both handlers take the exception frame: the core pushed it (r0 to r3, r12, lr, pc, xPSR) on
// the main stack, the only one this firmware uses, so it is where sp points on entry. They end
// with the lr they were entered with, the exception return. The fault handler also saves r4 to
// r11 before any code can change them (ten words pushed in all: the stack stays 8-byte aligned).
extern "C" [[gnu::naked]] void systick_handler() { asm("mov r0, sp\n\tb on_systick"); }
extern "C" [[gnu::naked]] void fault_handler() {
  asm("mov r0, sp\n\t"
      "push {r4-r11}\n\t"
      "mov r1, sp\n\t"
      "push {r0, lr}\n\t"
      "bl on_fault\n\t"
      "pop {r0, lr}\n\t"
      "add sp, sp, #32\n\t"
      "bx lr");
}

// A new main loop on an empty stack.
extern "C" [[gnu::naked]] void restart_main_loop() {
  asm("ldr r0, =__stack_top\n\tmsr msp, r0\n\tisb\n\tb main_loop");
}

void on_systick(std::uint32_t* frame) {
  board::milliseconds = board::milliseconds + 1;
  if (!hung) return;
  shared_mailbox mailbox(mailbox_memory);
  if (detach_posted(mailbox)) {
    log(line().append("qemu crash: hung, told of the detach: restarting"));
    restart_on_return(frame, mailbox);
  }
}

void on_fault(std::uint32_t* frame, const std::uint32_t* r4_to_r11) {
  // Configurable Fault Status (MMFSR, BFSR, UFSR) and BusFault Address (ARMv7-M, B3.2.15).
  auto* const cfsr = reinterpret_cast<volatile std::uint32_t*>(0xE000ED28u);
  auto* const hfsr = reinterpret_cast<volatile std::uint32_t*>(0xE000ED2Cu);
  auto* const bfar = reinterpret_cast<volatile std::uint32_t*>(0xE000ED38u);
  const std::uint32_t status = *cfsr;
  std::uint32_t* const r = crash_area.registers;
  for (std::size_t i = 0; i < 4; ++i) store(r[i], frame[i]);
  for (std::size_t i = 0; i < 8; ++i) store(r[4 + i], r4_to_r11[i]);
  store(r[12], frame[4]);
  // sp before the exception: past the 8-word frame, and the word of padding xPSR bit 9 tells of.
  store(r[13], reinterpret_cast<std::uint32_t>(frame + 8 + ((frame[7] >> 9) & 1u)));
  store(r[14], frame[5]);
  store(r[15], frame[6]);
  store(r[16], frame[7]);
  store(crash_area.fault_status, status);
  store(crash_area.fault_address, *bfar);
  const bool memory_fault = (status & 0xFFFFu) != 0;  // MMFSR or BFSR
  report_crash(memory_fault ? rproc::crash_reason::mmu_fault : rproc::crash_reason::fatal_error);
  log(line().append("qemu crash: fault at pc ").append_hex(frame[6]).append(", CFSR ")
          .append_hex(status).append(", BFAR ").append_hex(*bfar).append(": crash reported"));
  shared_mailbox mailbox(mailbox_memory);
  while (!detach_posted(mailbox)) {
  }
  *cfsr = status;  // write-one-to-clear, as a reset would leave them
  *hfsr = *hfsr;
  log(line().append("qemu crash: told of the detach: restarting"));
  restart_on_return(frame, mailbox);
}

namespace {

void write_pattern() {
  std::copy_n(qemu_remote::known_pattern, sizeof crash_area.pattern, crash_area.pattern);
  __atomic_thread_fence(__ATOMIC_RELEASE);
}

[[noreturn]] void crash_on(qemu_remote::crash_command command) {
  if (command == qemu_remote::crash_command::hang) {
    log(line().append("qemu crash: hanging on command (the watchdog stops)"));
    hung = true;
    for (;;) board::wait_for_interrupt();
  }
  log(line().append("qemu crash: faulting on command"));
  // Nothing answers there on mps2-an386: a precise bus fault, escalated to a HardFault.
  (void)*reinterpret_cast<volatile std::uint32_t*>(0xF0000000u);
  for (;;) board::wait_for_interrupt();
}

}  // namespace

void main_loop() {
  shared_mailbox mailbox(mailbox_memory);
  rproc::firmware::vdev_link link(resource_table, original_table);
  store(crash_area.connections, 0);
  store(crash_area.command, 0);
  write_pattern();
  store(crash_area.starts, load(crash_area.starts) + 1);
  log(line().append("qemu crash: main loop, start ").append_decimal(load(crash_area.starts)));
  for (std::uint32_t fed = 0;; ++fed) {
    __atomic_store_n(&crash_area.watchdog, fed, __ATOMIC_RELAXED);
    if (const auto command = static_cast<qemu_remote::crash_command>(load(crash_area.command));
        command != qemu_remote::crash_command::none) {
      store(crash_area.command, 0);
      crash_on(command);
    }
    if (const auto n = mailbox.peek(shared_mailbox::direction::host_to_remote)) {
      if (n->kind == rproc::notification_kind::detach) {
        link.detach_notified();
        (void)link.poll();
      }
      mailbox.acknowledge(shared_mailbox::direction::host_to_remote);
    }
    if (link.poll() != rproc::firmware::link_event::attached) continue;
    store(crash_area.vring0_da, link.assignment().vrings[0].da);
    store(crash_area.connections, load(crash_area.connections) + 1);
  }
}

int main() {
  shared_mailbox mailbox(mailbox_memory);
  store(crash_area.starts, 0);
  log(line().append("qemu crash: table at ").append_hex(qemu_remote::table_da)
          .append(", crash area at ").append_hex(qemu_remote::crash_area_da).append(", waiting"));
  mailbox.set_up_remote_end();
  board::start_millisecond_tick();
  main_loop();
}
