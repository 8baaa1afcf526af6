// Where the QEMU remote keeps what it shares with its host, known to both sides: mps2-an386's
// 16 MiB of PSRAM at 0x21000000, which QEMU backs with a file the host maps too. The firmware's
// own part (table, mailbox, trace buffer) is the first MiB; the next MiB is set aside for the
// host's carveouts and vrings, except the vring the firmware fixes at its top.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qemu_remote {

inline constexpr std::uint32_t psram_da = 0x21000000;
inline constexpr std::size_t psram_size = 16 * 1024 * 1024;

inline constexpr std::uint32_t firmware_window_da = psram_da;
inline constexpr std::size_t firmware_window_size = 0x100000;
inline constexpr std::uint32_t table_da = psram_da;            // .resource_table
inline constexpr std::uint32_t mailbox_da = psram_da + 0x800;  // .mailbox: a shared_mailbox
inline constexpr std::uint32_t trace_da = psram_da + 0x1000;   // .trace_buffer
inline constexpr std::uint32_t trace_len = 4096;

inline constexpr std::uint32_t pool_da = psram_da + 0x100000;  // the host's allocations
inline constexpr std::size_t pool_size = 0x100000;
inline constexpr std::uint32_t fixed_vring_da = pool_da + 0xF0000;  // vring 1, fixed by the firmware

// What the firmware writes at the start of vring 0's memory after each attach, and the host reads:
// `magic` last, once the rest is written.
struct remote_message {
  std::uint32_t magic;           // message_magic
  std::uint32_t attaches;        // attaches the firmware has seen since it booted, this one too
  std::uint32_t vring_da[2];     // the vring addresses it read in its table
  std::uint32_t notifyid[2];
  std::uint32_t clean_detaches;  // detaches after which its table was the original again
  std::uint32_t dirty_detaches;  // detaches after which it was not
  char text[40];                 // "hello from the remote, attach N"
};
inline constexpr std::uint32_t message_magic = 0x47534D52u;  // "RMSG" in a little-endian dump

}  // namespace qemu_remote
