// What the QEMU remote's rpmsg echo firmware shares with its host besides its table and mailbox
// (memory_map.hpp): a block in the firmware's window where it counts what it did and reports the
// last fault of its bus, and where the host sets the switch of a negative control. Both sides
// access each word with __atomic builtins; the firmware clears the block before its mailbox says
// it is up.
#pragma once

#include <cstdint>

#include "memory_map.hpp"

namespace qemu_remote {

inline constexpr std::uint32_t rpmsg_status_da = psram_da + 0x2000;
inline constexpr std::uint32_t rpmsg_echo_address = 1024;  // the firmware's echo endpoint

struct rpmsg_status {
  // The host's: non-zero, the firmware keeps its virtqueue state across the next detach and
  // attach (the negative control of a firmware that keeps its old ring indices).
  std::uint32_t keep_ring_state;
  // The firmware's, from its boot on.
  std::uint32_t bus_attaches;   // times its bus started afresh on the host's rings
  std::uint32_t bus_detaches;   // times it forgot them
  std::uint32_t echoed;         // messages echoed
  std::uint32_t faults;         // bus faults seen (poll, attach or echo); written after `fault`
  std::uint32_t fault_code;     // the last: an rproc::errc
  std::uint32_t fault_entry;    // its vring (0xFFFFFFFF when none)
  std::uint32_t fault_offset;   // in the ring (or buffer)
  std::uint32_t fault_value;
};

}  // namespace qemu_remote
